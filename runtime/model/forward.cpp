#include "model/forward.h"

#include <algorithm>
#include <string>

#include "common/error.h"
#include "ops/embedding.h"
#include "ops/quantize_q8_0.h"

namespace tern {
namespace {

// Offsets of parts of n rows of the given widths (f32) laid out one after another, each
// starting where storage-buffer bindings accept it; *back_to_back: no padding between them.
std::vector<uint64_t> part_offsets(uint64_t align, uint32_t n, std::initializer_list<uint32_t> widths,
                                   bool* back_to_back) {
  std::vector<uint64_t> at;
  uint64_t end = 0;
  *back_to_back = true;
  for (uint32_t w : widths) {
    const uint64_t start = (end + align - 1) / align * align;
    *back_to_back = *back_to_back && start == end;
    at.push_back(start);
    end = start + uint64_t(n) * w * 4;
  }
  return at;
}

uint64_t parts_bytes(uint64_t align, uint32_t n, std::initializer_list<uint32_t> widths) {
  uint64_t bytes = 0;
  for (uint32_t w : widths) bytes += uint64_t(n) * w * 4 + align;
  return bytes;
}

}  // namespace

Forward::Forward(std::shared_ptr<const Model> model, KvCache& kv, uint32_t max_batch, const ForwardOptions& o)
    : model_(std::move(model)),
      c_(model_->config()),
      kv_(kv),
      max_batch_(max_batch),
      max_logit_rows_(o.max_logit_rows ? std::min(o.max_logit_rows, max_batch) : max_batch),
      rec_(model_->device()),
      numerics_(o.numerics),
      fuse_(o.fusion),
      fuse_norm_(o.norm_fusion.value_or(model_->device().tuning().norm_fusion)) {
  sliding_ = o.sliding;
  const uint64_t B = max_batch;
  if (numerics_.any()) {
    // What ref::LlamaForward imitates: ggml's f16 cache, normal-mode unscaled RoPE.
    check(kv.dtype() == GgmlType::F16, Status::Unsupported, "llama.cpp numerics need an f16 KV cache");
    check(!o.rope && !c_.rope_neox && c_.rope_scaling.type == tern::RopeScaling::None &&
              model_->rope_freq_factors().empty() && model_->rope_attn_factor() == 1.f,
          Status::Unsupported, "llama.cpp numerics need the model's own unscaled interleaved (llama) RoPE");
  }
  ids_ = make(B * 4, "token ids");
  pos_ = make(B * 4, "positions");
  if (o.keys == KeyStorage::Shifted) rot_pos_ = make(B * 4, "rotation positions");
  slot_pos_ = make(uint64_t(kv.slots()) * 4, "slot positions");
  rope_ = std::make_unique<Rotary>(model_->device(), c_,
                                   o.rope.value_or(Rotary::Table{model_->rope_freqs(), model_->rope_attn_factor()}),
                                   numerics_.rope, max_batch);
  x_ = make(B * c_.n_embd * 4, "activations x");
  h_ = make(B * c_.n_embd * 4, "activations h");
  part_align_ = std::max<uint64_t>(16, model_->device().info().min_storage_buffer_offset_alignment);
  qkv_ = make(parts_bytes(part_align_, max_batch, {c_.q_dim(), c_.kv_dim(), c_.kv_dim()}), "activations q, k, v");
  att_ = make(B * c_.q_dim() * 4, "activations attention");
  o_ = make(B * c_.n_embd * 4, "activations o");
  gate_up_ = make(parts_bytes(part_align_, max_batch, {c_.n_ff, c_.n_ff}), "activations gate, up");
  last_ = make(uint64_t(max_logit_rows_) * c_.n_embd * 4, "logit rows");
  logits_ = make(uint64_t(max_logit_rows_) * c_.n_vocab * 4, "logits");
  keys_ = make_key_path(o.keys, model_->device(), kv, c_, numerics_, max_batch, o.sinks);
  layers_.assign(c_.n_layer, LayerAttention{rope_.get()});  // global layers: the model's RoPE (or the override)
  if (c_.has_sliding_layers()) {  // sliding-window layers: their own base, no scaling, and the window
    rope_swa_ = std::make_unique<Rotary>(model_->device(), c_, Rotary::Table{model_->rope_freqs_swa(), 1.f},
                                         numerics_.rope, max_batch);
    for (uint32_t l = 0; l < c_.n_layer; ++l)
      if (c_.sliding(l)) layers_[l] = LayerAttention{rope_swa_.get(), c_.swa_window};
  }
  if (sliding_) {
    check(c_.has_sliding_layers(), Status::Internal, "a sliding-window ring for a model without such layers");
    for (uint32_t l = 0; l < c_.n_layer; ++l)
      check(!c_.sliding(l) || kv.slots(l) >= sliding_->slots(), Status::Internal,
            "the KV cache's sliding-window layers are shorter than their ring");
    swa_pos_ = make(B * 4, "sliding-window positions");
    swa_slot_pos_ = make(uint64_t(sliding_->slots()) * 4, "sliding-window slot positions");
  }
  if (numerics_.q8_activations) {
    uint64_t q8 = 16;
    for (uint32_t cols : {c_.n_embd, c_.q_dim(), c_.n_ff})
      if (cols % 32 == 0) q8 = std::max(q8, ops::q8_act_layout(model_->device(), max_batch, cols).total());
    q8_ = make(q8, "q8_0 activations");
  }
  if (model_->has_beacon_projections()) beacon_ = make(B * std::max(c_.q_dim(), c_.n_embd) * 4, "beacon projections");
  reserve_selection(1, 1);  // a context's steps have one logit row
}

gpu::Buffer Forward::make(uint64_t bytes, const char* what) {
  device_bytes_ += bytes;
  return model_->device().allocator().create(bytes, gpu::MemoryUse::Device, what);
}

uint64_t Forward::device_bytes() const {
  return device_bytes_ + rope_->device_bytes() + (rope_swa_ ? rope_swa_->device_bytes() : 0) + keys_->device_bytes();
}

Forward::Parts Forward::parts(uint32_t n) const {
  Parts p;
  const auto qkv = part_offsets(part_align_, n, {c_.q_dim(), c_.kv_dim(), c_.kv_dim()}, &p.qkv_back_to_back);
  const auto gu = part_offsets(part_align_, n, {c_.n_ff, c_.n_ff}, &p.gate_up_back_to_back);
  p.q = gpu::BufferRef(qkv_, qkv[0], uint64_t(n) * c_.q_dim() * 4);
  p.k = gpu::BufferRef(qkv_, qkv[1], uint64_t(n) * c_.kv_dim() * 4);
  p.v = gpu::BufferRef(qkv_, qkv[2], uint64_t(n) * c_.kv_dim() * 4);
  p.gate = gpu::BufferRef(gate_up_, gu[0], uint64_t(n) * c_.n_ff * 4);
  p.up = gpu::BufferRef(gate_up_, gu[1], uint64_t(n) * c_.n_ff * 4);
  return p;
}

void Forward::run(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, std::vector<float>& out) {
  run(step, tokens, logits, 0);
  read_logits(out);
}

// One step, as llama2.c's forward() reads, for every row of the step at once.
void Forward::run(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, uint32_t select_k) {
  logit_rows_ = 0;  // a step that fails leaves no logits
  selected_.clear();
  const StepPlan p = plan(step, tokens, logits, select_k);  // every check, before anything is recorded
  rec_.begin();
  embed(p);                                  // x = token_embd[token]
  for (uint32_t l = 0; l < c_.n_layer; ++l) {
    attention_block(l, p);                   // x += Wo attention(rope(Wq h), rope(Wk h), Wv h),  h = rmsnorm(x)
    ffn_block(l, p);                         // x += W_down (silu(W_gate h) * W_up h),            h = rmsnorm(x)
  }
  output_head(p);                            // logits = W_out rmsnorm(x), on the rows that need them
  rec_.submit_and_wait();
  read_selection(p);
}

StepPlan Forward::plan(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, uint32_t select_k) {
  StepRules r;
  r.config = &c_;
  r.eos = model_->tokenizer().eos();
  r.max_rows = max_batch_;
  r.max_logit_rows = max_logit_rows_;
  r.cache_slots = kv_.slots();
  r.keys_rotated = keys_->storage() == KeyStorage::Rotated;
  r.numerics = numerics_;
  r.fusion = fuse_;
  r.norm_fusion = fuse_norm_;
  parts_ = parts(uint32_t(step.rows.size()));
  StepPlan p = plan_step(step, tokens, logits, select_k, r, parts_.qkv_back_to_back, parts_.gate_up_back_to_back);
  // Sliding-window layers without a ring read the global layers' cache, masked by text
  // position: only a cache in text order (the dense policy) holds what they need.
  check(!c_.has_sliding_layers() || sliding_ || p.kv.in_order, Status::Unsupported,
        "a model with sliding-window layers needs the dense KV policy or a ring for those layers");
  if (sliding_) plan_ring(p);
  p.head_piece = head_piece_rows(select_k);  // throws before recording when no row fits
  p.kv.row_pos = gpu::BufferRef(pos_, 0, uint64_t(p.n) * 4);
  p.kv.key_pos = gpu::BufferRef(slot_pos_, 0, uint64_t(p.kv.n_kv) * 4);
  auto& alloc = model_->device().allocator();
  alloc.write(ids_, 0, p.ids.data(), uint64_t(p.n) * 4);
  alloc.write(pos_, 0, p.positions.data(), uint64_t(p.n) * 4);
  alloc.write(slot_pos_, 0, p.kv.slot_pos.data(), uint64_t(p.kv.n_kv) * 4);
  p.kv.rot_pos = p.kv.row_pos;
  if (keys_->storage() == KeyStorage::Shifted && step.key_offset) {
    std::vector<int32_t> rot(p.positions);
    for (int32_t& at : rot) at += int32_t(step.key_offset);
    alloc.write(rot_pos_, 0, rot.data(), uint64_t(p.n) * 4);
    p.kv.rot_pos = gpu::BufferRef(rot_pos_, 0, uint64_t(p.n) * 4);
    p.kv.key_offset = step.key_offset;
  }
  rope_->upload(p.positions);
  if (rope_swa_) rope_swa_->upload(p.positions);
  return p;
}

void Forward::rebase_keys(std::span<const int32_t> slot_pos, uint32_t offset) {
  if (keys_->storage() != KeyStorage::Shifted || offset == 0) return;
  rec_.begin();
  for (uint32_t l = 0; l < c_.n_layer; ++l)
    if (!(sliding_ && c_.sliding(l))) keys_->rebase(rec_, l, layers_[l], slot_pos, offset);  // the ring has no offset
  rec_.submit_and_wait();
}

// The sliding-window layers' view of the step: its rows at their text positions in the ring.
void Forward::plan_ring(StepPlan& p) {
  check(p.beacon_rows.empty(), Status::Unsupported, "beacon rows on a model with sliding-window layers");
  swa_step_ = sliding_->plan(p.n);  // throws for a step the ring cannot hold whole
  StepPlan::Kv& v = p.swa.emplace();
  v.n_kv = sliding_->slots();
  v.slot_pos = swa_step_.slot_pos;
  v.in_order = false;
  v.runs = slot_runs(swa_step_.slots);
  // One run: the key paths bind the run's row positions at its first row, which must be the
  // step's first (storage-buffer offsets are aligned); Context ends its steps where the ring wraps.
  check(v.runs.size() == 1, Status::Internal, "a step that wraps the sliding-window ring");
  v.row_pos = v.rot_pos = gpu::BufferRef(swa_pos_, 0, uint64_t(p.n) * 4);
  v.key_pos = gpu::BufferRef(swa_slot_pos_, 0, uint64_t(v.n_kv) * 4);
  auto& alloc = model_->device().allocator();
  alloc.write(swa_pos_, 0, swa_step_.positions.data(), uint64_t(p.n) * 4);
  alloc.write(swa_slot_pos_, 0, swa_step_.slot_pos.data(), uint64_t(v.n_kv) * 4);
}

// x = token_embd[id] * embd_scale for every row (gemma3: sqrt(n_embd), else 1); beacon rows take
// the model's beacon embedding when it has one (else they embed as EOS: StepPlan::ids).
void Forward::embed(const StepPlan& p) {
  ops::embedding(rec_, model_->token_embd(), ids_, x_, p.n, c_.embd_scale);
  const ops::WeightView& be = model_->beacon_embd();
  if (!be.rows || p.beacon_rows.empty()) return;
  std::vector<VkBufferCopy> regions;
  const uint64_t E4 = uint64_t(c_.n_embd) * 4;
  for (uint32_t r : p.beacon_rows) regions.push_back({be.buf.offset, r * E4, E4});
  rec_.copy(*be.buf.buffer, x_, regions);
}

// x += Wo softmax(q K^T / sqrt(head_dim)) V, where q = rope(Wq h + bq), the cache holds
// k = rope(Wk h + bk) and v = Wv h + bv of every visible row, and h = rmsnorm(x) * attn_norm.
// qwen3 and gemma3 normalise q and k per head before RoPE; gemma3 normalises the block's output
// before adding it (post_attention_norm); a sliding-window layer sees only its last W positions,
// with its own RoPE (LayerAttention).
void Forward::attention_block(uint32_t l, const StepPlan& p) {
  const LayerWeights& L = model_->layer(l);
  const LayerAttention& a = layers_[l];
  project_qkv(L, p);                                                       // q, k, v = Wq h + bq, Wk h + bk, Wv h + bv
  if (c_.qk_norm) norm_heads(L, p);                                        // q, k = rmsnorm(q) * q_norm, rmsnorm(k) * k_norm
  const StepPlan::Kv& kv = a.window && p.swa ? *p.swa : p.kv;            // the ring, or the cache
  a.rope->rotate(rec_, parts_.q, kv.rot_pos, parts_.q, p.n, c_.n_head);    // q = rope(q, position (+ key offset))
  keys_->store(rec_, l, a, parts_.k, parts_.v, p.n, kv);  // cache[slot] = k, v (k rotated where the key path stores it so)
  keys_->attend(rec_, l, a, parts_.q, att_, p.n, kv);     // att = softmax(q K^T / sqrt(head_dim)) V
  project_out(L, p);                                // x += Wo att
}

// x += W_down (act(W_gate h) * W_up h), where h = rmsnorm(x) * ffn_norm and act is SiLU (SwiGLU)
// or the tanh GELU (GeGLU, gemma3, which also normalises the output: post_ffw_norm).
void Forward::ffn_block(uint32_t l, const StepPlan& p) {
  const LayerWeights& L = model_->layer(l);
  project_gate_up(L, p);  // gate, up = W_gate h, W_up h
  project_down(L, p);     // x += W_down (act(gate) * up)
}

}  // namespace tern

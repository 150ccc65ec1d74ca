#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "common/env.h"
#include "common/error.h"
#include "ops/add.h"
#include "ops/argmax.h"
#include "ops/attention.h"
#include "ops/bias_add.h"
#include "ops/embedding.h"
#include "ops/kv_store.h"
#include "ops/matmul.h"
#include "ops/quantize_q8_0.h"
#include "ops/rms_norm.h"
#include "ops/rope.h"
#include "ops/rope_ggml_table.h"
#include "ops/rope_mode.h"
#include "ops/silu_mul.h"

namespace tern {
namespace {

// TERN_FUSE=0 turns the forward pass's fusions off (A/B benchmarks, debugging).
bool fusion_default() { return env_bool("TERN_FUSE").value_or(true); }

// TERN_FUSE_NORM=0 or 1 sets the RMSNorm-into-product fusion; by default it is off on CPU
// devices only, where it measured slower (BENCHMARKS.md).
bool norm_fusion_default(const gpu::Device& dev) {
  return env_bool("TERN_FUSE_NORM").value_or(dev.info().type != gpu::DeviceType::Cpu);
}

// The parts (q, k, v or gate, up) of one activation buffer for a step of n rows: part i holds
// n rows of widths[i] floats, parts in order, each at an offset storage-buffer bindings accept.
// back_to_back: no padding between them, the layout a stacked product (LayerWeights::wqkv,
// w_gate_up) writes for one row.
struct Parts {
  std::vector<gpu::BufferRef> refs;
  bool back_to_back = true;
};

Parts activation_parts(const gpu::Buffer& b, uint64_t align, uint32_t n, std::initializer_list<uint32_t> widths) {
  Parts p;
  uint64_t end = 0;
  for (uint32_t w : widths) {
    const uint64_t start = (end + align - 1) / align * align;
    p.back_to_back = p.back_to_back && start == end;
    p.refs.emplace_back(b, start, uint64_t(n) * w * 4);
    end = start + uint64_t(n) * w * 4;
  }
  return p;
}

uint64_t parts_bytes(uint64_t align, uint32_t n, std::initializer_list<uint32_t> widths) {
  uint64_t bytes = 0;
  for (uint32_t w : widths) bytes += uint64_t(n) * w * 4 + align;
  return bytes;
}

// Bytes of one logit row's selection: an argmax id, or select_k top-k entries.
uint64_t selection_row_bytes(uint32_t select_k) {
  return select_k == 1 ? 4 : uint64_t(select_k) * sizeof(ops::TopKEntry);
}

// bytes bytes of r from offset off.
gpu::BufferRef sub(const gpu::BufferRef& r, uint64_t off, uint64_t bytes) {
  return gpu::BufferRef(*r.buffer, r.offset + off, bytes);
}

}  // namespace

Forward::Forward(std::shared_ptr<const Model> model, KvCache& kv, uint32_t max_batch, const Rope* rope,
                 Numerics numerics, KeyStorage keys, uint32_t max_logit_rows)
    : model_(std::move(model)),
      kv_(kv),
      max_batch_(max_batch),
      max_logit_rows_(max_logit_rows ? std::min(max_logit_rows, max_batch) : max_batch),
      rec_(model_->device()),
      numerics_(numerics),
      keys_(numerics == Numerics::LlamaCpp ? KeyStorage::Rotated : keys),
      fuse_(fusion_default()),
      fuse_norm_(norm_fusion_default(model_->device())) {
  const ModelConfig& c = model_->config();
  const uint64_t B = max_batch;
  const bool llamacpp = numerics == Numerics::LlamaCpp;
  check(keys_ == KeyStorage::PreRope || kv.dtype() == GgmlType::F16 || kv.dtype() == GgmlType::F32, Status::Internal,
        "keys stored rotated need an f16 or f32 KV cache");
  if (llamacpp) {
    // What ref::LlamaCppNumerics imitates: ggml's f16 cache of rotated keys, normal-mode RoPE.
    check(kv.dtype() == GgmlType::F16, Status::Unsupported, "llama.cpp numerics need an f16 KV cache");
    check(!rope && !c.rope_neox && c.rope_scaling.type == ops::RopeScaling::None &&
              model_->rope_freq_factors().empty() && model_->rope_attn_factor() == 1.f,
          Status::Unsupported, "llama.cpp numerics need the model's own unscaled interleaved (llama) RoPE");
  }
  ids_ = make(B * 4, "token ids");
  pos_ = make(B * 4, "positions");
  slot_pos_ = make(uint64_t(kv.slots()) * 4, "slot positions");
  const std::vector<float>& freqs = rope ? rope->freqs : model_->rope_freqs();
  check(freqs.size() == model_->rope_freqs().size(), Status::Internal, "RoPE table of the wrong size");
  rope_attn_factor_ = rope ? rope->attn_factor : model_->rope_attn_factor();
  freqs_ = make(freqs.size() * 4, "rope frequencies");
  model_->device().allocator().write(freqs_, 0, freqs.data(), freqs.size() * 4);
  x_ = make(B * c.n_embd * 4, "activations x");
  h_ = make(B * c.n_embd * 4, "activations h");
  part_align_ = std::max<uint64_t>(16, model_->device().info().min_storage_buffer_offset_alignment);
  qkv_ = make(parts_bytes(part_align_, max_batch, {c.q_dim(), c.kv_dim(), c.kv_dim()}), "activations q, k, v");
  att_ = make(B * c.q_dim() * 4, "activations attention");
  o_ = make(B * c.n_embd * 4, "activations o");
  gate_up_ = make(parts_bytes(part_align_, max_batch, {c.n_ff, c.n_ff}), "activations gate, up");
  last_ = make(uint64_t(max_logit_rows_) * c.n_embd * 4, "logit rows");
  logits_ = make(uint64_t(max_logit_rows_) * c.n_vocab * 4, "logits");
  // Split (flash-decoding) attention needs scratch growing with the cache; size it for the
  // largest query count that kernel takes.
  uint64_t scratch = 16;
  for (uint32_t nq = 1; nq <= max_batch; ++nq) {
    ops::AttentionParams ap;
    ap.n_q = nq;
    ap.n_kv = kv.slots();
    ap.n_head = c.n_head;
    ap.n_head_kv = c.n_head_kv;
    ap.head_dim = c.head_dim;
    ap.kv_type = kv.dtype() == GgmlType::F32 ? GgmlType::F32 : GgmlType::F16;
    ap.v_type = kv.dtype();
    ap.ggml_numerics = llamacpp;
    if (ops::attention_kernel(ap) != ops::AttentionKernel::Split) break;
    scratch = std::max<uint64_t>(scratch, ops::attention_scratch_bytes(ap));
  }
  scratch_ = make(scratch, "attention scratch");
  const uint32_t rot_elem = kv.dtype() == GgmlType::F32 ? 4 : 2;  // rotated keys: f32 for an f32 cache, else f16
  // PreRope: every slot's key, rotated each step. Rotated: attention reads the cache itself; an
  // f16 cache stages the step's new keys as f16 here (rope_f16 then rotates them into their
  // slots, the rounding PreRope's path has); f32 keys and LlamaCpp's rotate in place.
  uint64_t rot_bytes = uint64_t(kv.slots()) * c.kv_dim() * rot_elem;
  if (keys_ == KeyStorage::Rotated)
    rot_bytes = llamacpp || kv.dtype() == GgmlType::F32 ? 16 : B * ops::kv_row_bytes(GgmlType::F16, c.kv_dim());
  k_rot_ = make(rot_bytes, "rotated keys");
  if (llamacpp) {
    uint64_t q8 = 16;
    for (uint32_t cols : {c.n_embd, c.q_dim(), c.n_ff})
      if (cols % 32 == 0) q8 = std::max(q8, ops::q8_act_layout(model_->device(), max_batch, cols).total());
    q8_ = make(q8, "q8_0 activations");
    cos_sin_ = make(B * c.n_rot * 4, "rope cos/sin");
  }
  if (model_->has_beacon_projections()) beacon_ = make(B * std::max(c.q_dim(), c.n_embd) * 4, "beacon projections");
  reserve_selection(1, 1);  // a context's steps have one logit row
}

void Forward::reserve_selection(uint32_t rows, uint32_t piece) {
  if (rows <= select_rows_ && piece <= select_piece_) return;
  rows = std::max(rows, select_rows_);
  piece = std::max(piece, select_piece_);
  const ModelConfig& c = model_->config();
  const auto& dev = model_->device();
  device_bytes_ -= select_out_.size() + select_scratch_.size();
  select_out_ = make(uint64_t(rows) * ops::k_top_k_max * sizeof(ops::TopKEntry), "selection output");
  const uint64_t scratch = std::max({ops::argmax_scratch_bytes(piece, c.n_vocab),
                                     ops::top_k_scratch_bytes(dev, piece, c.n_vocab, std::min(ops::k_top_k_max, c.n_vocab)),
                                     uint64_t(16)});
  select_scratch_ = make(scratch, "selection scratch");
  select_rows_ = rows;
  select_piece_ = piece;
}

DenseStep::DenseStep(std::span<const int32_t> toks, uint32_t first, bool all_logits) : tokens(toks.begin(), toks.end()) {
  const uint32_t n = uint32_t(toks.size());
  for (uint32_t i = 0; i < n; ++i) {
    positions.push_back(int32_t(first + i));
    slots.push_back(first + i);
    if (all_logits || i + 1 == n) logit_rows.push_back(i);
  }
  for (uint32_t i = 0; i < first + n; ++i) slot_pos.push_back(int32_t(i));
}

ForwardStep DenseStep::step() const { return ForwardStep{tokens, positions, slots, slot_pos, logit_rows}; }

void Forward::copy_rows(const gpu::Buffer& src, gpu::BufferRef dst, const std::vector<uint32_t>& rows,
                        uint64_t row_bytes) {
  std::vector<VkBufferCopy> regions;
  for (uint32_t r : rows) regions.push_back({r * row_bytes, dst.offset + r * row_bytes, row_bytes});
  rec_.copy(src, *dst.buffer, regions);
}

void Forward::matmul(const ops::WeightView& w, gpu::BufferRef x, gpu::BufferRef y, uint32_t n, const MatmulArgs& a) {
  ops::MatmulOptions opt;
  if (numerics_ == Numerics::LlamaCpp) {
    opt.q8_activations = true;
    opt.q8_scratch = q8_;
  }
  opt.accumulate = a.accumulate;
  opt.swiglu_up = a.swiglu_up;
  if (a.norm) {
    opt.rms_norm_weight = a.norm->buf;
    opt.rms_norm_eps = model_->config().rms_eps;
  }
  const bool swiglu = a.swiglu_up.buffer != nullptr;
  const bool q8 = ops::uses_q8_activations(w.type, opt);
  opt.q8_scratch_ready = q8 && a.same_input && last_used_q8_;
  last_used_q8_ = q8 && !swiglu;  // a SwiGLU input leaves silu(x) * up quantised, not x
  ops::matmul(rec_, w, x, y, n, opt);
}

void Forward::rms_norm(const gpu::Buffer& x, const ops::WeightView& w, const gpu::Buffer& y, uint32_t n) {
  const ModelConfig& c = model_->config();
  if (numerics_ == Numerics::LlamaCpp)
    ops::rms_norm_ggml(rec_, x, w.buf, y, n, c.n_embd, c.rms_eps);
  else  // the reduction fused norms replay, so they give these bits
    ops::rms_norm(rec_, x, w.buf, y, n, c.n_embd, c.rms_eps, ops::rms_norm_input_reduction(rec_.device()));
}

void Forward::beacon_projection(const ops::WeightView& w, const ops::WeightView& bias, const gpu::Buffer& in,
                                gpu::BufferRef out, uint32_t n, uint32_t out_elems, const std::vector<uint32_t>& rows) {
  if (!w.rows || rows.empty()) return;
  matmul(w, in, beacon_, n);
  if (bias.rows) ops::bias_add(rec_, beacon_, bias.buf, beacon_, n, out_elems);
  copy_rows(beacon_, out, rows, uint64_t(out_elems) * 4);
}

gpu::Buffer Forward::make(uint64_t bytes, const char* what) {
  device_bytes_ += bytes;
  return model_->device().allocator().create(bytes, gpu::MemoryUse::Device, what);
}

void Forward::run(const ForwardStep& s, std::vector<float>& logits) {
  run(s, 0);
  read_logits(logits);
}

uint32_t Forward::head_piece_rows(uint32_t select_k) const {
  const ModelConfig& c = model_->config();
  const auto& info = model_->device().info();
  const uint64_t align = std::max<uint64_t>(4, info.min_storage_buffer_offset_alignment);
  const uint64_t logit_bytes = uint64_t(c.n_vocab) * 4;
  const uint64_t select_bytes = selection_row_bytes(select_k);
  // A piece starts at a row whose offset in last_, logits_ and the selection output is aligned.
  uint64_t step = 1;
  for (uint64_t b : {uint64_t(c.n_embd) * 4, logit_bytes, select_bytes})
    step = std::lcm(step, align / std::gcd(b, align));
  const uint64_t range = std::min(info.max_storage_buffer_range, max_logits_binding_);
  const uint64_t fit = range / logit_bytes / step * step;
  check(fit > 0, Status::Unsupported,
        "the device's storage buffer range (" + std::to_string(range) +
            " bytes) cannot hold " + std::to_string(step) + " rows of " + std::to_string(c.n_vocab) + " logits");
  return uint32_t(std::min<uint64_t>(fit, max_logit_rows_));
}

void Forward::head(uint32_t rows, uint32_t piece_rows, uint32_t select_k, bool norm) {
  const ModelConfig& c = model_->config();
  const uint64_t E4 = uint64_t(c.n_embd) * 4, V4 = uint64_t(c.n_vocab) * 4;
  const uint64_t S = selection_row_bytes(select_k);
  // Logits bound in pieces: maxStorageBufferRange (128 MiB on lavapipe and many mobile GPUs)
  // holds only ~220 rows of Qwen2's 151936 logits, less than a prefill batch asking for all.
  const uint32_t piece = std::min(rows, piece_rows);
  if (select_k) reserve_selection(rows, piece);
  for (uint32_t r0 = 0; r0 < rows; r0 += piece) {
    const uint32_t m = std::min(piece, rows - r0);
    const gpu::BufferRef logits = sub(logits_, r0 * V4, m * V4);
    matmul(model_->output(), sub(last_, r0 * E4, m * E4), logits, m,
           {.norm = norm ? &model_->output_norm() : nullptr});
    if (select_k == 1)
      ops::argmax(rec_, logits, sub(select_out_, r0 * S, m * S), select_scratch_, m, c.n_vocab);
    else if (select_k > 1)
      ops::top_k(rec_, logits, sub(select_out_, r0 * S, m * S), select_scratch_, m, c.n_vocab, select_k);
  }
}

void Forward::read_logits(std::vector<float>& logits) {
  logits.resize(size_t(logit_rows_) * model_->config().n_vocab);
  model_->device().allocator().read(logits_, 0, logits.data(), logits.size() * 4);
}

void Forward::run(const ForwardStep& s, uint32_t select_k) {
  const ModelConfig& c = model_->config();
  logit_rows_ = 0;  // a step that fails leaves no logits
  selected_.clear();
  const uint32_t n = uint32_t(s.tokens.size());
  const uint32_t n_kv = uint32_t(s.slot_pos.size());
  check(n > 0 && n <= max_batch_, Status::Internal, "forward batch out of range");
  check(s.positions.size() == n && s.slots.size() == n, Status::Internal, "forward: one position and slot per row");
  check(n_kv > 0 && n_kv <= kv_.slots(), Status::Internal, "forward: slot positions out of range");
  for (uint32_t slot : s.slots) check(slot < n_kv, Status::Internal, "forward: KV slot out of range");
  check(!s.logit_rows.empty() && s.logit_rows.size() <= max_logit_rows_, Status::Internal,
        "forward: no logit rows, or more than max_logit_rows");
  check(select_k <= std::min(ops::k_top_k_max, c.n_vocab), Status::Internal, "forward: selection of too many entries");
  for (uint32_t r : s.logit_rows) check(r < n, Status::Internal, "forward: logit row out of range");
  const uint32_t head_piece = head_piece_rows(select_k);  // throws before recording when no row fits
  const int32_t eos = model_->tokenizer().eos();
  std::vector<int32_t> ids(s.tokens.begin(), s.tokens.end());
  std::vector<uint32_t> beacon_rows;
  for (uint32_t i = 0; i < n; ++i) {
    if (ids[i] == k_beacon_token) {
      beacon_rows.push_back(i);
      ids[i] = eos >= 0 ? eos : 0;  // training-free beacons embed as EOS (the reference's initialisation)
      continue;
    }
    check(ids[i] >= 0 && uint32_t(ids[i]) < c.n_vocab, Status::InvalidArgument,
          "token id " + std::to_string(ids[i]) + " is outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")");
  }
  auto& alloc = model_->device().allocator();
  alloc.write(ids_, 0, ids.data(), n * 4);
  alloc.write(pos_, 0, s.positions.data(), n * 4);
  alloc.write(slot_pos_, 0, s.slot_pos.data(), uint64_t(n_kv) * 4);

  const uint32_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  const auto rope_mode = c.rope_neox ? RopeMode::Neox : RopeMode::Interleaved;
  const float mscale = rope_attn_factor_;
  // Runs of rows going to consecutive slots: one kv_store each.
  struct Run {
    uint32_t row, slot, len;
  };
  std::vector<Run> runs;
  for (uint32_t i = 0; i < n; ++i) {
    if (!runs.empty() && runs.back().row + runs.back().len == i && runs.back().slot + runs.back().len == s.slots[i])
      ++runs.back().len;
    else
      runs.push_back({i, s.slots[i], 1});
  }
  const uint64_t kv_row_bytes = kv_.row_bytes();
  // Slots in text order (a dense cache, or any policy before it evicts or compacts): the plain
  // causal rule says the same as the positions and lets prefill attention stop at the diagonal.
  bool in_order = true;
  for (uint32_t j = 0; j < n_kv && in_order; ++j) in_order = s.slot_pos[j] == int32_t(j);
  for (uint32_t i = 0; i < n && in_order; ++i) in_order = s.slots[i] == s.slots[0] + i && s.positions[i] == int32_t(s.slots[i]);
  const ops::AttentionPositions positions{gpu::BufferRef(slot_pos_, 0, uint64_t(n_kv) * 4),
                                          gpu::BufferRef(pos_, 0, uint64_t(n) * 4)};
  const bool llamacpp = numerics_ == Numerics::LlamaCpp;
  const bool rotated = keys_ == KeyStorage::Rotated;
  check(!rotated || llamacpp || in_order, Status::Internal, "keys stored rotated need steps in text order");
  if (llamacpp) {
    // Keys are rotated before they are stored, so a slot's position can never change.
    check(in_order, Status::Unsupported, "llama.cpp numerics need a dense KV cache in text order");
    const auto table = ops::rope_ggml_cos_sin(s.positions, c.rope_base, c.n_rot);
    alloc.write(cos_sin_, 0, table.data(), table.size() * 4);
  }

  rec_.begin();
  ops::embedding(rec_, model_->token_embd(), ids_, x_, n);
  if (model_->beacon_embd().rows && !beacon_rows.empty()) {
    std::vector<VkBufferCopy> regions;
    const auto& be = model_->beacon_embd().buf;
    for (uint32_t r : beacon_rows) regions.push_back({be.offset, uint64_t(r) * E * 4, uint64_t(E) * 4});
    rec_.copy(*be.buffer, x_, regions);
  }
  const Parts qkv = activation_parts(qkv_, part_align_, n, {Q, KV, KV});
  const Parts gate_up = activation_parts(gate_up_, part_align_, n, {F, F});
  const gpu::BufferRef q = qkv.refs[0], k = qkv.refs[1], v = qkv.refs[2], gate = gate_up.refs[0], up = gate_up.refs[1];
  // One row: products of one input can be one stacked product, whose output rows are the parts
  // back to back (a batch's would interleave its rows' parts).
  const bool stack_qkv = fuse_ && n == 1 && qkv.back_to_back, stack_gate_up = fuse_ && n == 1 && gate_up.back_to_back;
  // One-row steps: RMSNorms go into the products that read them (beacon projections read h_).
  const bool fuse_norm = fuse_ && fuse_norm_ && n == 1 && !llamacpp && beacon_rows.empty();
  // The products of one normalised input: x_ with the norm fused, else h_ after rms_norm.
  auto norm_input = [&](const ops::WeightView& norm, std::initializer_list<const ops::WeightView*> ws) {
    bool fused = fuse_norm;
    for (const ops::WeightView* w : ws)
      fused = fused && ops::fuses_rms_norm(w->type, n, {});
    if (!fused) rms_norm(x_, norm, h_, n);
    return std::pair<const gpu::Buffer&, const ops::WeightView*>(fused ? x_ : h_, fused ? &norm : nullptr);
  };
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = model_->layer(l);
    // Attention block.
    if (stack_qkv && L.wqkv.rows) {
      const auto [in, norm] = norm_input(L.attn_norm, {&L.wqkv});
      matmul(L.wqkv, in, sub(q, 0, uint64_t(Q + 2 * KV) * 4), n, {.norm = norm});
    } else {
      const auto [in, norm] = norm_input(L.attn_norm, {&L.wq, &L.wk, &L.wv});
      matmul(L.wq, in, q, n, {.norm = norm});
      matmul(L.wk, in, k, n, {.same_input = true, .norm = norm});
      matmul(L.wv, in, v, n, {.same_input = true, .norm = norm});
    }
    if (c.qkv_bias) {
      ops::bias_add(rec_, q, L.bq.buf, q, n, Q);
      ops::bias_add(rec_, k, L.bk.buf, k, n, KV);
      ops::bias_add(rec_, v, L.bv.buf, v, n, KV);
    }
    beacon_projection(L.wq_beacon, L.bq_beacon, h_, q, n, Q, beacon_rows);
    beacon_projection(L.wk_beacon, L.bk_beacon, h_, k, n, KV, beacon_rows);
    beacon_projection(L.wv_beacon, L.bv_beacon, h_, v, n, KV, beacon_rows);
    if (llamacpp) {
      ops::rope_ggml(rec_, q, cos_sin_, q, n, c.n_head, c.head_dim, c.n_rot);
      ops::rope_ggml(rec_, k, cos_sin_, k, n, c.n_head_kv, c.head_dim, c.n_rot);
    } else {
      ops::rope(rec_, q, pos_, freqs_, q, n, c.n_head, c.head_dim, c.n_rot, rope_mode, mscale);
    }
    // PreRope: keys go to the cache as they are and the cache's keys are rotated with this step's
    // slot positions just before attention. Rotated: keys are rotated on their way in
    // (LlamaCpp's already are).
    for (const Run& r : runs) {
      const gpu::BufferRef k_rows = sub(k, uint64_t(r.row) * KV * 4, uint64_t(r.len) * KV * 4);
      const gpu::BufferRef slot_rows(kv_.k(l), uint64_t(r.slot) * kv_row_bytes, uint64_t(r.len) * kv_row_bytes);
      const gpu::BufferRef row_pos(pos_, uint64_t(r.row) * 4, uint64_t(r.len) * 4);
      if (!rotated || llamacpp) {
        ops::kv_store(rec_, k_rows, kv_.k(l), r.slot, r.len, KV, kv_.dtype());
      } else if (kv_.dtype() == GgmlType::F32) {
        ops::rope(rec_, k_rows, row_pos, freqs_, slot_rows, r.len, c.n_head_kv, c.head_dim, c.n_rot, rope_mode, mscale);
      } else {
        ops::kv_store(rec_, k_rows, k_rot_, r.row, r.len, KV, GgmlType::F16);
        const gpu::BufferRef staged(k_rot_, uint64_t(r.row) * kv_row_bytes, uint64_t(r.len) * kv_row_bytes);
        ops::rope_f16(rec_, staged, row_pos, freqs_, slot_rows, r.len, c.n_head_kv, c.head_dim, c.n_rot, rope_mode,
                      mscale);
      }
      ops::kv_store(rec_, sub(v, uint64_t(r.row) * KV * 4, uint64_t(r.len) * KV * 4), kv_.v(l), r.slot, r.len, KV,
                    kv_.dtype());
    }
    const gpu::BufferRef keys(kv_.k(l), 0, uint64_t(n_kv) * kv_row_bytes);
    if (!rotated) {
      if (kv_.dtype() == GgmlType::F32)
        ops::rope(rec_, keys, positions.key_pos, freqs_, k_rot_, n_kv, c.n_head_kv, c.head_dim, c.n_rot, rope_mode,
                  mscale);
      else  // f16 or q8_0 cache rows in, f16 rotated keys out
        ops::rope_f16(rec_, keys, positions.key_pos, freqs_, k_rot_, n_kv, c.n_head_kv, c.head_dim, c.n_rot,
                      rope_mode, mscale, kv_.dtype());
    }
    ops::AttentionParams ap;
    ap.n_q = n;
    ap.n_kv = n_kv;
    ap.n_head = c.n_head;
    ap.n_head_kv = c.n_head_kv;
    ap.head_dim = c.head_dim;
    ap.scale = 1.f / std::sqrt(float(c.head_dim));
    ap.kv_type = kv_.dtype() == GgmlType::F32 ? GgmlType::F32 : GgmlType::F16;  // of the rotated keys
    ap.v_type = kv_.dtype();
    ap.q_pos0 = s.slots[0];
    ap.ggml_numerics = llamacpp;
    ops::attention(rec_, ap, q, rotated ? keys : gpu::BufferRef(k_rot_), kv_.v(l), att_, std::nullopt, scratch_,
                   in_order ? nullptr : &positions);
    // The O product goes straight into the residual stream (x += Wo att), unless beacon rows
    // replace some of its rows with the beacon O projection: then it is made on its own first.
    if (fuse_ && !(L.wo_beacon.rows && !beacon_rows.empty())) {
      matmul(L.wo, att_, x_, n, {.accumulate = true});
    } else {
      matmul(L.wo, att_, o_, n);
      beacon_projection(L.wo_beacon, {}, att_, o_, n, E, beacon_rows);
      ops::add(rec_, x_, o_, x_, n * E);
    }
    // Feed-forward block (SwiGLU): x += W_down (silu(W_gate h) * W_up h).
    if (stack_gate_up && L.w_gate_up.rows) {
      const auto [in, norm] = norm_input(L.ffn_norm, {&L.w_gate_up});
      matmul(L.w_gate_up, in, sub(gate, 0, uint64_t(2 * F) * 4), n, {.norm = norm});
    } else {
      const auto [in, norm] = norm_input(L.ffn_norm, {&L.w_gate, &L.w_up});
      matmul(L.w_gate, in, gate, n, {.norm = norm});
      matmul(L.w_up, in, up, n, {.same_input = true, .norm = norm});
    }
    if (fuse_) {  // silu(gate) * up computed as the down product loads it, the sum into x
      matmul(L.w_down, gate, x_, n, {.accumulate = true, .swiglu_up = up});
    } else {
      ops::silu_mul(rec_, gate, up, gate, n * F);
      matmul(L.w_down, gate, o_, n);
      ops::add(rec_, x_, o_, x_, n * E);
    }
  }
  // Gather the rows that need logits, then the head on those only.
  const uint32_t rows = uint32_t(s.logit_rows.size());
  std::vector<VkBufferCopy> gather;
  for (uint32_t j = 0; j < rows; ++j) gather.push_back({uint64_t(s.logit_rows[j]) * E * 4, uint64_t(j) * E * 4, uint64_t(E) * 4});
  rec_.copy(x_, last_, gather);
  // One row: the output norm goes into the head's product (fuses_rms_norm).
  const bool norm_in_head = fuse_norm && rows == 1 && ops::fuses_rms_norm(model_->output().type, 1, {});
  if (!norm_in_head) rms_norm(last_, model_->output_norm(), last_, rows);
  head(rows, head_piece, select_k, norm_in_head);
  rec_.submit_and_wait();
  logit_rows_ = rows;
  if (select_k == 1) {
    std::vector<int32_t> best(rows);
    alloc.read(select_out_, 0, best.data(), best.size() * 4);
    for (int32_t id : best) selected_.push_back({id, std::numeric_limits<float>::quiet_NaN()});
  } else if (select_k > 1) {
    selected_.resize(size_t(rows) * select_k);
    alloc.read(select_out_, 0, selected_.data(), selected_.size() * sizeof(ops::TopKEntry));
  }
}

}  // namespace tern

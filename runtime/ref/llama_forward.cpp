#include "ref/llama_forward.h"

#include <cmath>
#include <cstring>

#include "common/fp16.h"

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/quantize.h"
#include "model/rope_freqs.h"
#include "ref/add.h"
#include "ref/attention.h"
#include "ref/bias_add.h"
#include "ref/embedding.h"
#include "ref/gelu_mul.h"
#include "ref/kv_store.h"
#include "ref/matmul.h"
#include "ref/rms_norm.h"
#include "ref/rope.h"
#include "ref/scale.h"
#include "ref/silu_mul.h"
#include "ref/softcap.h"

namespace tern::ref {

LlamaForward::Weight LlamaForward::weight(const GgufFile& f, const std::string& name, bool optional) const {
  const GgufTensorInfo* t = f.tensor(name);
  if (!t) {
    check(optional, Status::BadModel, "reference forward: missing tensor '" + name + "'");
    return {};
  }
  Weight w;
  w.type = t->type;
  w.data = f.tensor_data(*t);
  w.cols = uint32_t(t->dims[0]);
  w.rows = t->dims.size() > 1 ? uint32_t(t->dims[1]) : 1;
  return w;
}

std::vector<float> LlamaForward::vec(const Weight& w) const {
  const auto* p = static_cast<const float*>(w.data);
  return std::vector<float>(p, p + w.cols);
}

float LlamaForward::stored(float x) const {
  return kv_type_ == GgmlType::F32 ? x : fp16_to_fp32(fp32_to_fp16(x));
}

void LlamaForward::store_row(std::vector<float>& row) const {
  if (kv_type_ != GgmlType::Q8_0) {
    for (float& x : row) x = stored(x);
    return;
  }
  std::vector<uint8_t> blocks(ggml_row_bytes(GgmlType::Q8_0, row.size()));
  quant::quantize_row(GgmlType::Q8_0, row.data(), blocks.data(), int64_t(row.size()));
  quant::dequantize_row(GgmlType::Q8_0, blocks.data(), row.data(), int64_t(row.size()));
}

void LlamaForward::matmul(const Weight& w, const float* x, float* y, uint32_t n) const {
  if (numerics_.q8_activations && w.type == GgmlType::Q8_0)
    ref::matmul_q8_0_q8_act(w.data, w.rows, w.cols, x, y, n);
  else if (numerics_.q8_activations && w.type == GgmlType::Q4_0)
    ref::matmul_q4_0_q8_act(w.data, w.rows, w.cols, x, y, n);
  else
    ref::matmul(w.type, w.data, w.rows, w.cols, x, y, n);
}

void LlamaForward::rms_norm(const float* x, const Weight& w, float* y, uint32_t rows) const {
  const auto wv = vec(w);
  if (numerics_.rms_norm)
    ref::rms_norm_ggml(x, wv.data(), y, rows, w.cols, config_.rms_eps);
  else
    ref::rms_norm(x, wv.data(), y, rows, w.cols, config_.rms_eps);
}

void LlamaForward::rope(float* x, const int32_t* pos, uint32_t n, uint32_t heads, uint32_t layer) const {
  const ModelConfig& c = config_;
  const RopeMode mode = c.rope_neox ? RopeMode::Neox : RopeMode::Interleaved;
  if (numerics_.rope) {
    check(mode == RopeMode::Interleaved && c.rope_scaling.type == tern::RopeScaling::None && !c.sliding(layer),
          Status::Unsupported, "reference forward: llama.cpp RoPE numerics only for unscaled normal-mode RoPE");
    ref::rope_ggml(x, pos, c.rope_base, x, n, heads, c.head_dim, c.n_rot);
  } else if (c.sliding(layer)) {
    ref::rope(x, pos, freqs_swa_.data(), x, n, heads, c.head_dim, c.n_rot, mode, 1.f);
  } else {
    ref::rope(x, pos, freqs_.data(), x, n, heads, c.head_dim, c.n_rot, mode, mscale_);
  }
}

void LlamaForward::add_residual(std::vector<float>& x, std::vector<float>& o, const Weight& post_norm, uint32_t n) const {
  if (post_norm.data) rms_norm(o.data(), post_norm, o.data(), n);
  ref::add(x.data(), o.data(), x.data(), x.size());
}

LlamaForward::LlamaForward(const GgufFile& f, uint32_t n_ctx, GgmlType kv_type, const LlamaCppNumerics& numerics)
    : numerics_(numerics), config_(read_model_config(f)), n_ctx_(n_ctx), kv_type_(kv_type) {
  check(kv_type == GgmlType::F16 || kv_type == GgmlType::F32 || kv_type == GgmlType::Q8_0, Status::InvalidArgument,
        "reference forward: KV type must be f16, f32 or q8_0");
  const auto* tokens = f.find("tokenizer.ggml.tokens");
  if (tokens) config_.n_vocab = uint32_t(tokens->array_size());
  if (const auto* eos = f.find("tokenizer.ggml.eos_token_id"))
    if (const auto id = eos->as_u64(); id && *id < config_.n_vocab) eos_ = int32_t(*id);
  token_embd_ = weight(f, "token_embd.weight");
  output_norm_ = weight(f, "output_norm.weight");
  output_ = weight(f, "output.weight", true);
  if (!output_.data) output_ = token_embd_;
  beacon_embd_ = weight(f, "beacon_embd.weight", true);
  for (uint32_t i = 0; i < config_.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    Layer L;
    L.attn_norm = weight(f, p + "attn_norm.weight");
    L.wq = weight(f, p + "attn_q.weight");
    L.wk = weight(f, p + "attn_k.weight");
    L.wv = weight(f, p + "attn_v.weight");
    L.wo = weight(f, p + "attn_output.weight");
    L.bq = weight(f, p + "attn_q.bias", true);
    L.bk = weight(f, p + "attn_k.bias", true);
    L.bv = weight(f, p + "attn_v.bias", true);
    L.q_norm = weight(f, p + "attn_q_norm.weight", !config_.qk_norm);
    L.k_norm = weight(f, p + "attn_k_norm.weight", !config_.qk_norm);
    L.post_attn_norm = weight(f, p + "post_attention_norm.weight", !config_.post_norms);
    L.post_ffn_norm = weight(f, p + "post_ffw_norm.weight", !config_.post_norms);
    L.ffn_norm = weight(f, p + "ffn_norm.weight");
    L.w_gate = weight(f, p + "ffn_gate.weight");
    L.w_up = weight(f, p + "ffn_up.weight");
    L.w_down = weight(f, p + "ffn_down.weight");
    L.wq_b = weight(f, p + "attn_q_beacon.weight", true);
    L.wk_b = weight(f, p + "attn_k_beacon.weight", true);
    L.wv_b = weight(f, p + "attn_v_beacon.weight", true);
    L.wo_b = weight(f, p + "attn_output_beacon.weight", true);
    L.bq_b = weight(f, p + "attn_q_beacon.bias", true);
    L.bk_b = weight(f, p + "attn_k_beacon.bias", true);
    L.bv_b = weight(f, p + "attn_v_beacon.bias", true);
    layers_.push_back(L);
  }
  freqs_ = tern::rope_freqs(int(config_.n_rot), config_.rope_base, config_.rope_scaling, &mscale_);
  if (config_.has_sliding_layers()) freqs_swa_ = tern::rope_freqs(int(config_.n_rot), config_.rope_base_swa, {});
}

void LlamaForward::project(const Weight& w, const Weight& bias, const Weight& wb, const Weight& bias_b,
                           const float* x, float* y, uint32_t n, std::span<const int32_t> tokens) const {
  for (uint32_t i = 0; i < n; ++i) {
    const bool beacon = tokens[i] == k_ref_beacon_token && wb.data;
    const Weight& m = beacon ? wb : w;
    const Weight& b = beacon ? bias_b : bias;
    float* out = y + size_t(i) * m.rows;
    matmul(m, x + size_t(i) * m.cols, out, 1);
    if (b.data) ref::bias_add(out, vec(b).data(), out, 1, m.rows);
  }
}

std::vector<float> LlamaForward::step(std::span<const KvEntry* const> cached, std::span<const int32_t> cached_pos,
                                      std::span<const int32_t> tokens, std::span<const int32_t> positions,
                                      std::vector<KvEntry>& new_entries, const SlidingView* sliding) const {
  const ModelConfig& c = config_;
  const uint32_t n = uint32_t(tokens.size());
  check(cached_pos.size() == cached.size() && positions.size() == n, Status::Internal,
        "reference step: one position per row");
  // Sliding-window layers see `sliding`, or the same rows with positions as text positions.
  const SlidingView dense_view{cached, cached_pos, positions};
  const SlidingView& sv = sliding ? *sliding : dense_view;
  check(sv.cached_text_pos.size() == sv.cached.size() && sv.text_positions.size() == n, Status::Internal,
        "reference step: one text position per sliding-window row");
  const uint32_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  std::vector<int32_t> ids(tokens.begin(), tokens.end());
  for (int32_t& t : ids)
    if (t == k_ref_beacon_token) t = eos_;
  std::vector<float> x(size_t(n) * E), h(x.size()), o(x.size()), q(size_t(n) * Q), att(q.size()),
      k(size_t(n) * KV), v(k.size()), gate(size_t(n) * F), up(gate.size());
  ref::embedding(token_embd_.type, token_embd_.data, token_embd_.rows, token_embd_.cols, ids.data(), n, x.data());
  if (c.embd_scale != 1.f) ref::scale(x.data(), x.data(), x.size(), c.embd_scale);
  if (beacon_embd_.data)
    for (uint32_t i = 0; i < n; ++i)
      if (tokens[i] == k_ref_beacon_token) std::memcpy(&x[size_t(i) * E], beacon_embd_.data, size_t(E) * 4);
  // What one kind of layer attends over: its cached rows and the step's, every key's position,
  // and the mask that lets row i see keys at positions <= its own (and, with a window W, above
  // its own - W).
  struct Keys {
    std::span<const KvEntry* const> cached;
    std::vector<int32_t> pos;
    std::span<const int32_t> row_pos;
    std::vector<float> mask;
  };
  auto keys_of = [&](std::span<const KvEntry* const> entries, std::span<const int32_t> entry_pos,
                     std::span<const int32_t> row_pos, uint32_t window) {
    Keys kk{entries, std::vector<int32_t>(entry_pos.begin(), entry_pos.end()), row_pos, {}};
    kk.pos.insert(kk.pos.end(), row_pos.begin(), row_pos.end());
    const size_t nk = kk.pos.size();
    kk.mask.resize(size_t(n) * nk);
    for (uint32_t i = 0; i < n; ++i)
      for (size_t j = 0; j < nk; ++j) {
        const bool visible = kk.pos[j] <= row_pos[i] && (!window || int64_t(row_pos[i]) - kk.pos[j] < int64_t(window));
        kk.mask[size_t(i) * nk + j] = visible ? 0.f : -INFINITY;
      }
    return kk;
  };
  const Keys global = keys_of(cached, cached_pos, positions, 0);
  const Keys local = c.has_sliding_layers() ? keys_of(sv.cached, sv.cached_text_pos, sv.text_positions, c.swa_window)
                                            : Keys{};
  new_entries.assign(n, KvEntry{std::vector<std::vector<float>>(c.n_layer), std::vector<std::vector<float>>(c.n_layer)});
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const Layer& L = layers_[l];
    const Keys& kk = c.sliding(l) ? local : global;
    const uint32_t m = uint32_t(kk.cached.size()), nk = m + n;
    rms_norm(x.data(), L.attn_norm, h.data(), n);
    project(L.wq, L.bq, L.wq_b, L.bq_b, h.data(), q.data(), n, tokens);
    project(L.wk, L.bk, L.wk_b, L.bk_b, h.data(), k.data(), n, tokens);
    project(L.wv, L.bv, L.wv_b, L.bv_b, h.data(), v.data(), n, tokens);
    if (c.qk_norm) {  // per head, before RoPE
      rms_norm(q.data(), L.q_norm, q.data(), n * c.n_head);
      rms_norm(k.data(), L.k_norm, k.data(), n * c.n_head_kv);
    }
    rope(q.data(), kk.row_pos.data(), n, c.n_head, l);
    if (keys_rotated_when_stored()) rope(k.data(), kk.row_pos.data(), n, c.n_head_kv, l);
    for (uint32_t i = 0; i < n; ++i) {
      auto& e = new_entries[i];
      e.k[l].assign(k.begin() + std::ptrdiff_t(size_t(i) * KV), k.begin() + std::ptrdiff_t(size_t(i + 1) * KV));
      e.v[l].assign(v.begin() + std::ptrdiff_t(size_t(i) * KV), v.begin() + std::ptrdiff_t(size_t(i + 1) * KV));
      store_row(e.k[l]);
      store_row(e.v[l]);
    }
    std::vector<float> keys(size_t(nk) * KV), values(keys.size());
    for (uint32_t j = 0; j < nk; ++j) {
      const KvEntry& e = j < m ? *kk.cached[j] : new_entries[j - m];
      std::copy(e.k[l].begin(), e.k[l].end(), keys.begin() + std::ptrdiff_t(size_t(j) * KV));
      std::copy(e.v[l].begin(), e.v[l].end(), values.begin() + std::ptrdiff_t(size_t(j) * KV));
    }
    if (!keys_rotated_when_stored()) {
      // Keys rotated with their positions now, then stored as the cache's element type.
      rope(keys.data(), kk.pos.data(), nk, c.n_head_kv, l);
      for (float& kv : keys) kv = stored(kv);
    }
    if (numerics_.attention) {
      check(!c.sliding(l), Status::Unsupported, "reference: llama.cpp attention numerics take no sliding window");
      for (uint32_t j = 0; j < nk; ++j)
        check(kk.pos[j] == int32_t(j), Status::Unsupported, "reference: llama.cpp attention numerics need a dense cache");
      std::vector<uint16_t> kb(keys.size()), vb(values.size());
      for (size_t i = 0; i < keys.size(); ++i) {
        kb[i] = fp32_to_fp16(keys[i]);
        vb[i] = fp32_to_fp16(values[i]);
      }
      ref::AttentionShape s{n, nk, c.n_head, c.n_head_kv, c.head_dim, c.attention_scale(), m};
      ref::attention_ggml(s, q.data(), kb.data(), vb.data(), att.data());
    } else {
      ref::AttentionShape s{n, nk, c.n_head, c.n_head_kv, c.head_dim, c.attention_scale(), 0};
      ref::attention(s, q.data(), keys.data(), values.data(), kk.mask.data(), att.data());
    }
    project(L.wo, {}, L.wo_b, {}, att.data(), o.data(), n, tokens);
    add_residual(x, o, L.post_attn_norm, n);
    rms_norm(x.data(), L.ffn_norm, h.data(), n);
    matmul(L.w_gate, h.data(), gate.data(), n);
    matmul(L.w_up, h.data(), up.data(), n);
    if (c.ffn_act == FfnActivation::GeluTanh)
      ref::gelu_mul(gate.data(), up.data(), gate.data(), gate.size());
    else
      ref::silu_mul(gate.data(), up.data(), gate.data(), gate.size());
    matmul(L.w_down, gate.data(), o.data(), n);
    add_residual(x, o, L.post_ffn_norm, n);
  }
  rms_norm(x.data(), output_norm_, h.data(), n);
  std::vector<float> logits(size_t(n) * output_.rows);
  matmul(output_, h.data(), logits.data(), n);
  if (c.final_logit_softcap > 0.f) ref::softcap(logits.data(), logits.data(), logits.size(), c.final_logit_softcap);
  return logits;
}

std::vector<float> LlamaForward::eval(std::span<const int32_t> tokens) {
  const uint32_t n = uint32_t(tokens.size()), past = n_past();
  check(past + n <= n_ctx_, Status::ContextFull, "reference forward: context full");
  std::vector<const KvEntry*> cached;
  std::vector<int32_t> cached_pos, pos;
  for (uint32_t i = 0; i < past; ++i) {
    cached.push_back(&entries_[i]);
    cached_pos.push_back(int32_t(i));
  }
  for (uint32_t i = 0; i < n; ++i) pos.push_back(int32_t(past + i));
  std::vector<KvEntry> fresh;
  std::vector<float> logits = step(cached, cached_pos, tokens, pos, fresh);
  for (auto& e : fresh) entries_.push_back(std::move(e));
  return logits;
}

}  // namespace tern::ref

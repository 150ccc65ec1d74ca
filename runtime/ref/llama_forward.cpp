#include "ref/llama_forward.h"

#include <cmath>
#include <cstring>

#include "common/error.h"
#include "gguf_reader.h"
#include "ops/rope_freqs.h"
#include "ref/add.h"
#include "ref/attention.h"
#include "ref/bias_add.h"
#include "ref/embedding.h"
#include "ref/kv_store.h"
#include "ref/matmul.h"
#include "ref/rms_norm.h"
#include "ref/rope.h"
#include "ref/silu_mul.h"

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

LlamaForward::LlamaForward(const GgufFile& f, uint32_t n_ctx) : config_(read_model_config(f)), n_ctx_(n_ctx) {
  const auto* tokens = f.find("tokenizer.ggml.tokens");
  if (tokens) config_.n_vocab = uint32_t(tokens->array_size());
  token_embd_ = weight(f, "token_embd.weight");
  output_norm_ = weight(f, "output_norm.weight");
  output_ = weight(f, "output.weight", true);
  if (!output_.data) output_ = token_embd_;
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
    L.ffn_norm = weight(f, p + "ffn_norm.weight");
    L.w_gate = weight(f, p + "ffn_gate.weight");
    L.w_up = weight(f, p + "ffn_up.weight");
    L.w_down = weight(f, p + "ffn_down.weight");
    layers_.push_back(L);
  }
  freqs_ = ops::rope_freqs(int(config_.n_rot), config_.rope_base, config_.rope_scaling, &mscale_);
  k_cache_.assign(config_.n_layer, std::vector<uint16_t>(size_t(n_ctx) * config_.kv_dim()));
  v_cache_.assign(config_.n_layer, std::vector<uint16_t>(size_t(n_ctx) * config_.kv_dim()));
}

std::vector<float> LlamaForward::eval(std::span<const int32_t> tokens) {
  const ModelConfig& c = config_;
  const uint32_t n = uint32_t(tokens.size());
  check(n_past_ + n <= n_ctx_, Status::ContextFull, "reference forward: context full");
  const uint32_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  const RopeMode mode = c.rope_neox ? RopeMode::Neox : RopeMode::Interleaved;
  std::vector<int32_t> pos(n);
  for (uint32_t i = 0; i < n; ++i) pos[i] = int32_t(n_past_ + i);

  std::vector<float> x(size_t(n) * E), h(x.size()), o(x.size()), q(size_t(n) * Q), att(q.size()),
      k(size_t(n) * KV), v(k.size()), gate(size_t(n) * F), up(gate.size());
  ref::embedding(token_embd_.type, token_embd_.data, token_embd_.rows, token_embd_.cols, tokens.data(), n, x.data());
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const Layer& L = layers_[l];
    ref::rms_norm(x.data(), vec(L.attn_norm).data(), h.data(), n, E, c.rms_eps);
    ref::matmul(L.wq.type, L.wq.data, L.wq.rows, L.wq.cols, h.data(), q.data(), n);
    ref::matmul(L.wk.type, L.wk.data, L.wk.rows, L.wk.cols, h.data(), k.data(), n);
    ref::matmul(L.wv.type, L.wv.data, L.wv.rows, L.wv.cols, h.data(), v.data(), n);
    if (c.qkv_bias) {
      ref::bias_add(q.data(), vec(L.bq).data(), q.data(), n, Q);
      ref::bias_add(k.data(), vec(L.bk).data(), k.data(), n, KV);
      ref::bias_add(v.data(), vec(L.bv).data(), v.data(), n, KV);
    }
    ref::rope(q.data(), pos.data(), freqs_.data(), q.data(), n, c.n_head, c.head_dim, c.n_rot, mode, mscale_);
    ref::rope(k.data(), pos.data(), freqs_.data(), k.data(), n, c.n_head_kv, c.head_dim, c.n_rot, mode, mscale_);
    ref::kv_store(k.data(), k_cache_[l].data(), n_past_, n, KV);
    ref::kv_store(v.data(), v_cache_[l].data(), n_past_, n, KV);
    ref::AttentionShape s{n, n_past_ + n, c.n_head, c.n_head_kv, c.head_dim, 1.f / std::sqrt(float(c.head_dim)), n_past_};
    ref::attention(s, q.data(), k_cache_[l].data(), v_cache_[l].data(), nullptr, att.data());
    ref::matmul(L.wo.type, L.wo.data, L.wo.rows, L.wo.cols, att.data(), o.data(), n);
    ref::add(x.data(), o.data(), x.data(), x.size());
    ref::rms_norm(x.data(), vec(L.ffn_norm).data(), h.data(), n, E, c.rms_eps);
    ref::matmul(L.w_gate.type, L.w_gate.data, L.w_gate.rows, L.w_gate.cols, h.data(), gate.data(), n);
    ref::matmul(L.w_up.type, L.w_up.data, L.w_up.rows, L.w_up.cols, h.data(), up.data(), n);
    ref::silu_mul(gate.data(), up.data(), gate.data(), gate.size());
    ref::matmul(L.w_down.type, L.w_down.data, L.w_down.rows, L.w_down.cols, gate.data(), o.data(), n);
    ref::add(x.data(), o.data(), x.data(), x.size());
  }
  ref::rms_norm(x.data(), vec(output_norm_).data(), h.data(), n, E, c.rms_eps);
  std::vector<float> logits(size_t(n) * output_.rows);
  ref::matmul(output_.type, output_.data, output_.rows, output_.cols, h.data(), logits.data(), n);
  n_past_ += n;
  return logits;
}

}  // namespace tern::ref

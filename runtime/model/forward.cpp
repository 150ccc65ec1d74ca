#include "model/forward.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "ops/add.h"
#include "ops/attention.h"
#include "ops/bias_add.h"
#include "ops/embedding.h"
#include "ops/kv_store.h"
#include "ops/matmul.h"
#include "ops/rms_norm.h"
#include "ops/rope.h"
#include "ops/rope_mode.h"
#include "ops/silu_mul.h"

namespace tern {

Forward::Forward(std::shared_ptr<const Model> model, KvCache& kv, uint32_t max_batch, const Rope* rope)
    : model_(std::move(model)), kv_(kv), max_batch_(max_batch), rec_(model_->device()) {
  const ModelConfig& c = model_->config();
  const uint64_t B = max_batch;
  ids_ = make(B * 4, "token ids");
  pos_ = make(B * 4, "positions");
  const std::vector<float>& freqs = rope ? rope->freqs : model_->rope_freqs();
  check(freqs.size() == model_->rope_freqs().size(), Status::Internal, "RoPE table of the wrong size");
  rope_attn_factor_ = rope ? rope->attn_factor : model_->rope_attn_factor();
  freqs_ = make(freqs.size() * 4, "rope frequencies");
  model_->device().allocator().write(freqs_, 0, freqs.data(), freqs.size() * 4);
  x_ = make(B * c.n_embd * 4, "activations x");
  h_ = make(B * c.n_embd * 4, "activations h");
  q_ = make(B * c.q_dim() * 4, "activations q");
  k_ = make(B * c.kv_dim() * 4, "activations k");
  v_ = make(B * c.kv_dim() * 4, "activations v");
  att_ = make(B * c.q_dim() * 4, "activations attention");
  o_ = make(B * c.n_embd * 4, "activations o");
  gate_ = make(B * c.n_ff * 4, "activations gate");
  up_ = make(B * c.n_ff * 4, "activations up");
  last_ = make(uint64_t(c.n_embd) * 4, "last row");
  logits_ = make(B * c.n_vocab * 4, "logits");
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
    ap.kv_type = kv.dtype();
    if (ops::attention_kernel(ap) != ops::AttentionKernel::Split) break;
    scratch = std::max<uint64_t>(scratch, ops::attention_scratch_bytes(ap));
  }
  scratch_ = make(scratch, "attention scratch");
}

gpu::Buffer Forward::make(uint64_t bytes, const char* what) {
  device_bytes_ += bytes;
  return model_->device().allocator().create(bytes, gpu::MemoryUse::Device, what);
}

void Forward::run(const ForwardStep& s, std::vector<float>& logits) {
  const ModelConfig& c = model_->config();
  const uint32_t n = uint32_t(s.tokens.size());
  check(n > 0 && n <= max_batch_, Status::Internal, "forward batch out of range");
  check(s.positions.size() == n, Status::Internal, "forward: one position per token");
  check(s.first_slot + n <= kv_.slots() && s.n_kv <= kv_.slots() && s.n_kv >= s.first_slot + n, Status::Internal,
        "forward: KV slots out of range");
  for (int32_t t : s.tokens)
    check(t >= 0 && uint32_t(t) < c.n_vocab, Status::InvalidArgument,
          "token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")");
  auto& alloc = model_->device().allocator();
  alloc.write(ids_, 0, s.tokens.data(), n * 4);
  alloc.write(pos_, 0, s.positions.data(), n * 4);

  const uint32_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  const auto rope_mode = c.rope_neox ? RopeMode::Neox : RopeMode::Interleaved;
  const float mscale = rope_attn_factor_;

  rec_.begin();
  ops::embedding(rec_, model_->token_embd(), ids_, x_, n);
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = model_->layer(l);
    // Attention block.
    ops::rms_norm(rec_, x_, L.attn_norm.buf, h_, n, E, c.rms_eps);
    ops::matmul(rec_, L.wq, h_, q_, n);
    ops::matmul(rec_, L.wk, h_, k_, n);
    ops::matmul(rec_, L.wv, h_, v_, n);
    if (c.qkv_bias) {
      ops::bias_add(rec_, q_, L.bq.buf, q_, n, Q);
      ops::bias_add(rec_, k_, L.bk.buf, k_, n, KV);
      ops::bias_add(rec_, v_, L.bv.buf, v_, n, KV);
    }
    ops::rope(rec_, q_, pos_, freqs_, q_, n, c.n_head, c.head_dim, c.n_rot, rope_mode, mscale);
    ops::rope(rec_, k_, pos_, freqs_, k_, n, c.n_head_kv, c.head_dim, c.n_rot, rope_mode, mscale);
    ops::kv_store(rec_, k_, kv_.k(l), s.first_slot, n, KV, kv_.dtype());
    ops::kv_store(rec_, v_, kv_.v(l), s.first_slot, n, KV, kv_.dtype());
    ops::AttentionParams ap;
    ap.n_q = n;
    ap.n_kv = s.n_kv;
    ap.n_head = c.n_head;
    ap.n_head_kv = c.n_head_kv;
    ap.head_dim = c.head_dim;
    ap.scale = 1.f / std::sqrt(float(c.head_dim));
    ap.q_pos0 = s.first_slot;
    ap.kv_type = kv_.dtype();
    ops::attention(rec_, ap, q_, kv_.k(l), kv_.v(l), att_, std::nullopt, scratch_);
    ops::matmul(rec_, L.wo, att_, o_, n);
    ops::add(rec_, x_, o_, x_, n * E);
    // Feed-forward block (SwiGLU).
    ops::rms_norm(rec_, x_, L.ffn_norm.buf, h_, n, E, c.rms_eps);
    ops::matmul(rec_, L.w_gate, h_, gate_, n);
    ops::matmul(rec_, L.w_up, h_, up_, n);
    ops::silu_mul(rec_, gate_, up_, gate_, n * F);
    ops::matmul(rec_, L.w_down, gate_, o_, n);
    ops::add(rec_, x_, o_, x_, n * E);
  }
  uint32_t rows = n;
  gpu::BufferRef head_in = x_;
  if (!s.all_logits) {  // only the last token's logits are needed
    rec_.copy(gpu::BufferRef(x_, uint64_t(n - 1) * E * 4), last_, uint64_t(E) * 4);
    head_in = last_;
    rows = 1;
  }
  ops::rms_norm(rec_, head_in, model_->output_norm().buf, head_in, rows, E, c.rms_eps);
  ops::matmul(rec_, model_->output(), head_in, logits_, rows);
  rec_.submit_and_wait();
  logits.resize(size_t(rows) * c.n_vocab);
  alloc.read(logits_, 0, logits.data(), logits.size() * 4);
}

}  // namespace tern

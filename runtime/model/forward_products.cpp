// The products of Forward's blocks: each takes the fusions and the numerics the step plan and
// the Forward fixed (stacked products, RMSNorm and the gated activation inside the product,
// accumulation into the residual stream, q8_0 activations), beacon rows' own projections, and
// the newer architectures' norms around them (per-head Q/K norms, post-norms).
#include "common/error.h"
#include "model/forward.h"
#include "ops/add.h"
#include "ops/bias_add.h"
#include "ops/rms_norm.h"
#include "ops/silu_mul.h"

namespace tern {
namespace {

ops::GatedActivation glu(FfnActivation a) {
  return a == FfnActivation::GeluTanh ? ops::GatedActivation::GeluTanh : ops::GatedActivation::Silu;
}

// The first `floats` floats from r on: one row's parts of a stacked product, back to back.
gpu::BufferRef row_parts(const gpu::BufferRef& r, uint32_t floats) {
  return gpu::BufferRef(*r.buffer, r.offset, uint64_t(floats) * 4);
}

}  // namespace

void Forward::matmul(const ops::WeightView& w, gpu::BufferRef x, gpu::BufferRef y, uint32_t n, const MatmulArgs& a) {
  ops::MatmulOptions opt;
  if (numerics_.q8_activations) {
    opt.q8_activations = true;
    opt.q8_scratch = q8_;
  }
  opt.accumulate = a.accumulate;
  opt.swiglu_up = a.swiglu_up;
  opt.glu = glu(c_.ffn_act);
  if (a.norm) {
    opt.rms_norm_weight = a.norm->buf;
    opt.rms_norm_eps = c_.rms_eps;
  }
  const bool swiglu = a.swiglu_up.buffer != nullptr;
  const bool q8 = ops::uses_q8_activations(w.type, opt);
  opt.q8_scratch_ready = q8 && a.same_input && last_used_q8_;
  last_used_q8_ = q8 && !swiglu;  // a SwiGLU input leaves silu(x) * up quantised, not x
  ops::matmul(rec_, w, x, y, n, opt);
}

void Forward::rms_norm(const gpu::Buffer& x, const ops::WeightView& w, const gpu::Buffer& y, uint32_t n) {
  if (numerics_.rms_norm)
    ops::rms_norm_ggml(rec_, x, w.buf, y, n, c_.n_embd, c_.rms_eps);
  else  // the reduction fused norms replay, so they give these bits
    ops::rms_norm(rec_, x, w.buf, y, n, c_.n_embd, c_.rms_eps, ops::rms_norm_input_reduction(rec_.device()));
}

void Forward::add_block_output(const ops::WeightView& post_norm, uint32_t n) {
  if (post_norm.rows)  // the reduction fused norms replay, as rms_norm() takes it
    ops::rms_norm_add(rec_, o_, post_norm.buf, x_, n, c_.n_embd, c_.rms_eps,
                      ops::rms_norm_input_reduction(rec_.device()));
  else
    ops::add(rec_, x_, o_, x_, n * c_.n_embd);
}

void Forward::norm_heads(const LayerWeights& L, const StepPlan& p) {
  const ops::Reduction red = ops::rms_norm_input_reduction(rec_.device());
  ops::rms_norm(rec_, parts_.q, L.attn_q_norm.buf, parts_.q, p.n * c_.n_head, c_.head_dim, c_.rms_eps, red);
  ops::rms_norm(rec_, parts_.k, L.attn_k_norm.buf, parts_.k, p.n * c_.n_head_kv, c_.head_dim, c_.rms_eps, red);
}

std::pair<const gpu::Buffer*, const ops::WeightView*> Forward::normed_input(const ops::WeightView& w,
                                                                             const StepPlan& p) {
  if (p.norm_in_products) return {&x_, &w};
  rms_norm(x_, w, h_, p.n);
  return {&h_, nullptr};
}

void Forward::project_qkv(const LayerWeights& L, const StepPlan& p) {
  const auto [in, norm] = normed_input(L.attn_norm, p);
  if (p.stack_qkv && L.wqkv.rows) {  // one product: the parts of one row lie back to back
    matmul(L.wqkv, *in, row_parts(parts_.q, c_.q_dim() + 2 * c_.kv_dim()), p.n, {.norm = norm});
  } else {
    matmul(L.wq, *in, parts_.q, p.n, {.norm = norm});
    matmul(L.wk, *in, parts_.k, p.n, {.same_input = true, .norm = norm});
    matmul(L.wv, *in, parts_.v, p.n, {.same_input = true, .norm = norm});
  }
  if (c_.qkv_bias) {
    ops::bias_add(rec_, parts_.q, L.bq.buf, parts_.q, p.n, c_.q_dim());
    ops::bias_add(rec_, parts_.k, L.bk.buf, parts_.k, p.n, c_.kv_dim());
    ops::bias_add(rec_, parts_.v, L.bv.buf, parts_.v, p.n, c_.kv_dim());
  }
  if (const auto& b = L.beacon) {  // beacon rows: q, k, v from h by their own weights
    beacon_rows(b->wq, b->bq, h_, parts_.q, c_.q_dim(), p);
    beacon_rows(b->wk, b->bk, h_, parts_.k, c_.kv_dim(), p);
    beacon_rows(b->wv, b->bv, h_, parts_.v, c_.kv_dim(), p);
  }
}

void Forward::project_out(const LayerWeights& L, const StepPlan& p) {
  // Straight into the residual stream, unless beacon rows replace some rows of the product
  // with their own O projection: then it is made on its own first.
  // Post-norms (gemma3) normalise the product before the add.
  const bool beacon_o = L.beacon && L.beacon->wo.rows && !p.beacon_rows.empty();
  if (fuse_ && !beacon_o && !c_.post_norms) {
    matmul(L.wo, att_, x_, p.n, {.accumulate = true});
    return;
  }
  matmul(L.wo, att_, o_, p.n);
  if (beacon_o) beacon_rows(L.beacon->wo, {}, att_, o_, c_.n_embd, p);
  add_block_output(L.post_attn_norm, p.n);
}

void Forward::project_gate_up(const LayerWeights& L, const StepPlan& p) {
  const auto [in, norm] = normed_input(L.ffn_norm, p);
  if (p.stack_gate_up && L.w_gate_up.rows) {
    matmul(L.w_gate_up, *in, row_parts(parts_.gate, 2 * c_.n_ff), p.n, {.norm = norm});
  } else {
    matmul(L.w_gate, *in, parts_.gate, p.n, {.norm = norm});
    matmul(L.w_up, *in, parts_.up, p.n, {.same_input = true, .norm = norm});
  }
}

void Forward::project_down(const LayerWeights& L, const StepPlan& p) {
  if (fuse_) {  // act(gate) * up computed as the down product loads it, the sum into x (post-norms: into o)
    const bool into_x = !c_.post_norms;
    matmul(L.w_down, parts_.gate, into_x ? x_ : o_, p.n, {.accumulate = into_x, .swiglu_up = parts_.up});
    if (!into_x) add_block_output(L.post_ffn_norm, p.n);
    return;
  }
  ops::gated_activation(rec_, glu(c_.ffn_act), parts_.gate, parts_.up, parts_.gate, p.n * c_.n_ff);
  matmul(L.w_down, parts_.gate, o_, p.n);
  add_block_output(L.post_ffn_norm, p.n);
}

void Forward::beacon_rows(const ops::WeightView& w, const ops::WeightView& bias, const gpu::Buffer& x,
                          gpu::BufferRef y, uint32_t out_elems, const StepPlan& p) {
  if (p.beacon_rows.empty()) return;
  matmul(w, x, beacon_, p.n);
  if (bias.rows) ops::bias_add(rec_, beacon_, bias.buf, beacon_, p.n, out_elems);
  const uint64_t row_bytes = uint64_t(out_elems) * 4;
  std::vector<VkBufferCopy> regions;
  for (uint32_t r : p.beacon_rows) regions.push_back({r * row_bytes, y.offset + r * row_bytes, row_bytes});
  rec_.copy(beacon_, *y.buffer, regions);
}

}  // namespace tern

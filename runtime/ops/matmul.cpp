#include "ops/matmul.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <optional>
#include <string>

#include "common/error.h"
#include "ops/op_checks.h"
#include "ops/quantize_q8_0.h"
#include "ops/reduction.h"

namespace tern::ops {
namespace {

bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

// The push constants every product kernel starts with (dispatch_chunks): matvec kernels take the
// first five words, batched kernels all seven.
struct ProductPush {
  uint32_t cols, row_bytes, w_skip, chunk_rows, y_first, y_stride, batch;
};
constexpr uint32_t k_matvec_push = offsetof(ProductPush, y_stride), k_matmul_push = sizeof(ProductPush);

// The product kernels per weight type (shaders/matvec*.comp, matmul*.comp), checked at build
// time: every listed variant exists and binds W, x, y, up, norm (the q8act kernels W, x's
// quants, x's scales, y) with the push constants dispatch_chunks pushes.
constexpr WeightShaders k_matvec{"matvec_", "", 5, k_matvec_push};
constexpr WeightShaders k_matvec_shmem{"matvec_", "_shmem", 5, k_matvec_push};
constexpr WeightShaders k_matvec_v4{"matvec_", "_v4", 5, k_matvec_push,  // 16-byte word loads
                                    {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K}};
constexpr WeightShaders k_matvec_lane{"matvec_", "_lane", 5, k_matvec_push};
constexpr WeightShaders k_matvec_f16math{"matvec_f16math_", "", 5, k_matvec_push,  // fp16 arithmetic
                                         {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K}};
constexpr WeightShaders k_matvec_f16math_shmem{"matvec_f16math_", "_shmem", 5, k_matvec_push,
                                               {GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K}};
constexpr WeightShaders k_matmul{"matmul_", "", 5, k_matmul_push};
constexpr WeightShaders k_matmul_lanes{"matmul_", "_lanes", 5, k_matmul_push};
constexpr WeightShaders k_matmul_q8act{"matmul_", "_q8act", 4, k_matmul_push, {GgmlType::Q8_0, GgmlType::Q4_0}};

// The fusions a kernel is specialised with (MatmulOptions::accumulate / swiglu_up /
// rms_norm_weight): its last six specialization constants (accumulate, swiglu, then RMSNorm on,
// eps, ops::rms_norm's workgroup and in-order subgroup size: common/rms_norm_input.glsl), its
// fourth and fifth bindings (the up of a SwiGLU, the norm's weight; x again where there is none)
// and a label suffix, so a profile tells fused products apart.
struct Fusion {
  uint32_t accumulate = 0, swiglu = 0;  // swiglu: 0, or the gated activation (GatedActivation's value)
  BufferRef up;
  uint32_t rms = 0, rms_eps = 0, rms_wg = 256, rms_subgroup = 0;  // off: fixed, one pipeline
  BufferRef norm;
  std::vector<uint32_t> spec(std::initializer_list<uint32_t> head) const {
    std::vector<uint32_t> s(head);
    s.insert(s.end(), {accumulate, swiglu, rms, rms_eps, rms_wg, rms_subgroup});
    return s;
  }
  std::string label(ShaderId shader) const {
    const char* glu = swiglu == uint32_t(GatedActivation::GeluTanh) ? "+geglu" : swiglu ? "+swiglu" : "";
    return std::string(gpu::shader_name(shader)) + (rms ? "+rmsnorm" : "") + glu + (accumulate ? "+add" : "");
  }
};

// One dispatch per weight chunk (a row range bound on its own, WeightChunk), with ProductPush.
// Matvec kernels (batch 0) take its first five words and a grid of row groups folded into 2D;
// batched kernels all seven and a grid of row groups x batch groups. bindings: what follows the
// chunk's weight binding.
void dispatch_chunks(Recorder& rec, const gpu::Pipeline& pipe, const WeightView& w,
                     const std::vector<WeightChunk>& chunks, std::initializer_list<BufferRef> bindings,
                     uint32_t group_rows, uint32_t batch, uint32_t group_cols, const std::string& label) {
  const auto& info = rec.device().info();
  const ProductPush base{w.cols, weight_row_bytes(w), 0, 0, 0, w.rows, batch};
  const uint32_t push_bytes = batch ? k_matmul_push : k_matvec_push;
  std::vector<BufferRef> refs(1);
  refs.insert(refs.end(), bindings.begin(), bindings.end());
  for (const auto& c : chunks) {
    auto push = base;
    push.w_skip = c.skip;
    push.chunk_rows = c.rows;
    push.y_first = c.row0;
    refs[0] = c.ref;
    Grid g = fold_grid(div_up(c.rows, group_rows), info.max_workgroup_count[0]);
    if (batch) {
      g = {div_up(c.rows, group_rows), div_up(batch, group_cols)};
      check(g.x <= info.max_workgroup_count[0] && g.y <= info.max_workgroup_count[1], Status::Unsupported,
            [&] { return label + ": grid too large"; });
    }
    rec.dispatch(pipe, refs, &push, push_bytes, g.x, g.y, 1, label.c_str());
  }
}

// The fp16-arithmetic matvec variant for this weight, or "" for the fp32 kernels: only on
// request (the device's options, or the tuning hook), only where the device enabled
// shaderFloat16, and only for the split-k layout (the types it covers have 32-element units).
bool fp16_math_requested(const gpu::Device& dev, const MatmulTuning& tune) {
  return tune.fp16_math || dev.options().fp16_math.value_or(false);
}

std::optional<ShaderId> f16math_matvec_shader(const gpu::Device& dev, GgmlType t, const MatmulTuning& tune,
                                               bool subgroup) {
  if (!fp16_math_requested(dev, tune) || !dev.features().fp16 || tune.layout == MatvecLayout::RowPerInvocation)
    return std::nullopt;
  if (!k_matvec_f16math.has(t)) return std::nullopt;
  return subgroup ? k_matvec_f16math(t) : k_matvec_f16math_shmem(t);
}

void matvec(Recorder& rec, const WeightView& w, const std::vector<WeightChunk>& chunks, BufferRef x, BufferRef y,
            const MatmulTuning& opt, const Fusion& f) {
  auto& dev = rec.device();
  const auto& info = dev.info();
  const uint32_t row_bytes = weight_row_bytes(w);
  if (opt.layout == MatvecLayout::RowPerInvocation) {
    const uint32_t wg = std::max<uint32_t>(info.subgroup_size, 8);
    const ShaderId shader = k_matvec_lane(w.type);
    const auto& pipe = pipeline(rec, shader, f.spec({wg, 1}));
    dispatch_chunks(rec, pipe, w, chunks, {x, y, f.up, f.norm}, wg, 0, 0, f.label(shader));
    return;
  }
  const bool subgroup = dev.features().subgroup_arithmetic && !opt.shared_reduction;
  const uint32_t wg = opt.matvec_workgroup ? opt.matvec_workgroup : dev.tuning().matvec_workgroup;
  const uint32_t nr = opt.matvec_rows ? opt.matvec_rows : 4;
  check(is_pow2(wg) && wg >= nr && wg <= info.max_workgroup_invocations, Status::InvalidArgument,
        "matvec workgroup size must be a power of two >= rows per workgroup");
  check((uint64_t(nr) * wg + (f.rms ? f.rms_wg : 0)) * 4 <= info.max_shared_memory, Status::InvalidArgument,
        "matvec reduction too large");
  ShaderId shader = subgroup ? k_matvec(w.type) : k_matvec_shmem(w.type);
  if (subgroup && k_matvec_v4.has(w.type) && row_bytes % 16 == 0 && !opt.word_loads &&
      std::all_of(chunks.begin(), chunks.end(), [](const WeightChunk& c) { return c.skip % 16 == 0; }))
    shader = k_matvec_v4(w.type);  // rows start 16-byte aligned: 16-byte word loads
  if (auto f16 = f16math_matvec_shader(dev, w.type, opt, subgroup)) shader = *f16;
  const auto& pipe = pipeline(rec, shader, f.spec({wg, nr}));
  dispatch_chunks(rec, pipe, w, chunks, {x, y, f.up, f.norm}, nr, 0, 0, f.label(shader));
}

void matmul_tiled(Recorder& rec, const WeightView& w, const std::vector<WeightChunk>& chunks, BufferRef x,
                  BufferRef y, uint32_t batch, const Fusion& f) {
  const auto& info = rec.device().info();
  constexpr uint32_t bk = 32;
  uint32_t bm = 64, bn = batch <= 16 ? 16 : batch <= 32 ? 32 : 64;
  // Shrink the tile until its shared memory and invocation count fit the device.
  auto fits = [&] {
    return (bm + bn) * bk * 4 <= info.max_shared_memory && (bm / 4) * (bn / 4) <= info.max_workgroup_invocations;
  };
  while (!fits() && (bm > 16 || bn > 16)) (bm >= bn ? bm : bn) /= 2;
  check(fits(), Status::Unsupported, "device shared memory too small for the matmul tile");
  const uint32_t wg = (bm / 4) * (bn / 4);
  const ShaderId shader = k_matmul(w.type);
  const auto& pipe = pipeline(rec, shader, f.spec({wg, bm, bn}));
  dispatch_chunks(rec, pipe, w, chunks, {x, y, f.up, f.norm}, bm, batch, bn, f.label(shader));
}

// The register-tile kernel needs 8-lane subgroups with shuffles (x is shared within one) and
// arithmetic (a fused RMSNorm's sum), and rows made of whole 32-element slices (8 lanes x one
// vec4 of x).
bool lanes_fit(const gpu::DeviceInfo& info, const WeightView& w) {
  return info.subgroup_size == 8 && info.subgroup_shuffle && info.subgroup_arithmetic && w.cols % 32 == 0;
}

// Tile per invocation: TM = 8 rows (64 per workgroup) x TN = 16 batch columns measured fastest at
// batch 128 on lavapipe (4x8: 1.6x slower; 16x16, 8x32 no faster and 8x32 compiles for seconds);
// small batches get narrower tiles so clamped columns are not computed in vain.
void matmul_lanes(Recorder& rec, const WeightView& w, const std::vector<WeightChunk>& chunks, BufferRef x,
                  BufferRef y, uint32_t batch, uint32_t tm, uint32_t tn, const Fusion& f) {
  const auto& info = rec.device().info();
  check(lanes_fit(info, w), Status::Unsupported, "matmul lanes kernel needs 8-lane subgroups and cols % 32 == 0");
  if (!tm) tm = batch == 1 ? 4 : 8;  // batch 1: 4 rows per lane measured fastest (2, 3, 6, 8 slower)
  if (!tn) tn = batch <= 4 ? batch : batch <= 8 ? 8 : 16;
  const ShaderId shader = k_matmul_lanes(w.type);
  const auto& pipe = pipeline(rec, shader, f.spec({8, tm, tn}));
  dispatch_chunks(rec, pipe, w, chunks, {x, y, f.up, f.norm}, 8 * tm, batch, tn, f.label(shader));
}

// Auto's choice: the device's options (whole-model A/B runs: DeviceOptions::matmul_kernel,
// TERN_MATMUL_KERNEL), then its tuning.
MatmulKernel auto_kernel(const gpu::Device& dev, const WeightView& w, uint32_t batch, const MatmulTuning& tune) {
  const auto& info = dev.info();
  if (batch == 1 && fp16_math_requested(dev, tune)) return MatmulKernel::Gpu;  // the fp16 matvec kernels live there
  if (dev.options().matmul_kernel == MatmulKernel::Gpu) return MatmulKernel::Gpu;
  if (dev.options().matmul_kernel == MatmulKernel::Lanes && lanes_fit(info, w)) return MatmulKernel::Lanes;
  const bool lanes_wins = batch > 1 || w.type == GgmlType::Q4_0 || w.type == GgmlType::Q8_0;
  return dev.tuning().lanes_kernel && lanes_fit(info, w) && lanes_wins ? MatmulKernel::Lanes : MatmulKernel::Gpu;
}

// One workgroup of 8 x 8 invocations per 8 rows (8 lanes per row, see shaders/matmul_q8act.comp),
// TN batch columns per invocation.
void matmul_q8act(Recorder& rec, const WeightView& w, const std::vector<WeightChunk>& chunks, BufferRef x,
                  BufferRef y, uint32_t batch, const MatmulOptions& opt, const Fusion& f) {
  const Q8ActLayout l = q8_act_layout(rec.device(), batch, w.cols);
  require_bytes(opt.q8_scratch, l.total(), "matmul", "q8_scratch");
  const BufferRef xq(*opt.q8_scratch.buffer, opt.q8_scratch.offset, l.q_bytes);
  const BufferRef xd(*opt.q8_scratch.buffer, opt.q8_scratch.offset + l.d_offset, l.d_bytes);
  if (f.swiglu)  // the SwiGLU goes into the quantiser's load: the kernel reads quantised x only
    quantize_q8_0_swiglu(rec, x, f.up, xq, xd, batch, w.cols, GatedActivation(f.swiglu));
  else if (!opt.q8_scratch_ready)
    quantize_q8_0(rec, x, xq, xd, batch, w.cols);
  constexpr uint32_t nr = 8;
  const uint32_t tn = batch == 1 ? 1 : batch == 2 ? 2 : batch <= 4 ? 4 : 8;
  const ShaderId shader = k_matmul_q8act(w.type);
  const auto& pipe = pipeline(rec, shader, {8 * nr, nr, tn, f.accumulate});
  dispatch_chunks(rec, pipe, w, chunks, {xq, xd, y}, nr, batch, tn, f.label(shader));
}

}  // namespace

bool uses_q8_activations(GgmlType t, const MatmulOptions& opt) {
  return opt.q8_activations && k_matmul_q8act.has(t);
}

// The matvec, f16-math matvec and lanes kernels replay the norm; the tiled kernels (batches)
// and the q8_0-activation path (which quantises x first) keep a separate ops::rms_norm.
bool fuses_rms_norm(GgmlType t, uint32_t batch, const MatmulOptions& opt) {
  return batch == 1 && !uses_q8_activations(t, opt) && !opt.swiglu_up.buffer;
}

void matmul(Recorder& rec, const WeightView& w, BufferRef x, BufferRef y, uint32_t batch, const MatmulOptions& opt,
            const MatmulTuning& tune) {
  check(batch >= 1, Status::InvalidArgument, "matmul with an empty batch");
  check(x.bytes() >= uint64_t(batch) * w.cols * 4, Status::InvalidArgument, "matmul: x is smaller than batch x cols");
  check(y.bytes() >= uint64_t(batch) * w.rows * 4, Status::InvalidArgument, "matmul: y is smaller than batch x rows");
  const uint64_t x_bytes = uint64_t(batch) * w.cols * 4, y_bytes = uint64_t(batch) * w.rows * 4;
  Fusion f{opt.accumulate, opt.swiglu_up.buffer ? uint32_t(opt.glu) : 0u, x};
  f.norm = x;
  if (f.swiglu) {
    require_bytes(opt.swiglu_up, x_bytes, "matmul", "swiglu_up");
    f.up = opt.swiglu_up;
  }
  if (opt.rms_norm_weight.buffer) {
    check(fuses_rms_norm(w.type, batch, opt), Status::InvalidArgument,
          "matmul: rms_norm_weight needs batch 1, no swiglu_up and no q8_0 activations");
    require_bytes(opt.rms_norm_weight, uint64_t(w.cols) * 4, "matmul", "rms_norm_weight");
    f.rms = 1;
    f.rms_eps = std::bit_cast<uint32_t>(opt.rms_norm_eps);
    f.rms_wg = reduction_workgroup(rec.device());
    f.rms_subgroup = tune.rms_norm_reduction == Reduction::SharedMemory ? 0 : rms_norm_input_subgroup(rec.device());
    check(tune.rms_norm_reduction != Reduction::Subgroup || f.rms_subgroup, Status::Unsupported,
          "matmul: this device's subgroup reduction cannot be replayed in a product");
    f.norm = opt.rms_norm_weight;
  }
  // Read-modify-write of y by one invocation while others still read x: they must not overlap.
  check(!f.accumulate || (!overlaps(y, y_bytes, x, x_bytes) && !(f.swiglu && overlaps(y, y_bytes, f.up, x_bytes))),
        Status::InvalidArgument, "matmul: an accumulated y must not overlap its input");
  const auto chunks = split_weight_rows(rec.device(), w, tune.max_weight_binding);
  if (uses_q8_activations(w.type, opt)) return matmul_q8act(rec, w, chunks, x, y, batch, opt, f);
  const MatmulKernel k = tune.kernel == MatmulKernel::Auto ? auto_kernel(rec.device(), w, batch, tune) : tune.kernel;
  if (k == MatmulKernel::Lanes)
    matmul_lanes(rec, w, chunks, x, y, batch, tune.lanes_rows, tune.lanes_cols, f);
  else if (batch == 1)
    matvec(rec, w, chunks, x, y, tune, f);
  else
    matmul_tiled(rec, w, chunks, x, y, batch, f);
}

}  // namespace tern::ops

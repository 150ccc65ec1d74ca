#pragma once
#include "ops/gated_activation.h"
#include "ops/reduction.h"
#include "ops/weight_view.h"

namespace tern::ops {

// How a matvec spreads work: rows split over a workgroup's invocations along k (the default:
// fastest on lavapipe too, measured), or one row per invocation (uniform x loads, no reduction;
// kept selectable for drivers where that wins).
enum class MatvecLayout { Auto, SplitK, RowPerInvocation };

// Which kernel family runs the product (gpu::MatmulKernel). Gpu: the split-k matvec for batch 1
// and shared-memory tiles for larger batches. Lanes: register tiles with x shared by subgroup
// shuffles, no shared memory (common/matmul_lanes.glsl), for CPU drivers with 8-lane subgroups;
// needs cols % 32 == 0. Auto picks what the device's options and tuning say (gpu/quirks.cpp:
// Lanes on CPU devices where it fits, at batch 1 only for Q4_0 / Q8_0, where it beats the vec4
// matvec on lavapipe; F32 / F16 / Q4_K matvecs stay faster), Gpu elsewhere.
using MatmulKernel = gpu::MatmulKernel;

// What a caller (the forward pass) asks of a product: the fusions and the numerics.
struct MatmulOptions {
  // llama.cpp's numerics for Q8_0 and Q4_0 weights (the integer path its GPU backends feed to
  // int8 dot-product hardware): x is quantised to q8_0 (ops::quantize_q8_0) into q8_scratch,
  // then every 32-value block gives an int32 dot scaled by d_w * d_x in fp32
  // (shaders/matmul_q8act.comp; ref::matmul_q8_0_q8_act / matmul_q4_0_q8_act bit for bit but
  // for rare double roundings of an emulated fma). Any batch; MatmulTuning's kernel choices do
  // not apply. Other weight types ignore it. q8_scratch must hold ops::q8_act_layout(device,
  // batch, cols).total() bytes; q8_scratch_ready says it already holds this x quantised (a
  // product with the same input).
  bool q8_activations = false;
  BufferRef q8_scratch;
  bool q8_scratch_ready = false;
  // Fusions of the forward pass's neighbouring element-wise ops (each saves a dispatch and a
  // round trip of activations through memory), for every kernel:
  // accumulate: y += W x (a residual add: y[b][r] + (W x)[b][r], the float ops::add gives); each
  //   output element is read and written once. y must not overlap x or swiglu_up.
  // swiglu_up: x is a gated activation's gate and swiglu_up its up (batch x cols f32): the
  //   product's input is act(x) * up with act = glu (SiLU: SwiGLU, or the tanh GELU: GeGLU),
  //   computed where the kernel loads x, with the arithmetic of ops::silu_mul / gelu_mul (the
  //   same bits); with q8_activations, by the quantiser (ops::quantize_q8_0_swiglu).
  // rms_norm_weight (one-row products, batch 1): x is a row of the residual stream and the
  //   product's input its RMSNorm, x / sqrt(mean(x^2) + rms_norm_eps) * rms_norm_weight (cols
  //   f32), computed where the kernel loads x; every workgroup sums x's squares itself, in the
  //   order of ops::rms_norm with rms_norm_input_reduction(device), so the result is the bits of
  //   that rms_norm followed by the product. Not with swiglu_up or q8_activations weights
  //   (fuses_rms_norm() says where it applies).
  bool accumulate = false;
  BufferRef swiglu_up;
  GatedActivation glu = GatedActivation::Silu;
  BufferRef rms_norm_weight;
  float rms_norm_eps = 0.f;
};

// How a product runs: tuning and test hooks (tests and tools/bench only); the defaults pick
// what suits the device (its DeviceOptions and DeviceTuning).
struct MatmulTuning {
  MatmulKernel kernel = MatmulKernel::Auto;
  MatvecLayout layout = MatvecLayout::Auto;
  uint64_t max_weight_binding = 0;  // bind weights in ranges of at most this many bytes (0: device limit)
  bool shared_reduction = false;    // matvec: shared-memory reduction even when subgroup ops exist
  uint32_t matvec_workgroup = 0;    // matvec invocations per workgroup (power of two), 0: the device's
  uint32_t matvec_rows = 0;         // matvec rows per workgroup, 0: auto
  bool word_loads = false;          // matvec: the uint-word kernel even where a uvec4 variant fits
  // matvec: fp16-arithmetic kernels (shaders/matvec_f16math.comp) for F16, Q8_0, Q4_0 and Q4_K
  // where the device has shaderFloat16, even when DeviceOptions::fp16_math is off.
  bool fp16_math = false;
  uint32_t lanes_rows = 0, lanes_cols = 0;  // lanes kernel's register tile per invocation, 0: auto
  // The rms_norm reduction a fused norm replays; Auto is rms_norm_input_reduction(device), and
  // SharedMemory (the tree) works everywhere; Subgroup only where Auto gives it.
  Reduction rms_norm_reduction = Reduction::Auto;
};

// Whether a product of weights of type t over batch rows can take MatmulOptions::rms_norm_weight.
bool fuses_rms_norm(GgmlType t, uint32_t batch, const MatmulOptions& opt);

// Whether opt routes a product with weights of type t through the q8_0-activation kernels.
bool uses_q8_activations(GgmlType t, const MatmulOptions& opt);

// y[b][r] = sum_k W[r][k] * x[b][k]; x is batch x cols f32, y is batch x rows f32 (with the
// fusions in MatmulOptions: y += ..., x = act(x) * swiglu_up, and x = rms_norm(x) * weight).
// The kernel family is tuning.kernel (see MatmulKernel); within Gpu, batch 1 runs the
// matrix-vector kernels and larger batches the tiled matrix-matrix kernels.
void matmul(Recorder& rec, const WeightView& w, BufferRef x, BufferRef y, uint32_t batch,
            const MatmulOptions& opt = {}, const MatmulTuning& tuning = {});

}  // namespace tern::ops

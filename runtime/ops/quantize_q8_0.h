// Activations quantised to q8_0 for the integer products of llama.cpp's numerics mode
// (ops::MatmulOptions::q8_activations), as ggml's x86 CPU backend quantises them: per 32 values
// d = f16(amax / 127) and q = round_half_even(x * (127 / amax)), bit-exact with
// ref::quantize_q8_0 (see shaders/common/q8_0_quantize.glsl).
#pragma once
#include <cstdint>

#include "ops/dispatch_util.h"
#include "ops/gated_activation.h"

namespace tern::ops {

// Where rows x cols quantised activations live inside one scratch buffer: the int8 values
// (rows * cols bytes, four to a uint word, in element order) from byte 0, then one float scale
// per 32-value block from d_offset (aligned for a storage buffer binding).
struct Q8ActLayout {
  uint64_t q_bytes = 0, d_offset = 0, d_bytes = 0;
  uint64_t total() const { return d_offset + d_bytes; }
};
Q8ActLayout q8_act_layout(const gpu::Device& dev, uint32_t rows, uint32_t cols);

// x f32 [rows][cols] (cols a multiple of 32) -> q (int8 [rows][cols], packed in words) and
// d (f32 [rows][cols / 32], each an f16 value). A block whose amax is below 127 * 2^-126 gets
// d = 0 and q = 0.
void quantize_q8_0(Recorder& rec, BufferRef x, BufferRef q, BufferRef d, uint32_t rows, uint32_t cols);

// The same for x = act(gate) * up (a SwiGLU, or a GeGLU with act = GeluTanh; gate and up f32
// [rows][cols]), computed as the quantiser loads it: the bits of ops::silu_mul (gelu_mul) then
// quantize_q8_0, one dispatch instead of two.
void quantize_q8_0_swiglu(Recorder& rec, BufferRef gate, BufferRef up, BufferRef q, BufferRef d, uint32_t rows,
                          uint32_t cols, GatedActivation act = GatedActivation::Silu);

}  // namespace tern::ops

#pragma once
#include "ops/dispatch_util.h"
#include "ops/gated_activation.h"

namespace tern::ops {
// The gated activations, elementwise over n floats; y may alias gate or up.
// silu_mul (SwiGLU): y = gate * sigmoid(gate) * up.
void silu_mul(Recorder& rec, BufferRef gate, BufferRef up, BufferRef y, uint32_t n);
// gelu_mul (GeGLU): y = gelu_tanh(gate) * up (ref::gelu_mul; shaders/common/gelu_mul.glsl).
void gelu_mul(Recorder& rec, BufferRef gate, BufferRef up, BufferRef y, uint32_t n);
// The one of the two that act names.
void gated_activation(Recorder& rec, GatedActivation act, BufferRef gate, BufferRef up, BufferRef y, uint32_t n);
}  // namespace tern::ops

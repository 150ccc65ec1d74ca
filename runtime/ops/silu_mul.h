#pragma once
#include "ops/dispatch_util.h"

namespace tern::ops {
// SwiGLU: y = gate * sigmoid(gate) * up over n floats. y may alias gate or up.
void silu_mul(Recorder& rec, BufferRef gate, BufferRef up, BufferRef y, uint32_t n);
}  // namespace tern::ops

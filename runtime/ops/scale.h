#pragma once
#include "ops/dispatch_util.h"

namespace tern::ops {
// y = s * x over n floats. y may alias x.
void scale(Recorder& rec, BufferRef x, BufferRef y, uint32_t n, float s);
}  // namespace tern::ops

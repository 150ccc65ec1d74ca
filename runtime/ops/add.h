#pragma once
#include "ops/dispatch_util.h"

namespace tern::ops {
// y = a + b over n floats (y may alias a or b).
void add(Recorder& rec, BufferRef a, BufferRef b, BufferRef y, uint32_t n);
}  // namespace tern::ops

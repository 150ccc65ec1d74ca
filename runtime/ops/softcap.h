#pragma once
#include "ops/dispatch_util.h"

namespace tern::ops {
// Logit soft-capping (final_logit_softcapping of Gemma 2 and of any gemma3 file that sets it):
// y = cap * tanh(x / cap) over n floats, cap finite and > 0. y may alias x.
void softcap(Recorder& rec, BufferRef x, BufferRef y, uint32_t n, float cap);
}  // namespace tern::ops

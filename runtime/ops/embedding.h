#pragma once
#include "ops/weight_view.h"

namespace tern::ops {

// y[i][:] = row ids[i] of `table`, dequantised exactly as dequantize_row does, times scale
// (ids: n_ids int32; y: n_ids x table.cols f32). scale (Gemma's sqrt(n_embd)) is one fp32
// multiply per element after the plain lookup (ref::scale); 1 leaves the rows
// as they are. Ids outside the table are clamped to it on the device; callers validate ids before
// upload. max_binding: test hook, as in MatmulOptions.
void embedding(Recorder& rec, const WeightView& table, BufferRef ids, BufferRef y, uint32_t n_ids, float scale = 1.f,
               uint64_t max_binding = 0);

}  // namespace tern::ops

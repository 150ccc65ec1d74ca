// Small helpers shared by the op dispatchers in runtime/ops/.
#pragma once
#include <cstdint>

#include "gpu/device.h"
#include "gpu/pipeline.h"
#include "gpu/recorder.h"
#include "gpu/shader_id.h"

namespace tern::ops {

using gpu::BufferRef;
using gpu::Recorder;

inline uint32_t div_up(uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); }

// A 1-D grid of `groups` workgroups folded into x/y so x stays under the device limit
// (65535 on many drivers). Shaders recover the flat index as
// gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x.
struct Grid {
  uint32_t x = 1, y = 1;
};
inline Grid fold_grid(uint64_t groups, uint32_t max_x = 65535) {
  if (groups <= max_x) return {uint32_t(groups ? groups : 1), 1};
  const uint32_t y = div_up(groups, max_x);
  return {div_up(groups, y), y};
}

using gpu::ShaderId;

// The pipeline of shader `id` with these specialization constants. What the op binds and
// pushes is static_asserted against the shader's declaration (gpu::declares) where the op
// dispatches it, and checked again by Recorder::dispatch.
inline const gpu::Pipeline& pipeline(Recorder& rec, ShaderId id, std::initializer_list<uint32_t> spec = {}) {
  return rec.device().pipelines().get({id, std::vector<uint32_t>(spec)});
}
inline const gpu::Pipeline& pipeline(Recorder& rec, ShaderId id, std::vector<uint32_t> spec) {
  return rec.device().pipelines().get({id, std::move(spec)});
}

}  // namespace tern::ops

// Choice of workgroup reduction for the "one workgroup per row" ops (rms_norm, softmax):
// a shared-memory tree everywhere, or subgroup arithmetic where the device has it.
#pragma once
#include <cstdint>
#include <string>

#include "ops/dispatch_util.h"

namespace tern::ops {

enum class Reduction {
  Auto,          // subgroup when device.features().subgroup_arithmetic, else shared memory
  SharedMemory,
  Subgroup,      // throws Unsupported when the device cannot
};

// The shader variant name for `base` ("rms_norm" -> "rms_norm" / "rms_norm_subgroup").
std::string reduction_shader(const gpu::Device& device, const char* base, Reduction r);
// Workgroup size for row reductions: 256, or the largest power of two the device allows.
uint32_t reduction_workgroup(const gpu::Device& device);

}  // namespace tern::ops

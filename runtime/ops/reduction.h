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

// The variant of a reduction shader for r: `shared` (the shared-memory tree) or `subgroup`
// ("rms_norm" / "rms_norm_subgroup").
ShaderId reduction_shader(const gpu::Device& device, ShaderId shared, ShaderId subgroup, Reduction r);
// Workgroup size for row reductions: 256, or the largest power of two the device allows.
uint32_t reduction_workgroup(const gpu::Device& device);
// The reduction of an rms_norm that a product can redo inside its own kernel bit for bit
// (MatmulOptions::rms_norm_weight): Subgroup where the device is known to add a subgroup's lanes
// in order (lavapipe: then it is also Auto's choice), else SharedMemory, a tree any kernel can
// replay. Forward normalises with it, so fused and unfused steps give the same bits.
Reduction rms_norm_input_reduction(const gpu::Device& device);
// Lanes per in-order subgroup sum for Subgroup above (the subgroup size), 0 for the tree.
uint32_t rms_norm_input_subgroup(const gpu::Device& device);

}  // namespace tern::ops

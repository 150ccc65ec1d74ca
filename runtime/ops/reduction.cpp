#include "ops/reduction.h"

#include "common/error.h"

namespace tern::ops {

std::string reduction_shader(const gpu::Device& device, const char* base, Reduction r) {
  const bool subgroup = device.features().subgroup_arithmetic;
  if (r == Reduction::Subgroup)
    check(subgroup, Status::Unsupported, std::string(base) + ": subgroup reduction requested, device lacks it");
  if (r == Reduction::Subgroup || (r == Reduction::Auto && subgroup)) return std::string(base) + "_subgroup";
  return base;
}

uint32_t reduction_workgroup(const gpu::Device& device) {
  uint32_t limit = device.info().max_workgroup_invocations;
  if (device.info().max_workgroup_size[0] < limit) limit = device.info().max_workgroup_size[0];
  uint32_t wg = 256;
  while (wg > 1 && wg > limit) wg /= 2;  // Vulkan guarantees 128, so this rarely moves
  return wg;
}

// Where the driver adds a subgroup's lanes in order (DeviceTuning::in_order_subgroup_add).
Reduction rms_norm_input_reduction(const gpu::Device& device) {
  return device.tuning().in_order_subgroup_add ? Reduction::Subgroup : Reduction::SharedMemory;
}

uint32_t rms_norm_input_subgroup(const gpu::Device& device) {
  return device.tuning().in_order_subgroup_add ? device.info().subgroup_size : 0;
}

}  // namespace tern::ops

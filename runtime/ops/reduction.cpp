#include "ops/reduction.h"

#include "common/error.h"

namespace tern::ops {

ShaderId reduction_shader(const gpu::Device& device, ShaderId shared, ShaderId subgroup, Reduction r) {
  const bool has = device.features().subgroup_arithmetic;
  if (r == Reduction::Subgroup)
    check(has, Status::Unsupported,
          [&] { return std::string(gpu::shader_name(shared)) + ": subgroup reduction requested, device lacks it"; });
  return r == Reduction::Subgroup || (r == Reduction::Auto && has) ? subgroup : shared;
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

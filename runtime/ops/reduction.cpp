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

}  // namespace tern::ops

#include "gpu/quirks.h"

#include "common/env.h"

namespace tern::gpu {
namespace {

constexpr uint32_t k_vendor_qualcomm = 0x5143;
constexpr uint32_t k_vendor_arm = 0x13b5;

bool disabled(const char* env) { return env_bool(env).value_or(false); }

}  // namespace

DeviceFeatures apply_quirks(const DeviceInfo& info) {
  DeviceFeatures f;
  f.fp16 = info.fp16_arithmetic;
  f.storage_16bit = info.storage_16bit;
  f.storage_8bit = info.storage_8bit;
  f.subgroup_arithmetic = info.subgroup_arithmetic && info.subgroup_size >= 4;
  f.cooperative_matrix = info.cooperative_matrix;

  // Subgroup-reduction kernels have been reported wrong on some Adreno drivers; Mali has
  // reported subgroupSize 0. Use the shared-memory reductions there.
  if (info.vendor_id == k_vendor_qualcomm || (info.vendor_id == k_vendor_arm && info.subgroup_size == 0))
    f.subgroup_arithmetic = false;
  // Cooperative matrices stay off until a kernel variant for them exists and is validated.
  f.cooperative_matrix = false;

  if (disabled("TERN_DISABLE_FP16")) f.fp16 = false;
  if (disabled("TERN_DISABLE_STORAGE16")) f.storage_16bit = false;
  if (disabled("TERN_DISABLE_STORAGE8")) f.storage_8bit = false;
  if (disabled("TERN_DISABLE_SUBGROUP")) f.subgroup_arithmetic = false;
  if (disabled("TERN_DISABLE_COOPMAT")) f.cooperative_matrix = false;
  return f;
}

}  // namespace tern::gpu

// The one place where vendor/driver quirks and user overrides decide which device features
// Tern's kernels may use. Users can work around a bad driver without a rebuild:
//   TERN_DISABLE_FP16=1, TERN_DISABLE_STORAGE16=1, TERN_DISABLE_STORAGE8=1,
//   TERN_DISABLE_SUBGROUP=1, TERN_DISABLE_COOPMAT=1
#pragma once
#include "gpu/device.h"

namespace tern::gpu {

DeviceFeatures apply_quirks(const DeviceInfo& info);

}  // namespace tern::gpu

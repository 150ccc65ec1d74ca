// The one place where the kind of device and its driver decide what Tern's kernels do: which
// advertised features they may use (vendor/driver quirks, and what the caller or the user turns
// off: DeviceOptions::disable, TERN_DISABLE_*), and the device-type defaults (DeviceTuning).
#pragma once
#include "gpu/device.h"

namespace tern::gpu {

// The features kernels may use: info's, minus known-bad drivers' and those in `disable`.
DeviceFeatures apply_quirks(const DeviceInfo& info, const DeviceFeatures& disable);
// The defaults that depend on the device type and driver, for the features in effect.
DeviceTuning device_tuning(const DeviceInfo& info, const DeviceFeatures& features);

}  // namespace tern::gpu

// Device memory bandwidth as a buffer-to-buffer copy sees it: the roofline that decode speed
// is compared against (decode reads every weight once per token).
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "bench/common.h"
#include "gpu/device.h"

namespace tern::bench {

struct Bandwidth {
  uint64_t buffer_bytes = 0;   // size of each of the two buffers
  uint32_t copies = 0;         // copies per timed submission
  bool gpu_timestamps = false; // false: wall clock around the submit
  Spread bytes_per_s;          // (read + write) bytes per second
};

// Times vkCmdCopyBuffer of `bytes` (shrunk to fit a quarter of device-local memory) between
// two device buffers, `repeats` submissions of several copies each, after one warm-up.
Bandwidth measure_copy_bandwidth(gpu::Device& device, uint64_t bytes, uint32_t repeats);

nlohmann::json to_json(const Bandwidth& b);

}  // namespace tern::bench

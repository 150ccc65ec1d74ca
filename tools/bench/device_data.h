// Random inputs on the device for the op-level benchmarks: floats, raw uploads, and weights of
// any GGML type quantised on the CPU.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "gpu/buffer.h"
#include "gpu/device.h"
#include "ops/weight_view.h"
#include "quant/ggml_types.h"

namespace tern::bench {

struct Shape {
  uint32_t rows, cols;
};

std::vector<float> random_floats(std::mt19937_64& rng, size_t n);  // N(0, 1)

// A device buffer holding `bytes` of data, padded to whole uint words (kernels read words).
gpu::Buffer upload(gpu::Device& dev, const void* data, uint64_t bytes, const char* what);

// A rows x cols weight of type t on the device. Rows repeat a small pool of distinct random
// rows: the values do not change the kernels' speed, and quantising a few rows is fast.
struct DeviceWeight {
  gpu::Buffer buf;
  ops::WeightView view;
  uint64_t bytes = 0;
};
DeviceWeight make_weight(gpu::Device& dev, std::mt19937_64& rng, GgmlType t, Shape s);

}  // namespace tern::bench

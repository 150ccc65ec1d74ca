#include "bench/device_data.h"

#include <cstring>

#include "common/error.h"
#include "quant/quantize.h"

namespace tern::bench {

std::vector<float> random_floats(std::mt19937_64& rng, size_t n) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

gpu::Buffer upload(gpu::Device& dev, const void* data, uint64_t bytes, const char* what) {
  gpu::Buffer b = dev.allocator().create((bytes + 3) / 4 * 4 + 4, gpu::MemoryUse::Device, what);
  dev.allocator().write(b, 0, data, bytes);
  return b;
}

DeviceWeight make_weight(gpu::Device& dev, std::mt19937_64& rng, GgmlType t, Shape s) {
  constexpr uint32_t pool = 32;
  const uint64_t row_bytes = ggml_row_bytes(t, s.cols);
  check(row_bytes > 0, Status::InvalidArgument, "row length is not a multiple of the block size");
  std::vector<uint8_t> pool_rows(pool * row_bytes);
  const auto f = random_floats(rng, size_t(pool) * s.cols);
  for (uint32_t r = 0; r < pool; ++r)
    quant::quantize_row(t, f.data() + size_t(r) * s.cols, pool_rows.data() + r * row_bytes, s.cols);
  std::vector<uint8_t> host(uint64_t(s.rows) * row_bytes);
  for (uint32_t r = 0; r < s.rows; ++r)
    std::memcpy(host.data() + r * row_bytes, pool_rows.data() + (r % pool) * row_bytes, row_bytes);
  DeviceWeight w;
  w.bytes = host.size();
  w.buf = upload(dev, host.data(), host.size(), "bench weight");
  w.view.buf = gpu::BufferRef(w.buf);
  w.view.type = t;
  w.view.rows = s.rows;
  w.view.cols = s.cols;
  return w;
}

}  // namespace tern::bench

#include "support/gpu_fixture.h"

#include <cmath>
#include <fstream>
#include <mutex>

#include "common/error.h"
#include "quant/quantize.h"

namespace tern::test {

gpu::Device& test_device() {
  static std::shared_ptr<gpu::Device> dev = [] {
    gpu::DeviceOptions o;
    o.validation = gpu::Validation::IfAvailable;
    return gpu::Device::create(o);
  }();
  // A 256-byte buffer held for the binary's life keeps one 256 MiB device block allocated, so
  // the tests' short-lived buffers do not make the allocator free and reallocate that block each
  // time they empty it. Under ASan each such cycle cost 30-50 ms (the 256 MiB allocation's shadow
  // poisoned and unpoisoned, its pages faulted in): top_k_test's MatchesReferenceOnEveryPattern
  // group took 44.8 s in a CI run with the cycles and 22.7 s without (13.8 s alone; 2026-12-06).
  // Tests of the allocator measure from the block count they start with.
  static const gpu::Buffer keep_one_block = dev->allocator().create(4, gpu::MemoryUse::Device, "test block keeper");
  return *dev;
}

void GpuTest::SetUp() {
  rec_ = std::make_unique<gpu::Recorder>(dev());
  validation_before_ = dev().validation_message_count();
}

void GpuTest::TearDown() {
  rec_.reset();
  const uint32_t now = dev().validation_message_count();
  if (now != validation_before_) {
    std::string all;
    for (const auto& m : dev().validation_messages()) all += m + "\n";
    ADD_FAILURE() << (now - validation_before_) << " Vulkan validation message(s):\n" << all;
  }
}

gpu::Buffer GpuTest::upload(const void* data, size_t bytes) {
  gpu::Buffer b = dev().allocator().create(bytes, gpu::MemoryUse::Device, "test input");
  dev().allocator().write(b, 0, data, bytes);
  return b;
}

gpu::Buffer GpuTest::poisoned(size_t bytes) {
  gpu::Buffer b = dev().allocator().create(bytes, gpu::MemoryUse::Device, "test output");
  std::vector<uint8_t> nan(bytes, 0xff);  // 0xffffffff is a NaN as f32, 0xffff a NaN as f16
  dev().allocator().write(b, 0, nan.data(), bytes);
  return b;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<uint8_t> random_weight(GgmlType t, uint32_t rows, uint32_t cols, uint32_t seed) {
  const auto f = random_floats(size_t(rows) * cols, seed);
  const uint64_t rb = ggml_row_bytes(t, cols);
  std::vector<uint8_t> w((rows * rb + 3) / 4 * 4, 0);
  for (uint32_t r = 0; r < rows; ++r) quant::quantize_row(t, f.data() + size_t(r) * cols, w.data() + r * rb, cols);
  return w;
}

double rel_l2(std::span<const float> ref, std::span<const float> got) {
  if (ref.size() != got.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    const double d = double(got[i]) - double(ref[i]);
    num += d * d;
    den += double(ref[i]) * double(ref[i]);
  }
  if (den == 0) return num == 0 ? 0 : INFINITY;
  return std::sqrt(num / den);
}

double max_abs_diff(std::span<const float> ref, std::span<const float> got) {
  if (ref.size() != got.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    m = std::max(m, std::fabs(double(got[i]) - double(ref[i])));
  }
  return m;
}

void record_error(const std::string& op, double rel_err) {
  static std::mutex m;
  std::lock_guard lock(m);
  std::ofstream f(std::string(TERN_BINARY_DIR) + "/op-errors.txt", std::ios::app);
  f << op << " " << rel_err << "\n";
}

}  // namespace tern::test

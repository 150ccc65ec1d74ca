// Shared fixture for GPU op tests: one Device per test binary (validation layers on when
// installed), upload/download helpers, output poisoning, and the error metric every op
// test uses.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "quant/ggml_types.h"
#include "gpu/buffer.h"
#include "gpu/device.h"
#include "gpu/recorder.h"

namespace tern::test {

gpu::Device& test_device();

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;  // fails the test on any new validation message

  gpu::Device& dev() { return test_device(); }
  gpu::Recorder& rec() { return *rec_; }

  gpu::Buffer upload(const void* data, size_t bytes);
  template <class T>
  gpu::Buffer upload(const std::vector<T>& v) { return upload(v.data(), v.size() * sizeof(T)); }
  // An output buffer filled with NaN bit patterns, so any element the kernel skips fails.
  gpu::Buffer poisoned(size_t bytes);
  template <class T>
  std::vector<T> download(const gpu::Buffer& b, size_t count) {
    std::vector<T> out(count);
    dev().allocator().read(b, 0, out.data(), count * sizeof(T));
    return out;
  }

 private:
  std::unique_ptr<gpu::Recorder> rec_;
  uint32_t validation_before_ = 0;
};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f);
// Random weights quantised row by row into GGML blocks of type t; padded to whole uint words,
// as the product kernels read them.
std::vector<uint8_t> random_weight(GgmlType t, uint32_t rows, uint32_t cols, uint32_t seed);

// ||got - ref||_2 / ||ref||_2; +inf when got has a NaN or Inf, or sizes differ.
double rel_l2(std::span<const float> ref, std::span<const float> got);
double max_abs_diff(std::span<const float> ref, std::span<const float> got);

// Records max errors per op for the closing report: written to <build>/op-errors.txt.
void record_error(const std::string& op, double rel_err);

}  // namespace tern::test

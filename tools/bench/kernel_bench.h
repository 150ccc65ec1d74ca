// Kernel A/B for one product: matrix-vector or matrix-matrix kernel variants of ops::matmul on
// one weight, run interleaved (variant 1, 2, ..., then again) so that a shared machine's load
// falls on every variant alike; medians of GPU time and of the process's CPU time. This is where
// kernel tuning is measured (`tern-bench --ops --op-groups kernels`), not in timed unit tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/device.h"
#include "gpu/recorder.h"
#include "quant/ggml_types.h"

namespace tern::bench {

struct KernelCompareOptions {
  // Variants, each "KERNEL[:OPTION...][+fused|+ops]":
  //   KERNEL: auto | gpu | lanes | q8act (the q8_0-activation kernels, Q8_0/Q4_0 weights)
  //   options: RxC (lanes register tile, e.g. lanes:8x16), rows=N and wg=N (matvec rows and
  //            invocations per workgroup), words (uint-word matvec loads), f16math, shared
  //   +fused: the FFN down product with x = silu(gate) * up computed at load and y += W x
  //   +ops:   the unfused ops that fusion replaces (silu_mul, the product, add) in one submission
  std::vector<std::string> variants = {"auto", "gpu", "lanes"};
  GgmlType type = GgmlType::Q4_0;
  uint32_t rows = 4096, cols = 14336, batch = 1;
};

// Throws Error(InvalidArgument) naming a variant it cannot parse.
void check_kernel_variants(const std::vector<std::string>& variants);

// Prints a table to stdout and returns its rows as JSON.
nlohmann::json bench_kernels(gpu::Device& dev, gpu::Recorder& rec, uint64_t seed, const KernelCompareOptions& o,
                             uint32_t repeats);

}  // namespace tern::bench

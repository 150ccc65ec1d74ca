// Op-level benchmark: matrix-vector products per weight type at Llama-sized shapes (time and
// weight bytes per second), matrix-matrix GFLOP/s at prompt batch sizes, decode attention over
// long KV caches, and the GPU sampling selections (argmax, top-k) at vocabulary sizes; on
// request, kernel variants of one product interleaved (bench/kernel_bench.h). Random data;
// weights quantised on the CPU with quant::quantize_row.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/kernel_bench.h"
#include "gpu/device.h"

namespace tern::bench {

struct OpBenchOptions {
  bool quick = false;  // tiny shapes for a smoke run
  uint32_t repeats = 3;
  uint64_t seed = 1;
  std::vector<std::string> groups = {"matvec", "matmul", "attention", "selection"};  // which tables
  // The "kernels" group (only when asked for): these variants of one product, interleaved.
  KernelCompareOptions kernels;
};

// Prints tables to stdout and returns them as JSON.
nlohmann::json run_op_bench(gpu::Device& device, const OpBenchOptions& o);

}  // namespace tern::bench

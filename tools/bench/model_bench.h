// Model-level benchmark on a GGUF file: prompt processing and decode speed at several context
// depths, memory, the copy-bandwidth roofline with decode efficiency against it, and the
// per-op GPU time of one decode step.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quant/ggml_types.h"
#include "gpu/device.h"
#include "kv/kv_budget.h"

namespace tern::bench {

// How decode depths are reached: by a real prefill of random tokens (then the state is saved
// and restored before each repeat), or by Context::fill_synthetic (the KV policy's own steps
// committed and the occupied cache rows filled with random values, no forward pass; refilled
// before each repeat). A decode step costs the same either way; the synthetic fill takes seconds
// where a prefill of a 1B-shape model to a few thousand tokens takes hours on lavapipe.
enum class DepthFill { Prefill, Synthetic };

struct ModelBenchOptions {
  std::string model_path;
  std::shared_ptr<gpu::Device> device;        // the device to load the model on
  std::vector<uint32_t> prompt_sizes{128, 512};
  std::vector<uint32_t> depths{0, 1024, 4096, 16384};
  DepthFill depth_fill = DepthFill::Prefill;
  uint32_t n_gen = 32;        // timed decode steps per repeat
  uint32_t repeats = 3;
  uint32_t n_batch = 512;
  // The context's KV cache (n_ctx 0: the model's training length); decode depths beyond a dense
  // cache need a window policy.
  KvRequest kv;
  GgmlType kv_type = GgmlType::F16;  // the cache's element type
  uint64_t bandwidth_bytes = 256ull << 20;
  uint32_t top_ops = 8;       // rows of the per-op profile to print
  uint64_t seed = 1;
  // Decode A/B of the forward pass's fusions (Context::set_fusion) in one process: the timed
  // steps alternate fused / unfused step by step (both give the same bits, so they share one
  // cache), so both see the same load on a shared machine; each depth reports both.
  bool ab_fusion = false;
  // The same for the RMSNorm-into-product fusion alone (Context::set_norm_fusion), with the
  // other fusions on: a CPU device, where it is off by default, gets it forced on in every other step.
  bool ab_norm_fusion = false;
  // Decode A/B of GPU sampling (Context::set_gpu_sampling): each timed step is an eval and a
  // sample whose token is fed next, with the selection on the GPU in every other step; the
  // sampling is greedy (ab_sampling_top_k 0) or the library's defaults with that top_k.
  bool ab_gpu_sampling = false;
  uint32_t ab_sampling_top_k = 0;
  // Decode A/B of two KV policies: `kv` (A) and this (B), each in its own context on the one
  // model, the timed steps alternating between them; depths by the synthetic fill only (both
  // contexts filled alike). Per-op profiles of both, so the policies' costs compare in one run.
  std::optional<KvRequest> ab_kv;
};

// Prints tables to stdout as it goes and returns everything as JSON.
nlohmann::json run_model_bench(const ModelBenchOptions& o);

}  // namespace tern::bench

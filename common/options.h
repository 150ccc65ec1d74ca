// Every TERN_* runtime switch of the library, read from the environment here and nowhere else,
// into one struct, once per device (gpu::Device::create), model (Model::load) or context
// (Context). The environment is the user's way to change a switch without a rebuild (a bad
// driver, an A/B run); tests and tools set the same things through the API instead
// (gpu::DeviceOptions, ModelLoadOptions, ContextParams), which always wins over the environment.
//
//   TERN_DEVICE=<index|name>     device choice (gpu::DeviceOptions::selector)
//   TERN_VALIDATION=1            Vulkan validation layers where installed (::validation)
//   TERN_DISABLE_FP16=1, TERN_DISABLE_STORAGE16=1, TERN_DISABLE_STORAGE8=1,
//   TERN_DISABLE_SUBGROUP=1, TERN_DISABLE_COOPMAT=1
//                                device features never used (::disable; gpu/quirks.h)
//   TERN_FP16_MATH=1             fp16-arithmetic decode matvecs (::fp16_math)
//   TERN_MATMUL_KERNEL=gpu|lanes the matmul kernel family for whole models (::matmul_kernel)
//   TERN_PIPELINE_CACHE=FILE     pipeline cache file (ModelLoadOptions::pipeline_cache_path)
//   TERN_FUSE=0, TERN_FUSE_NORM=0|1, TERN_GPU_SAMPLING=0
//                                the forward pass's fusions and GPU sampling (ContextParams)
//   TERN_SHIFTED_KEYS=0          a sinks + window cache keeps keys before RoPE (ContextParams)
// A boolean switch unset or empty says nothing, "0" is off and anything else on.
#pragma once
#include <optional>
#include <string>

namespace tern {

struct EnvOptions {
  std::optional<std::string> device;
  std::optional<bool> validation;
  std::optional<bool> disable_fp16, disable_storage16, disable_storage8, disable_subgroup, disable_coopmat;
  std::optional<bool> fp16_math;
  std::optional<std::string> matmul_kernel;
  std::optional<std::string> pipeline_cache;
  std::optional<bool> fusion, norm_fusion, gpu_sampling;
  std::optional<bool> shifted_keys;
};

// The switches as the environment holds them now.
EnvOptions read_env_options();

}  // namespace tern

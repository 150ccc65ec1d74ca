#include "common/options.h"

#include <cstdlib>

#include "common/env.h"

namespace tern {

std::optional<std::string> env_string(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

std::optional<bool> env_bool(const char* name) {
  const std::optional<std::string> v = env_string(name);
  if (!v) return std::nullopt;
  return *v != "0";
}

EnvOptions read_env_options() {
  EnvOptions e;
  e.device = env_string("TERN_DEVICE");
  e.validation = env_bool("TERN_VALIDATION");
  e.disable_fp16 = env_bool("TERN_DISABLE_FP16");
  e.disable_storage16 = env_bool("TERN_DISABLE_STORAGE16");
  e.disable_storage8 = env_bool("TERN_DISABLE_STORAGE8");
  e.disable_subgroup = env_bool("TERN_DISABLE_SUBGROUP");
  e.disable_coopmat = env_bool("TERN_DISABLE_COOPMAT");
  e.fp16_math = env_bool("TERN_FP16_MATH");
  e.matmul_kernel = env_string("TERN_MATMUL_KERNEL");
  e.pipeline_cache = env_string("TERN_PIPELINE_CACHE");
  e.fusion = env_bool("TERN_FUSE");
  e.norm_fusion = env_bool("TERN_FUSE_NORM");
  e.gpu_sampling = env_bool("TERN_GPU_SAMPLING");
  e.shifted_keys = env_bool("TERN_SHIFTED_KEYS");
  return e;
}

}  // namespace tern

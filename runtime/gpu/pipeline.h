// Compute pipelines built once from embedded SPIR-V, keyed by shader id + specialization
// constants, with a shared VkPipelineCache that can be seeded from and saved to a file
// (see gpu/pipeline_cache_file.h for the format and its checks).
//
// Shader interface convention (every shaders/*.comp follows it; cmake/shader_table.py fails the
// build for a module that does not):
//   set 0, bindings 0..buffers-1: storage buffers, in the order the op passes them;
//   one push-constant block of push_bytes (<= 128, the guaranteed minimum);
//   specialization constants 0..n-1: uint32 values, constant 0 is the workgroup size.
// buffers and push_bytes are the module's own (gpu/shader_ids.h), read from its SPIR-V.
#pragma once
#include <volk.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpu/shader_id.h"

namespace tern::gpu {

class Device;

struct PipelineDesc {
  ShaderId shader{};
  std::vector<uint32_t> spec;

  uint32_t buffers() const { return shader_interface(shader).buffers; }
  uint32_t push_bytes() const { return shader_interface(shader).push_bytes; }
  std::string name() const { return std::string(shader_name(shader)); }
  bool operator<(const PipelineDesc& o) const { return std::tie(shader, spec) < std::tie(o.shader, o.spec); }
};

struct Pipeline {
  PipelineDesc desc;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
};

class PipelineCache {
 public:
  explicit PipelineCache(Device& device);
  ~PipelineCache();
  // Returns a pipeline that lives as long as the cache. Throws Internal for an unknown shader.
  const Pipeline& get(const PipelineDesc& desc);
  size_t size() const;

  // Merges a file written by save_to_file into the cache. Returns true when it was merged.
  // A missing file returns false with *why empty; a corrupt file or one made for another
  // device or driver returns false with *why set, and nothing of it reaches the driver.
  bool seed_from_file(const std::string& path, std::string* why);
  // Writes the cache (seeded entries plus every pipeline built since) atomically to path.
  bool save_to_file(const std::string& path, std::string* why) const;
  // The driver's current cache blob (vkGetPipelineCacheData).
  std::vector<uint8_t> data() const;
  // How many files seed_from_file has merged.
  uint32_t seeded_from_disk() const { return seeded_.load(); }

 private:
  Device& device_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  mutable std::mutex mutex_;
  std::map<PipelineDesc, std::unique_ptr<Pipeline>> pipelines_;
  std::map<ShaderId, VkShaderModule> modules_;
  std::atomic<uint32_t> seeded_{0};
};

}  // namespace tern::gpu

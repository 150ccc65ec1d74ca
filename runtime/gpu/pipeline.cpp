#include "gpu/pipeline.h"

#include "gpu/device.h"
#include "gpu/pipeline_cache_file.h"
#include "gpu/shader_registry.h"
#include "gpu/vk_check.h"
#include "platform/file_io.h"

namespace tern::gpu {

PipelineCache::PipelineCache(Device& device) : device_(device) {
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  vk_check(vkCreatePipelineCache(device.vk(), &ci, nullptr, &cache_), "vkCreatePipelineCache");
}

PipelineCache::~PipelineCache() {
  VkDevice d = device_.vk();
  for (auto& [k, p] : pipelines_) {
    vkDestroyPipeline(d, p->pipeline, nullptr);
    vkDestroyPipelineLayout(d, p->layout, nullptr);
    vkDestroyDescriptorSetLayout(d, p->set_layout, nullptr);
  }
  for (auto& [k, m] : modules_) vkDestroyShaderModule(d, m, nullptr);
  vkDestroyPipelineCache(d, cache_, nullptr);
}

size_t PipelineCache::size() const {
  std::lock_guard lock(mutex_);
  return pipelines_.size();
}

std::vector<uint8_t> PipelineCache::data() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  vk_check(vkGetPipelineCacheData(device_.vk(), cache_, &n, nullptr), "vkGetPipelineCacheData");
  std::vector<uint8_t> out(n);
  // VK_INCOMPLETE cannot happen under the lock (nothing grows the cache meanwhile).
  vk_check(vkGetPipelineCacheData(device_.vk(), cache_, &n, out.data()), "vkGetPipelineCacheData");
  out.resize(n);
  return out;
}

bool PipelineCache::seed_from_file(const std::string& path, std::string* why) {
  const auto file = read_pipeline_cache_file(path, why);
  if (!file) return false;
  const auto blob = decode_pipeline_cache(*file, device_.info(), why);
  if (!blob) return false;
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = blob->size();
  ci.pInitialData = blob->data();
  VkPipelineCache seed = VK_NULL_HANDLE;
  if (const VkResult r = vkCreatePipelineCache(device_.vk(), &ci, nullptr, &seed); r != VK_SUCCESS) {
    if (why) *why = std::string("the driver refused it (") + vk_result_name(r) + ")";
    return false;
  }
  VkResult r;
  {
    std::lock_guard lock(mutex_);  // the destination of a merge is externally synchronised
    r = vkMergePipelineCaches(device_.vk(), cache_, 1, &seed);
  }
  vkDestroyPipelineCache(device_.vk(), seed, nullptr);
  if (r != VK_SUCCESS) {
    if (why) *why = std::string("merging it failed (") + vk_result_name(r) + ")";
    return false;
  }
  seeded_.fetch_add(1);
  return true;
}

bool PipelineCache::save_to_file(const std::string& path, std::string* why) const {
  const auto bytes = encode_pipeline_cache(data());
  return platform::write_file_atomically(path, bytes, why);
}

const Pipeline& PipelineCache::get(const PipelineDesc& desc) {
  std::lock_guard lock(mutex_);
  if (auto it = pipelines_.find(desc); it != pipelines_.end()) return *it->second;

  VkDevice d = device_.vk();
  VkShaderModule module;
  if (auto it = modules_.find(desc.shader); it != modules_.end()) {
    module = it->second;
  } else {
    const EmbeddedShader& s = embedded_shader(desc.shader);
    VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    mi.codeSize = s.words * 4;
    mi.pCode = s.code;
    vk_check(vkCreateShaderModule(d, &mi, nullptr, &module), "vkCreateShaderModule");
    modules_[desc.shader] = module;
  }

  auto p = std::make_unique<Pipeline>();
  p->desc = desc;
  std::vector<VkDescriptorSetLayoutBinding> bindings(desc.buffers());
  for (uint32_t i = 0; i < desc.buffers(); ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo li{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  li.bindingCount = desc.buffers();
  li.pBindings = bindings.data();
  vk_check(vkCreateDescriptorSetLayout(d, &li, nullptr, &p->set_layout), "vkCreateDescriptorSetLayout");

  VkPushConstantRange pcr{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_bytes()};
  VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &p->set_layout;
  pli.pushConstantRangeCount = desc.push_bytes() ? 1 : 0;
  pli.pPushConstantRanges = &pcr;
  vk_check(vkCreatePipelineLayout(d, &pli, nullptr, &p->layout), "vkCreatePipelineLayout");

  std::vector<VkSpecializationMapEntry> entries(desc.spec.size());
  for (uint32_t i = 0; i < desc.spec.size(); ++i) entries[i] = {i, i * 4, 4};
  VkSpecializationInfo si{uint32_t(entries.size()), entries.data(), desc.spec.size() * 4, desc.spec.data()};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = desc.spec.empty() ? nullptr : &si;
  ci.layout = p->layout;
  vk_check(vkCreateComputePipelines(d, cache_, 1, &ci, nullptr, &p->pipeline),
           ("vkCreateComputePipelines(" + desc.name() + ")").c_str());
  auto& ref = *p;
  pipelines_[desc] = std::move(p);
  return ref;
}

}  // namespace tern::gpu

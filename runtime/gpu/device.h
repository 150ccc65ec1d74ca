// The Vulkan instance + logical device Tern computes on: device selection, feature queries,
// validation-layer plumbing, and ownership of the allocator and pipeline cache.
// A Device is shared (std::shared_ptr) by a model and all contexts made from it; queue
// submission, allocation and pipeline creation are internally synchronised.
#pragma once
#include <vulkan/vulkan.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gpu/device_info.h"

namespace tern::gpu {

class Allocator;
class PipelineCache;

enum class Validation { Off, IfAvailable, Required };

struct DeviceOptions {
  // Index or case-insensitive name substring; empty means $TERN_DEVICE, then the best device
  // (discrete > integrated > virtual > CPU).
  std::string selector;
  // $TERN_VALIDATION=1 turns IfAvailable on even when this says Off.
  Validation validation = Validation::Off;
};

// Kernel-variant switches: what the device advertises, minus quirks and $TERN_DISABLE_* overrides.
struct DeviceFeatures {
  bool fp16 = false;             // fp16 arithmetic in shaders
  bool storage_16bit = false;    // 16-bit loads/stores from storage buffers
  bool storage_8bit = false;
  bool subgroup_arithmetic = false;
  bool cooperative_matrix = false;
};

class Device {
 public:
  static std::shared_ptr<Device> create(const DeviceOptions& options = {});
  // Lists every physical device (creates a temporary instance). Throws NoDevice if Vulkan is absent.
  static std::vector<DeviceInfo> enumerate();

  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  VkInstance instance() const { return instance_; }
  VkPhysicalDevice physical() const { return physical_; }
  VkDevice vk() const { return device_; }
  uint32_t queue_family() const { return queue_family_; }
  const DeviceInfo& info() const { return info_; }
  const DeviceFeatures& features() const { return features_; }
  std::string feature_summary() const;

  Allocator& allocator() { return *allocator_; }
  PipelineCache& pipelines() { return *pipelines_; }

  // Submits one command buffer and signals fence; serialised across threads.
  void submit(VkCommandBuffer cmd, VkFence fence);
  // Waits for fence; DEVICE_LOST poisons the device and throws.
  void wait(VkFence fence);
  bool lost() const { return lost_.load(); }

  bool validation_enabled() const { return validation_enabled_; }
  // Number of validation errors/warnings reported so far, and their text.
  uint32_t validation_message_count() const { return validation_count_.load(); }
  std::vector<std::string> validation_messages() const;

 private:
  Device() = default;
  static VKAPI_ATTR VkBool32 VKAPI_CALL debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                       void* user);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  uint32_t queue_family_ = 0;
  DeviceInfo info_;
  DeviceFeatures features_;
  std::unique_ptr<Allocator> allocator_;
  std::unique_ptr<PipelineCache> pipelines_;
  std::mutex queue_mutex_;
  std::atomic<bool> lost_{false};

  bool validation_enabled_ = false;
  std::atomic<uint32_t> validation_count_{0};
  mutable std::mutex validation_mutex_;
  std::vector<std::string> validation_log_;
};

}  // namespace tern::gpu

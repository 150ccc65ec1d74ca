// The Vulkan instance + logical device Tern computes on: device selection, feature queries,
// validation-layer plumbing, and ownership of the allocator and pipeline cache.
// A Device is shared (std::shared_ptr) by a model and all contexts made from it; queue
// submission, allocation and pipeline creation are internally synchronised.
#pragma once
#include <volk.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gpu/device_info.h"

namespace tern::gpu {

class Allocator;
class PipelineCache;

enum class Validation { Off, IfAvailable, Required };

// Kernel-variant switches: what the device advertises, minus quirks and what DeviceOptions::disable
// turns off (gpu/quirks.h).
struct DeviceFeatures {
  bool fp16 = false;             // fp16 arithmetic in shaders
  bool storage_16bit = false;    // 16-bit loads/stores from storage buffers
  bool storage_8bit = false;
  bool subgroup_arithmetic = false;
  bool cooperative_matrix = false;
};

// Which kernel family runs a product (ops::matmul): Auto lets the device's tuning choose
// (gpu/quirks.h); Gpu: split-k matvecs and shared-memory tiles; Lanes: register tiles shared by
// subgroup shuffles (CPU drivers with 8-lane subgroups).
enum class MatmulKernel { Auto, Gpu, Lanes };

// Choices that depend on the kind of device or driver, made in one place beside the quirk
// table (gpu/quirks.cpp: device_tuning), each with the measurement behind it there.
struct DeviceTuning {
  bool norm_fusion = true;            // RMSNorm inside one-row products (Forward's default)
  uint32_t top_k_chunk = 4096;        // logits one ops::top_k workgroup takes
  uint32_t matvec_workgroup = 64;     // invocations per split-k matvec workgroup
  bool lanes_kernel = false;          // MatmulKernel::Auto picks Lanes where it fits
  bool in_order_subgroup_add = false; // subgroupAdd sums lanes first to last (replayable bit for bit)
};

// What the caller asks of a device. Anything left unset is taken from the environment
// (common/options.h: TERN_DEVICE, TERN_VALIDATION, TERN_DISABLE_*, TERN_FP16_MATH,
// TERN_MATMUL_KERNEL) unless use_environment is false.
struct DeviceOptions {
  // Index or case-insensitive name substring; empty: the environment's, then the best device
  // (discrete > integrated > virtual > CPU).
  std::string selector;
  // Off: IfAvailable when TERN_VALIDATION=1.
  Validation validation = Validation::Off;
  // Features never to use, whatever the device offers (a bad driver's workaround); each is also
  // turned off by its TERN_DISABLE_* switch.
  DeviceFeatures disable;
  // Decode matvecs of F16/Q8_0/Q4_0/Q4_K weights with fp16 arithmetic where the device has
  // shaderFloat16 (~1e-3 relative error instead of ~1e-6; for GPUs with native fp16).
  std::optional<bool> fp16_math;
  // The family every Auto product uses (whole-model A/B runs); Auto: the tuning's choice.
  MatmulKernel matmul_kernel = MatmulKernel::Auto;
  bool use_environment = true;
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
  // The options in effect (the caller's, the environment's where unset) and the device-type
  // choices made beside the quirk table.
  const DeviceOptions& options() const { return options_; }
  const DeviceTuning& tuning() const { return tuning_; }
  std::string feature_summary() const;

  Allocator& allocator() { return *allocator_; }
  PipelineCache& pipelines() { return *pipelines_; }

  // Submits one command buffer and signals fence; serialised across threads.
  void submit(VkCommandBuffer cmd, VkFence fence);
  // Waits for fence; DEVICE_LOST poisons the device and throws.
  void wait(VkFence fence);
  bool lost() const { return lost_.load(); }
  // Tests that inject a device loss (gpu/fault_injection.h) into a device that is in fact fine
  // make it usable again with this.
  void reset_lost_for_testing() { lost_ = false; }

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
  DeviceOptions options_;
  DeviceTuning tuning_;
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

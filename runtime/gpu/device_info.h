// What Tern records about a Vulkan physical device and picks kernel variants from.
#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace tern::gpu {

enum class DeviceType { Other, Integrated, Discrete, Virtual, Cpu };
const char* device_type_name(DeviceType t);

struct DeviceInfo {
  uint32_t index = 0;  // in vkEnumeratePhysicalDevices order
  std::string name;
  DeviceType type = DeviceType::Other;
  uint32_t vendor_id = 0, device_id = 0;
  uint32_t api_version = 0, driver_version = 0;
  std::string driver_name, driver_info;
  std::array<uint8_t, 16> pipeline_cache_uuid{};  // VkPhysicalDeviceProperties::pipelineCacheUUID

  uint32_t subgroup_size = 0;          // 0 when unknown or nonsense
  bool subgroup_arithmetic = false;    // subgroupAdd etc. usable in compute
  bool subgroup_shuffle = false;
  uint32_t max_shared_memory = 0;      // maxComputeSharedMemorySize
  uint32_t max_workgroup_invocations = 0;
  uint32_t max_workgroup_size[3] = {0, 0, 0};
  uint32_t max_workgroup_count[3] = {0, 0, 0};
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_push_constants = 0;
  uint64_t min_storage_buffer_offset_alignment = 0;
  uint64_t max_memory_allocation_size = 0;
  uint64_t device_local_bytes = 0;     // largest device-local heap
  bool unified_memory = false;         // device-local memory is also host-visible

  bool fp16_arithmetic = false;        // shaderFloat16
  bool int8_arithmetic = false;        // shaderInt8
  bool storage_16bit = false;          // storageBuffer16BitAccess
  bool storage_8bit = false;           // storageBuffer8BitAccess
  bool cooperative_matrix = false;     // VK_KHR_cooperative_matrix advertised
  bool timestamps = false;             // compute queue has valid timestamp bits
  float timestamp_period_ns = 0.f;
};

}  // namespace tern::gpu

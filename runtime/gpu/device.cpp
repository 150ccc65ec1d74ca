#include "gpu/device.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "common/options.h"
#include "gpu/buffer.h"
#include "gpu/fault_injection.h"
#include "gpu/pipeline.h"
#include "gpu/quirks.h"
#include "gpu/vk_check.h"
#include "gpu/vulkan_loader.h"

namespace tern::gpu {
namespace {

constexpr const char* k_validation_layer = "VK_LAYER_KHRONOS_validation";

// The caller's options with the environment's switches where the caller left them unset.
DeviceOptions resolve(DeviceOptions o) {
  if (!o.use_environment) return o;
  const EnvOptions env = read_env_options();
  if (o.selector.empty()) o.selector = env.device.value_or("");
  if (o.validation == Validation::Off && env.validation.value_or(false)) o.validation = Validation::IfAvailable;
  o.disable.fp16 = o.disable.fp16 || env.disable_fp16.value_or(false);
  o.disable.storage_16bit = o.disable.storage_16bit || env.disable_storage16.value_or(false);
  o.disable.storage_8bit = o.disable.storage_8bit || env.disable_storage8.value_or(false);
  o.disable.subgroup_arithmetic = o.disable.subgroup_arithmetic || env.disable_subgroup.value_or(false);
  o.disable.cooperative_matrix = o.disable.cooperative_matrix || env.disable_coopmat.value_or(false);
  if (!o.fp16_math) o.fp16_math = env.fp16_math.value_or(false);
  if (o.matmul_kernel == MatmulKernel::Auto && env.matmul_kernel) {
    if (*env.matmul_kernel == "gpu") o.matmul_kernel = MatmulKernel::Gpu;
    if (*env.matmul_kernel == "lanes") o.matmul_kernel = MatmulKernel::Lanes;
  }
  return o;
}

bool has_layer(const char* name) {
  uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  for (const auto& l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

std::vector<std::string> instance_extensions() {
  uint32_t n = 0;
  vkEnumerateInstanceExtensionProperties(nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> ext(n);
  vkEnumerateInstanceExtensionProperties(nullptr, &n, ext.data());
  std::vector<std::string> out;
  for (const auto& e : ext) out.emplace_back(e.extensionName);
  return out;
}

std::vector<std::string> device_extensions(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> ext(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, ext.data());
  std::vector<std::string> out;
  for (const auto& e : ext) out.emplace_back(e.extensionName);
  return out;
}

bool contains(const std::vector<std::string>& v, const char* s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

VkInstance create_instance(bool validation, bool debug_utils) {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "tern";
  app.pEngineName = "tern";
  app.apiVersion = VK_API_VERSION_1_1;

  const auto exts = instance_extensions();
  std::vector<const char*> enabled;
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  // MoltenVK (macOS/iOS) only lists its devices with portability enumeration.
  if (contains(exts, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
    enabled.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
    ci.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
  }
  if (contains(exts, VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME))
    enabled.push_back(VK_KHR_GET_PHYSICAL_DEVICE_PROPERTIES_2_EXTENSION_NAME);
  if (debug_utils && contains(exts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
    enabled.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  const char* layers[] = {k_validation_layer};
  ci.pApplicationInfo = &app;
  ci.enabledExtensionCount = uint32_t(enabled.size());
  ci.ppEnabledExtensionNames = enabled.data();
  ci.enabledLayerCount = validation ? 1 : 0;
  ci.ppEnabledLayerNames = layers;
  VkInstance inst = VK_NULL_HANDLE;
  VkResult r = vkCreateInstance(&ci, nullptr, &inst);
  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
    throw Error(Status::NoDevice, std::string("no usable Vulkan driver (vkCreateInstance: ") + vk_result_name(r) +
                                      "); install one, e.g. mesa-vulkan-drivers for the CPU driver lavapipe");
  vk_check(r, "vkCreateInstance");
  load_instance_functions(inst);
  return inst;
}

struct Probe {
  DeviceInfo info;
  std::vector<std::string> extensions;
  uint32_t compute_family = UINT32_MAX;
};

Probe probe(VkPhysicalDevice pd, uint32_t index) {
  Probe p;
  DeviceInfo& d = p.info;
  d.index = index;
  p.extensions = device_extensions(pd);

  VkPhysicalDeviceProperties props{};
  vkGetPhysicalDeviceProperties(pd, &props);
  d.name = props.deviceName;
  d.vendor_id = props.vendorID;
  d.device_id = props.deviceID;
  d.api_version = props.apiVersion;
  d.driver_version = props.driverVersion;
  static_assert(sizeof(d.pipeline_cache_uuid) == VK_UUID_SIZE);
  std::memcpy(d.pipeline_cache_uuid.data(), props.pipelineCacheUUID, VK_UUID_SIZE);
  switch (props.deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: d.type = DeviceType::Discrete; break;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: d.type = DeviceType::Integrated; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: d.type = DeviceType::Virtual; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: d.type = DeviceType::Cpu; break;
    default: d.type = DeviceType::Other;
  }
  const auto& lim = props.limits;
  d.max_shared_memory = lim.maxComputeSharedMemorySize;
  d.max_workgroup_invocations = lim.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    d.max_workgroup_size[i] = lim.maxComputeWorkGroupSize[i];
    d.max_workgroup_count[i] = lim.maxComputeWorkGroupCount[i];
  }
  d.max_storage_buffer_range = lim.maxStorageBufferRange;
  d.max_push_constants = lim.maxPushConstantsSize;
  d.min_storage_buffer_offset_alignment = lim.minStorageBufferOffsetAlignment;
  d.timestamp_period_ns = lim.timestampPeriod;

  const bool v11 = VK_API_VERSION_MINOR(props.apiVersion) >= 1 || VK_API_VERSION_MAJOR(props.apiVersion) > 1;
  const bool v12 = VK_API_VERSION_MINOR(props.apiVersion) >= 2 || VK_API_VERSION_MAJOR(props.apiVersion) > 1;
  if (v11) {
    VkPhysicalDeviceSubgroupProperties sub{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &sub;
    sub.pNext = &m3;
    if (v12 || contains(p.extensions, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME)) m3.pNext = &drv;
    vkGetPhysicalDeviceProperties2(pd, &p2);
    // Some drivers report nonsense (one Mali reports 0): keep only powers of two in [1, 128].
    if (sub.subgroupSize >= 1 && sub.subgroupSize <= 128 && (sub.subgroupSize & (sub.subgroupSize - 1)) == 0)
      d.subgroup_size = sub.subgroupSize;
    const bool compute_stage = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    d.subgroup_arithmetic = compute_stage && (sub.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT);
    d.subgroup_shuffle = compute_stage && (sub.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
    d.max_memory_allocation_size = m3.maxMemoryAllocationSize;
    if (m3.pNext == &drv) {
      d.driver_name = drv.driverName;
      d.driver_info = drv.driverInfo;
    }

    VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    void** next = &f2.pNext;
    *next = &s16;
    next = &s16.pNext;
    if (v12 || contains(p.extensions, VK_KHR_8BIT_STORAGE_EXTENSION_NAME)) {
      *next = &s8;
      next = &s8.pNext;
    }
    if (v12 || contains(p.extensions, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME)) {
      *next = &f16;
      next = &f16.pNext;
    }
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    d.storage_16bit = s16.storageBuffer16BitAccess;
    d.storage_8bit = s8.storageBuffer8BitAccess;
    d.fp16_arithmetic = f16.shaderFloat16;
    d.int8_arithmetic = f16.shaderInt8;
  }
  d.cooperative_matrix = contains(p.extensions, "VK_KHR_cooperative_matrix");

  VkPhysicalDeviceMemoryProperties mem{};
  vkGetPhysicalDeviceMemoryProperties(pd, &mem);
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i)
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      d.device_local_bytes = std::max<uint64_t>(d.device_local_bytes, mem.memoryHeaps[i].size);
  for (uint32_t i = 0; i < mem.memoryTypeCount; ++i) {
    const auto f = mem.memoryTypes[i].propertyFlags;
    if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
        (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) &&
        mem.memoryHeaps[mem.memoryTypes[i].heapIndex].size == d.device_local_bytes)
      d.unified_memory = true;
  }

  uint32_t nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf.data());
  // Prefer a compute-only family (async compute), else any with compute.
  for (int pass = 0; pass < 2 && p.compute_family == UINT32_MAX; ++pass)
    for (uint32_t i = 0; i < nq; ++i) {
      const bool compute = qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT;
      const bool graphics = qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT;
      if (compute && (pass == 1 || !graphics)) {
        p.compute_family = i;
        d.timestamps = qf[i].timestampValidBits > 0 && lim.timestampPeriod > 0;
        break;
      }
    }
  return p;
}

int type_rank(DeviceType t) {
  switch (t) {
    case DeviceType::Discrete: return 4;
    case DeviceType::Integrated: return 3;
    case DeviceType::Virtual: return 2;
    case DeviceType::Cpu: return 1;
    default: return 0;
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t choose(const std::vector<Probe>& probes, const std::string& selector) {
  std::vector<size_t> usable;
  for (size_t i = 0; i < probes.size(); ++i)
    if (probes[i].compute_family != UINT32_MAX &&
        VK_API_VERSION_MINOR(probes[i].info.api_version) + 10 * VK_API_VERSION_MAJOR(probes[i].info.api_version) >= 11)
      usable.push_back(i);
  if (usable.empty()) throw Error(Status::NoDevice, "no Vulkan 1.1 device with a compute queue was found");
  if (!selector.empty()) {
    const bool numeric = std::all_of(selector.begin(), selector.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    for (size_t i : usable) {
      if (numeric ? probes[i].info.index == uint32_t(std::stoul(selector))
                  : lower(probes[i].info.name).find(lower(selector)) != std::string::npos)
        return i;
    }
    throw Error(Status::NoDevice, "TERN_DEVICE / device selector '" + selector + "' matches no usable Vulkan device");
  }
  return *std::max_element(usable.begin(), usable.end(), [&](size_t a, size_t b) {
    return type_rank(probes[a].info.type) < type_rank(probes[b].info.type);
  });
}

}  // namespace

const char* device_type_name(DeviceType t) {
  switch (t) {
    case DeviceType::Discrete: return "discrete GPU";
    case DeviceType::Integrated: return "integrated GPU";
    case DeviceType::Virtual: return "virtual GPU";
    case DeviceType::Cpu: return "CPU";
    default: return "other";
  }
}

std::vector<DeviceInfo> Device::enumerate() {
  load_vulkan();
  VkInstance inst = create_instance(false, false);
  uint32_t n = 0;
  vkEnumeratePhysicalDevices(inst, &n, nullptr);
  std::vector<VkPhysicalDevice> pds(n);
  vkEnumeratePhysicalDevices(inst, &n, pds.data());
  std::vector<DeviceInfo> out;
  for (uint32_t i = 0; i < n; ++i) out.push_back(probe(pds[i], i).info);
  vkDestroyInstance(inst, nullptr);
  return out;
}

VKAPI_ATTR VkBool32 VKAPI_CALL Device::debug_callback(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                      VkDebugUtilsMessageTypeFlagsEXT,
                                                      const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  auto* self = static_cast<Device*>(user);
  if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    self->validation_count_.fetch_add(1);
    // Nothing may escape into the layer that called: a message that cannot be kept (out of
    // memory) is still counted.
    try {
      std::lock_guard lock(self->validation_mutex_);
      if (self->validation_log_.size() < 64) self->validation_log_.emplace_back(data && data->pMessage ? data->pMessage : "?");
    } catch (...) {
    }
  }
  return VK_FALSE;
}

std::shared_ptr<Device> Device::create(const DeviceOptions& requested) {
  load_vulkan();
  std::shared_ptr<Device> dev(new Device());
  dev->options_ = resolve(requested);
  const DeviceOptions& options = dev->options_;
  const Validation validation = options.validation;
  const bool layer = validation != Validation::Off && has_layer(k_validation_layer);
  if (validation == Validation::Required && !layer)
    throw Error(Status::Unsupported, "Vulkan validation layer requested but not installed (vulkan-validationlayers)");
  dev->validation_enabled_ = layer;
  dev->instance_ = create_instance(layer, layer);

  if (layer) {
    auto create_messenger = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(dev->instance_, "vkCreateDebugUtilsMessengerEXT"));
    if (create_messenger) {
      VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
      mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
      mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT;
      mi.pfnUserCallback = &Device::debug_callback;
      mi.pUserData = dev.get();
      vk_check(create_messenger(dev->instance_, &mi, nullptr, &dev->messenger_), "vkCreateDebugUtilsMessengerEXT");
    }
  }

  uint32_t n = 0;
  vkEnumeratePhysicalDevices(dev->instance_, &n, nullptr);
  if (n == 0) throw Error(Status::NoDevice, "no Vulkan devices found (is a Vulkan driver installed?)");
  std::vector<VkPhysicalDevice> pds(n);
  vkEnumeratePhysicalDevices(dev->instance_, &n, pds.data());
  std::vector<Probe> probes;
  for (uint32_t i = 0; i < n; ++i) probes.push_back(probe(pds[i], i));
  const size_t chosen = choose(probes, options.selector);
  const Probe& pr = probes[chosen];
  dev->physical_ = pds[chosen];
  dev->info_ = pr.info;
  dev->queue_family_ = pr.compute_family;
  dev->features_ = apply_quirks(pr.info, options.disable);
  dev->tuning_ = device_tuning(pr.info, dev->features_);

  // Enable only what we will use and the device has.
  const bool v12 = VK_API_VERSION_MINOR(pr.info.api_version) >= 2;
  std::vector<const char*> exts;
  if (!v12 && dev->features_.storage_8bit) exts.push_back(VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
  if (!v12 && dev->features_.fp16) exts.push_back(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  if (contains(pr.extensions, "VK_KHR_portability_subset")) exts.push_back("VK_KHR_portability_subset");

  VkPhysicalDevice16BitStorageFeatures s16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
  s16.storageBuffer16BitAccess = dev->features_.storage_16bit;
  VkPhysicalDevice8BitStorageFeatures s8{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
  s8.storageBuffer8BitAccess = dev->features_.storage_8bit;
  VkPhysicalDeviceShaderFloat16Int8Features f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
  f16.shaderFloat16 = dev->features_.fp16;
  f16.shaderInt8 = dev->features_.fp16 && pr.info.int8_arithmetic;
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  f2.pNext = &s16;
  void** next = &s16.pNext;
  if (dev->features_.storage_8bit) {
    *next = &s8;
    next = &s8.pNext;
  }
  if (dev->features_.fp16) *next = &f16;

  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qci{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qci.queueFamilyIndex = dev->queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
  dci.pNext = &f2;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = uint32_t(exts.size());
  dci.ppEnabledExtensionNames = exts.data();
  vk_check(vkCreateDevice(dev->physical_, &dci, nullptr, &dev->device_), "vkCreateDevice");
  vkGetDeviceQueue(dev->device_, dev->queue_family_, 0, &dev->queue_);

  dev->allocator_ = std::make_unique<Allocator>(*dev);
  dev->pipelines_ = std::make_unique<PipelineCache>(*dev);
  return dev;
}

Device::~Device() {
  if (device_) vkDeviceWaitIdle(device_);
  pipelines_.reset();
  allocator_.reset();
  if (device_) vkDestroyDevice(device_, nullptr);
  if (messenger_) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

std::string Device::feature_summary() const {
  std::string s;
  auto add = [&](const char* name, bool on) {
    if (!s.empty()) s += ", ";
    s += name;
    s += on ? " on" : " off";
  };
  add("fp16", features_.fp16);
  add("16-bit storage", features_.storage_16bit);
  add("8-bit storage", features_.storage_8bit);
  add("subgroup arithmetic", features_.subgroup_arithmetic);
  add("cooperative matrix", features_.cooperative_matrix);
  return s;
}

void Device::submit(VkCommandBuffer cmd, VkFence fence) {
  if (lost_) throw Error(Status::DeviceLost, "the Vulkan device was lost earlier; recreate the model and context");
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd;
  std::lock_guard lock(queue_mutex_);
  const VkResult r = fault::should_fail(fault::Kind::Submit) ? VK_ERROR_DEVICE_LOST : vkQueueSubmit(queue_, 1, &si, fence);
  if (r == VK_ERROR_DEVICE_LOST) lost_ = true;
  vk_check(r, "vkQueueSubmit");
}

void Device::wait(VkFence fence) {
  const VkResult r = vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
  if (r == VK_ERROR_DEVICE_LOST) lost_ = true;
  vk_check(r, "vkWaitForFences");
}

std::vector<std::string> Device::validation_messages() const {
  std::lock_guard lock(validation_mutex_);
  return validation_log_;
}

}  // namespace tern::gpu

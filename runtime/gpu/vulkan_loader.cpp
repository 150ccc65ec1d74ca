#include "gpu/vulkan_loader.h"

#include <mutex>

#include "common/error.h"

namespace tern::gpu {

void load_vulkan() {
  static const VkResult loaded = volkInitialize();
  if (loaded != VK_SUCCESS)
    throw Error(Status::NoDevice,
                "no Vulkan loader found (libvulkan.so.1 on Linux and Android, vulkan-1.dll on Windows, "
                "libvulkan.1.dylib or MoltenVK on Apple); install one, e.g. libvulkan1 and mesa-vulkan-drivers "
                "on Debian");
}

void load_instance_functions(VkInstance instance) {
  static std::once_flag once;
  std::call_once(once, [instance] { volkLoadInstance(instance); });
}

}  // namespace tern::gpu

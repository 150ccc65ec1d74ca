// The Vulkan loader is opened at run time (volk, Debian's libvulkan-volk-dev): libtern links no
// Vulkan library, so Windows builds need no vulkan-1.lib import library, and a machine without
// Vulkan gets a NoDevice error from tern_model_load instead of a library that will not load.
// Every Vulkan call in Tern goes through the function pointers volk fills in (<volk.h>).
#pragma once
#include <volk.h>

namespace tern::gpu {

// Opens the loader (libvulkan.so.1; vulkan-1.dll; libvulkan.1.dylib or MoltenVK) once per
// process; later calls return at once. Error(NoDevice) when it is not installed.
void load_vulkan();

// Fills in the instance and device function pointers from the first instance created; later
// calls return at once. They are the loader's trampolines, which dispatch on the handle, so
// they serve every instance and device in the process (volkLoadDevice would bind them to one).
void load_instance_functions(VkInstance instance);

}  // namespace tern::gpu

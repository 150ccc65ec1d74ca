// Turns a failed VkResult into a tern::Error with a status the C API can report.
#pragma once
#include <volk.h>

#include <string>

#include "common/error.h"

namespace tern::gpu {

const char* vk_result_name(VkResult r);
Status status_from_vk(VkResult r);

inline void vk_check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw Error(status_from_vk(r), std::string(what) + " failed: " + vk_result_name(r));
}

}  // namespace tern::gpu

#include "gpu/pipeline_cache_file.h"

#include <volk.h>

#include <cstring>

#include "common/fnv1a.h"
#include "platform/file_io.h"

namespace tern::gpu {
namespace {

constexpr char k_magic[8] = {'T', 'E', 'R', 'N', 'P', 'I', 'P', 'E'};
// Refuse absurd sizes before allocating: real caches are kilobytes to a few megabytes.
constexpr uint64_t k_max_file_bytes = 512ull << 20;

struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t header_bytes;
  uint64_t data_bytes;
  uint64_t checksum;
};
static_assert(sizeof(FileHeader) == 32, "the file header is 32 bytes without padding");

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

std::nullopt_t reject(std::string* why, const std::string& msg) {
  if (why) *why = msg;
  return std::nullopt;
}

}  // namespace

std::vector<uint8_t> encode_pipeline_cache(std::span<const uint8_t> driver_data) {
  FileHeader h{};
  std::memcpy(h.magic, k_magic, sizeof k_magic);
  h.format_version = k_pipeline_cache_format_version;
  h.header_bytes = sizeof(FileHeader);
  h.data_bytes = driver_data.size();
  h.checksum = fnv1a(k_fnv1a_offset, driver_data.data(), driver_data.size());
  std::vector<uint8_t> out(sizeof h + driver_data.size());
  std::memcpy(out.data(), &h, sizeof h);
  if (!driver_data.empty()) std::memcpy(out.data() + sizeof h, driver_data.data(), driver_data.size());
  return out;
}

std::optional<std::span<const uint8_t>> decode_pipeline_cache(std::span<const uint8_t> file, const DeviceInfo& device,
                                                              std::string* why) {
  FileHeader h;
  if (file.size() < sizeof h) return reject(why, "shorter than its header");
  std::memcpy(&h, file.data(), sizeof h);
  if (std::memcmp(h.magic, k_magic, sizeof k_magic) != 0) return reject(why, "not a Tern pipeline cache");
  if (h.format_version != k_pipeline_cache_format_version || h.header_bytes != sizeof h)
    return reject(why, "format version " + std::to_string(h.format_version) + ", expected " +
                         std::to_string(k_pipeline_cache_format_version));
  if (h.data_bytes != file.size() - sizeof h)
    return reject(why, "truncated or padded: header says " + std::to_string(h.data_bytes) + " bytes of data, file has " +
                         std::to_string(file.size() - sizeof h));
  const auto data = file.subspan(sizeof h);
  if (fnv1a(k_fnv1a_offset, data.data(), data.size()) != h.checksum) return reject(why, "checksum mismatch");

  VkPipelineCacheHeaderVersionOne vk;
  if (data.size() < sizeof vk) return reject(why, "driver data shorter than its Vulkan header");
  std::memcpy(&vk, data.data(), sizeof vk);
  if (vk.headerSize < sizeof vk || vk.headerSize > data.size())
    return reject(why, "Vulkan header size " + std::to_string(vk.headerSize) + " is invalid");
  if (vk.headerVersion != VK_PIPELINE_CACHE_HEADER_VERSION_ONE)
    return reject(why, "unknown Vulkan pipeline cache header version " + std::to_string(uint32_t(vk.headerVersion)));
  if (vk.vendorID != device.vendor_id || vk.deviceID != device.device_id)
    return reject(why, "made for another device (vendor/device id mismatch)");
  if (std::memcmp(vk.pipelineCacheUUID, device.pipeline_cache_uuid.data(), VK_UUID_SIZE) != 0)
    return reject(why, "made by another driver build (pipelineCacheUUID " + hex(vk.pipelineCacheUUID, VK_UUID_SIZE) +
                         ", this device has " + hex(device.pipeline_cache_uuid.data(), VK_UUID_SIZE) + ")");
  return data;
}

std::optional<std::vector<uint8_t>> read_pipeline_cache_file(const std::string& path, std::string* why) {
  if (why) why->clear();
  std::vector<uint8_t> bytes;
  platform::FileReadError err;
  if (platform::read_file_bounded(path, k_max_file_bytes, bytes, &err)) return bytes;
  if (err.kind == platform::FileReadError::Missing) return std::nullopt;  // no cache yet: nothing to say
  return reject(why, "the file " + err.message);
}

}  // namespace tern::gpu

// The on-disk form of a persisted VkPipelineCache, and the file I/O around it.
//
// Layout: a 32-byte Tern header (magic "TERNPIPE", format version, header size, size of the
// driver blob, FNV-1a 64 checksum of the blob), then the blob vkGetPipelineCacheData returned,
// which starts with VkPipelineCacheHeaderVersionOne. Drivers are supposed to reject a foreign
// blob themselves, but some crash or misbehave instead, so a blob reaches the driver only after
// both headers check out against the device in use.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gpu/device_info.h"

namespace tern::gpu {

inline constexpr uint32_t k_pipeline_cache_format_version = 1;

// Wraps a driver blob in the Tern header.
std::vector<uint8_t> encode_pipeline_cache(std::span<const uint8_t> driver_data);

// The driver blob inside a file's bytes when it is intact and was made for `device`
// (vendorID, deviceID and pipelineCacheUUID match); otherwise nullopt with *why saying what
// is wrong.
std::optional<std::span<const uint8_t>> decode_pipeline_cache(std::span<const uint8_t> file, const DeviceInfo& device,
                                                              std::string* why);

// The whole file (at most 512 MiB, a regular file); nullopt when it does not exist (*why
// empty) or cannot be read (*why set). Written with write_file_atomically (platform/file_io.h).
std::optional<std::vector<uint8_t>> read_pipeline_cache_file(const std::string& path, std::string* why);

}  // namespace tern::gpu

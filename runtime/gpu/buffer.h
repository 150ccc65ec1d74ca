// Device memory: a sub-allocator that carves many VkBuffers out of a few large
// VkDeviceMemory blocks, and the RAII Buffer handle it returns.
#pragma once
#include <volk.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tern::gpu {

class Device;
class Allocator;

enum class MemoryUse {
  Device,   // weights, KV cache, activations: device-local (mapped too on unified memory)
  Staging,  // host-visible, coherent: uploads and read-backs
};

class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { reset(); }

  void reset();
  VkBuffer vk() const { return buffer_; }
  uint64_t size() const { return size_; }
  explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }
  // Host pointer when the memory is host-visible (always for Staging; on unified memory for Device).
  void* mapped() const { return mapped_; }
  MemoryUse use() const { return use_; }

 private:
  friend class Allocator;
  Allocator* owner_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  uint64_t size_ = 0;
  void* mapped_ = nullptr;
  MemoryUse use_ = MemoryUse::Device;
  uint32_t block_ = 0;      // index into the owner's blocks
  uint64_t offset_ = 0;     // within the block
  uint64_t reserved_ = 0;   // bytes reserved in the block (aligned size)
};

class Allocator {
 public:
  explicit Allocator(Device& device);
  ~Allocator();

  // Throws Error(OutOfDeviceMemory) with `what` and the sizes in the message when it cannot.
  Buffer create(uint64_t size, MemoryUse use, const std::string& what);

  uint64_t bytes_in_use(MemoryUse use) const;
  uint64_t bytes_reserved() const;  // VkDeviceMemory allocated in all blocks
  // Test hook: fail allocations past this many bytes in use (0 = no limit).
  void set_limit_for_testing(uint64_t bytes) { limit_ = bytes; }

  // Copies host data into / out of a buffer (direct memcpy when mapped, staging otherwise).
  void write(Buffer& dst, uint64_t offset, const void* src, uint64_t size);
  void read(const Buffer& src, uint64_t offset, void* dst, uint64_t size);

 private:
  friend class Buffer;
  struct Range {
    uint64_t offset, size;
  };
  struct Block {
    VkDeviceMemory memory = VK_NULL_HANDLE;
    uint64_t size = 0;
    uint32_t type = 0;
    MemoryUse use = MemoryUse::Device;
    void* mapped = nullptr;
    std::vector<Range> free;  // sorted by offset, coalesced; capacity >= buffers + 2 (release)
    uint32_t buffers = 0;     // live buffers in the block
  };

  void release(Buffer& b);
  uint32_t memory_type(uint32_t type_bits, MemoryUse use, bool* host_visible) const;
  void copy_via_staging(VkBuffer src, uint64_t src_off, VkBuffer dst, uint64_t dst_off, uint64_t size);

  Device& device_;
  VkPhysicalDeviceMemoryProperties props_{};
  mutable std::mutex mutex_;
  std::vector<Block> blocks_;
  uint64_t in_use_[2] = {0, 0};
  uint64_t limit_ = 0;
  VkCommandPool copy_pool_ = VK_NULL_HANDLE;
};

}  // namespace tern::gpu

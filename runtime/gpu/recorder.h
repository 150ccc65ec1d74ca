// Records a sequence of compute dispatches into one command buffer (a whole forward pass is
// one submit), with barriers between dependent dispatches, descriptor sets from a per-recorder
// pool, and optional per-dispatch GPU timestamps.
#pragma once
#include <volk.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "gpu/buffer.h"
#include "gpu/pipeline.h"

namespace tern::gpu {

class Device;

// A (sub)range of a buffer bound to one shader binding. size 0 means "to the end".
struct BufferRef {
  const Buffer* buffer = nullptr;
  uint64_t offset = 0;
  uint64_t size = 0;
  BufferRef() = default;
  BufferRef(const Buffer& b, uint64_t off = 0, uint64_t sz = 0) : buffer(&b), offset(off), size(sz) {}
  uint64_t bytes() const { return size ? size : buffer->size() - offset; }
};

struct DispatchTiming {
  std::string label;
  double ms = 0;
};

class Recorder {
 public:
  explicit Recorder(Device& device);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  Device& device() { return device_; }

  // Starts a new recording (waits for nothing: submit_and_wait() already waited).
  void begin();
  // Records a dispatch; a memory barrier is inserted before it when earlier dispatches of this
  // recording may have written what it reads.
  void dispatch(const Pipeline& p, std::span<const BufferRef> buffers, const void* push, uint32_t push_bytes,
                uint32_t gx, uint32_t gy = 1, uint32_t gz = 1, const char* label = nullptr);
  template <class Push>
  void dispatch(const Pipeline& p, std::initializer_list<BufferRef> buffers, const Push& push, uint32_t gx,
                uint32_t gy = 1, uint32_t gz = 1, const char* label = nullptr) {
    dispatch(p, std::span<const BufferRef>(buffers.begin(), buffers.size()), &push, sizeof(Push), gx, gy, gz, label);
  }
  void copy(const BufferRef& src, const BufferRef& dst, uint64_t bytes);
  // Several regions between two buffers in one command (one barrier).
  void copy(const Buffer& src, const Buffer& dst, std::span<const VkBufferCopy> regions);
  void fill(const BufferRef& dst, uint32_t value);
  // Ends, submits and waits. Throws DeviceLost / Vulkan errors.
  void submit_and_wait();
  // Number of dispatches recorded since begin().
  uint32_t dispatch_count() const { return dispatches_; }

  // Per-dispatch GPU times of the last submit (only when profiling is on and supported).
  void set_profiling(bool on);
  const std::vector<DispatchTiming>& timings() const { return timings_; }

 private:
  void barrier();
  VkDescriptorSet allocate_set(VkDescriptorSetLayout layout);
  void timestamp(const char* label);

  Device& device_;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  std::vector<VkDescriptorPool> desc_pools_;
  size_t desc_pool_index_ = 0;
  bool recording_ = false;
  bool pending_writes_ = false;
  uint32_t dispatches_ = 0;

  bool profiling_ = false;
  VkQueryPool queries_ = VK_NULL_HANDLE;
  uint32_t query_capacity_ = 0;
  uint32_t queries_used_ = 0;
  std::vector<std::string> labels_;
  std::vector<DispatchTiming> timings_;
};

}  // namespace tern::gpu

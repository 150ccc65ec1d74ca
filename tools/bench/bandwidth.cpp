#include "bench/bandwidth.h"

#include <algorithm>

#include "gpu/buffer.h"
#include "gpu/vk_check.h"

namespace tern::bench {
namespace {

// One command pool, command buffer, fence and 2-entry timestamp pool, freed on scope exit.
struct CopyRig {
  gpu::Device& dev;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VkQueryPool queries = VK_NULL_HANDLE;

  explicit CopyRig(gpu::Device& d, bool timestamps) : dev(d) {
    VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = d.queue_family();
    gpu::vk_check(vkCreateCommandPool(d.vk(), &pi, nullptr, &pool), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    gpu::vk_check(vkAllocateCommandBuffers(d.vk(), &ai, &cmd), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    gpu::vk_check(vkCreateFence(d.vk(), &fi, nullptr, &fence), "vkCreateFence");
    if (timestamps) {
      VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
      qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
      qi.queryCount = 2;
      gpu::vk_check(vkCreateQueryPool(d.vk(), &qi, nullptr, &queries), "vkCreateQueryPool");
    }
  }
  ~CopyRig() {
    if (queries) vkDestroyQueryPool(dev.vk(), queries, nullptr);
    vkDestroyFence(dev.vk(), fence, nullptr);
    vkDestroyCommandPool(dev.vk(), pool, nullptr);
  }
  CopyRig(const CopyRig&) = delete;
  CopyRig& operator=(const CopyRig&) = delete;

  // Records `copies` copies src -> dst (a barrier between them so they cannot overlap), runs
  // them and returns the elapsed ms (timestamps when available, else wall clock).
  double run(const gpu::Buffer& src, const gpu::Buffer& dst, uint64_t bytes, uint32_t copies) {
    gpu::vk_check(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    gpu::vk_check(vkBeginCommandBuffer(cmd, &bi), "vkBeginCommandBuffer");
    if (queries) {
      vkCmdResetQueryPool(cmd, queries, 0, 2);
      vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries, 0);
    }
    const VkBufferCopy region{0, 0, bytes};
    for (uint32_t i = 0; i < copies; ++i) {
      if (i) {
        VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT;
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0,
                             nullptr, 0, nullptr);
      }
      vkCmdCopyBuffer(cmd, src.vk(), dst.vk(), 1, &region);
    }
    if (queries) vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries, 1);
    gpu::vk_check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    gpu::vk_check(vkResetFences(dev.vk(), 1, &fence), "vkResetFences");
    const double t0 = now_ms();
    dev.submit(cmd, fence);
    dev.wait(fence);
    const double wall = now_ms() - t0;
    if (!queries) return wall;
    uint64_t ts[2] = {0, 0};
    gpu::vk_check(vkGetQueryPoolResults(dev.vk(), queries, 0, 2, sizeof ts, ts, 8,
                                        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
                  "vkGetQueryPoolResults");
    return double(ts[1] - ts[0]) * dev.info().timestamp_period_ns * 1e-6;
  }
};

}  // namespace

Bandwidth measure_copy_bandwidth(gpu::Device& device, uint64_t bytes, uint32_t repeats) {
  const auto& info = device.info();
  if (info.device_local_bytes) bytes = std::min<uint64_t>(bytes, info.device_local_bytes / 4);
  if (info.max_memory_allocation_size) bytes = std::min<uint64_t>(bytes, info.max_memory_allocation_size);
  bytes = std::max<uint64_t>(bytes & ~uint64_t(255), 256);
  auto& alloc = device.allocator();
  gpu::Buffer a = alloc.create(bytes, gpu::MemoryUse::Device, "bandwidth source");
  gpu::Buffer b = alloc.create(bytes, gpu::MemoryUse::Device, "bandwidth destination");

  Bandwidth r;
  r.buffer_bytes = bytes;
  r.gpu_timestamps = info.timestamps;
  CopyRig rig(device, info.timestamps);
  rig.run(a, b, bytes, 1);  // warm-up: touches every page of both buffers
  // Enough copies per submission that one takes at least ~20 ms of a 10 GB/s device.
  r.copies = uint32_t(std::clamp<uint64_t>((400ull << 20) / bytes, 1, 64));
  std::vector<double> ms;
  for (uint32_t i = 0; i < std::max<uint32_t>(repeats, 1); ++i) ms.push_back(rig.run(a, b, bytes, r.copies));
  const double moved = 2.0 * double(bytes) * r.copies;
  r.bytes_per_s = spread_of(ms, [&](double t) { return moved / (t * 1e-3); });
  return r;
}

nlohmann::json to_json(const Bandwidth& b) {
  return {{"method", "vkCmdCopyBuffer"},
          {"buffer_bytes", b.buffer_bytes},
          {"copies_per_submit", b.copies},
          {"timer", b.gpu_timestamps ? "gpu-timestamps" : "wall-clock"},
          {"read_write_bytes_per_s", to_json(b.bytes_per_s)}};
}

}  // namespace tern::bench

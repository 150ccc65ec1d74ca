#include "gpu/recorder.h"

#include "gpu/device.h"
#include "gpu/vk_check.h"

namespace tern::gpu {
namespace {
constexpr uint32_t k_sets_per_pool = 512;
constexpr uint32_t k_query_capacity = 4096;
}  // namespace

Recorder::Recorder(Device& device) : device_(device) {
  VkDevice d = device.vk();
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = device.queue_family();
  vk_check(vkCreateCommandPool(d, &pi, nullptr, &pool_), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  vk_check(vkAllocateCommandBuffers(d, &ai, &cmd_), "vkAllocateCommandBuffers");
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  vk_check(vkCreateFence(d, &fi, nullptr, &fence_), "vkCreateFence");
}

Recorder::~Recorder() {
  VkDevice d = device_.vk();
  // A recording abandoned by an exception is freed with its pool, never ended: the buffers it
  // names may be gone already.
  for (auto p : desc_pools_) vkDestroyDescriptorPool(d, p, nullptr);
  if (queries_) vkDestroyQueryPool(d, queries_, nullptr);
  vkDestroyFence(d, fence_, nullptr);
  vkDestroyCommandPool(d, pool_, nullptr);
}

void Recorder::set_profiling(bool on) {
  profiling_ = on && device_.info().timestamps;
  if (profiling_ && !queries_) {
    VkQueryPoolCreateInfo qi{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = k_query_capacity;
    vk_check(vkCreateQueryPool(device_.vk(), &qi, nullptr, &queries_), "vkCreateQueryPool");
    query_capacity_ = k_query_capacity;
  }
}

void Recorder::begin() {
  // A recording left by an exception (a step that failed mid-way) is discarded by the reset.
  VkDevice d = device_.vk();
  vk_check(vkResetCommandBuffer(cmd_, 0), "vkResetCommandBuffer");
  for (auto p : desc_pools_) vkResetDescriptorPool(d, p, 0);
  desc_pool_index_ = 0;
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vk_check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
  recording_ = true;
  pending_writes_ = false;
  dispatches_ = 0;
  queries_used_ = 0;
  labels_.clear();
  if (profiling_) {
    vkCmdResetQueryPool(cmd_, queries_, 0, query_capacity_);
    timestamp("begin");
  }
}

VkDescriptorSet Recorder::allocate_set(VkDescriptorSetLayout layout) {
  VkDevice d = device_.vk();
  while (true) {
    if (desc_pool_index_ == desc_pools_.size()) {
      VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, k_sets_per_pool * 8};
      VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
      pi.maxSets = k_sets_per_pool;
      pi.poolSizeCount = 1;
      pi.pPoolSizes = &size;
      VkDescriptorPool pool;
      vk_check(vkCreateDescriptorPool(d, &pi, nullptr, &pool), "vkCreateDescriptorPool");
      desc_pools_.push_back(pool);
    }
    VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = desc_pools_[desc_pool_index_];
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set;
    const VkResult r = vkAllocateDescriptorSets(d, &ai, &set);
    if (r == VK_SUCCESS) return set;
    if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) vk_check(r, "vkAllocateDescriptorSets");
    ++desc_pool_index_;
  }
}

void Recorder::barrier() {
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                     VK_ACCESS_TRANSFER_WRITE_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, nullptr, 0,
                       nullptr);
  pending_writes_ = false;
}

void Recorder::timestamp(const char* label) {
  if (!profiling_ || queries_used_ >= query_capacity_) return;
  vkCmdWriteTimestamp(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, queries_, queries_used_++);
  labels_.emplace_back(label ? label : "?");
}

void Recorder::dispatch(const Pipeline& p, std::span<const BufferRef> buffers, const void* push, uint32_t push_bytes,
                        uint32_t gx, uint32_t gy, uint32_t gz, const char* label) {
  check(recording_, Status::Internal, "Recorder::dispatch outside begin/submit");
  // Ops static_assert both against the shader's declaration (gpu/shader_id.h); shaders chosen at
  // run time are checked here.
  check(buffers.size() == p.desc.buffers(), Status::Internal, [&] {
    return "dispatch of " + p.desc.name() + ": " + std::to_string(buffers.size()) +
           " buffers for a shader that declares " + std::to_string(p.desc.buffers());
  });
  check(push_bytes == p.desc.push_bytes(), Status::Internal, [&] {
    return "dispatch of " + p.desc.name() + ": " + std::to_string(push_bytes) +
           " bytes of push constants for a block of " + std::to_string(p.desc.push_bytes());
  });
  const auto& info = device_.info();
  check(gx <= info.max_workgroup_count[0] && gy <= info.max_workgroup_count[1] && gz <= info.max_workgroup_count[2],
        Status::Internal, [&] { return "dispatch of " + p.desc.name() + ": grid exceeds maxComputeWorkGroupCount"; });
  if (gx == 0 || gy == 0 || gz == 0) return;

  VkDescriptorSet set = allocate_set(p.set_layout);
  std::vector<VkDescriptorBufferInfo> infos(buffers.size());
  std::vector<VkWriteDescriptorSet> writes(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    const BufferRef& b = buffers[i];
    check(b.buffer && b.buffer->vk(), Status::Internal,
          [&] { return "dispatch of " + p.desc.name() + ": null buffer"; });
    check(b.offset + b.bytes() <= b.buffer->size(), Status::Internal,
          [&] { return "dispatch of " + p.desc.name() + ": range past buffer"; });
    check(b.bytes() <= info.max_storage_buffer_range, Status::Unsupported, [&] {
      return p.desc.name() + ": a binding of " + std::to_string(b.bytes()) +
             " bytes exceeds the device's maxStorageBufferRange";
    });
    infos[i] = {b.buffer->vk(), b.offset, b.size ? b.size : VK_WHOLE_SIZE};
    writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[i].dstSet = set;
    writes[i].dstBinding = uint32_t(i);
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  vkUpdateDescriptorSets(device_.vk(), uint32_t(writes.size()), writes.data(), 0, nullptr);

  if (pending_writes_) barrier();
  vkCmdBindPipeline(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
  vkCmdBindDescriptorSets(cmd_, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
  if (push_bytes) vkCmdPushConstants(cmd_, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  vkCmdDispatch(cmd_, gx, gy, gz);
  pending_writes_ = true;
  ++dispatches_;
  timestamp(label ? label : shader_name(p.desc.shader).data());  // the names are literals: NUL-terminated
}

void Recorder::copy(const BufferRef& src, const BufferRef& dst, uint64_t bytes) {
  if (pending_writes_) barrier();
  VkBufferCopy region{src.offset, dst.offset, bytes};
  vkCmdCopyBuffer(cmd_, src.buffer->vk(), dst.buffer->vk(), 1, &region);
  pending_writes_ = true;
}

void Recorder::copy(const Buffer& src, const Buffer& dst, std::span<const VkBufferCopy> regions) {
  if (regions.empty()) return;
  if (pending_writes_) barrier();
  vkCmdCopyBuffer(cmd_, src.vk(), dst.vk(), uint32_t(regions.size()), regions.data());
  pending_writes_ = true;
}

void Recorder::fill(const BufferRef& dst, uint32_t value) {
  if (pending_writes_) barrier();
  vkCmdFillBuffer(cmd_, dst.buffer->vk(), dst.offset, dst.size ? dst.size : VK_WHOLE_SIZE, value);
  pending_writes_ = true;
}

void Recorder::submit_and_wait() {
  check(recording_, Status::Internal, "Recorder::submit_and_wait without begin");
  // Make shader writes visible to host reads of mapped memory.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  recording_ = false;
  vk_check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
  vk_check(vkResetFences(device_.vk(), 1, &fence_), "vkResetFences");
  device_.submit(cmd_, fence_);
  device_.wait(fence_);

  timings_.clear();
  if (profiling_ && queries_used_ > 1) {
    std::vector<uint64_t> ts(queries_used_);
    vk_check(vkGetQueryPoolResults(device_.vk(), queries_, 0, queries_used_, ts.size() * 8, ts.data(), 8,
                                   VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
             "vkGetQueryPoolResults");
    const double period = device_.info().timestamp_period_ns;
    for (uint32_t i = 1; i < queries_used_; ++i)
      timings_.push_back({labels_[i], double(ts[i] - ts[i - 1]) * period * 1e-6});
  }
}

}  // namespace tern::gpu

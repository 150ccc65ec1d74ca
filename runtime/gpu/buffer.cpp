#include "gpu/buffer.h"

#include <algorithm>
#include <cstring>

#include "gpu/device.h"
#include "gpu/fault_injection.h"
#include "gpu/vk_check.h"

namespace tern::gpu {
namespace {

constexpr uint64_t k_block_size = 256ull << 20;  // one VkDeviceMemory per 256 MiB
constexpr uint64_t k_staging_chunk = 32ull << 20;
constexpr uint64_t k_kept_staging_block = 1ull << 20;  // emptied staging blocks up to this stay

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    reset();
    owner_ = o.owner_;
    buffer_ = o.buffer_;
    size_ = o.size_;
    mapped_ = o.mapped_;
    use_ = o.use_;
    block_ = o.block_;
    offset_ = o.offset_;
    reserved_ = o.reserved_;
    o.owner_ = nullptr;
    o.buffer_ = VK_NULL_HANDLE;
    o.mapped_ = nullptr;
  }
  return *this;
}

void Buffer::reset() {
  if (owner_ && buffer_) owner_->release(*this);
  owner_ = nullptr;
  buffer_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
  size_ = 0;
}

Allocator::Allocator(Device& device) : device_(device) {
  vkGetPhysicalDeviceMemoryProperties(device.physical(), &props_);
  VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
  pi.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT | VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = device.queue_family();
  vk_check(vkCreateCommandPool(device.vk(), &pi, nullptr, &copy_pool_), "vkCreateCommandPool");
}

Allocator::~Allocator() {
  for (auto& b : blocks_) {
    if (b.mapped) vkUnmapMemory(device_.vk(), b.memory);
    vkFreeMemory(device_.vk(), b.memory, nullptr);
  }
  vkDestroyCommandPool(device_.vk(), copy_pool_, nullptr);
}

uint32_t Allocator::memory_type(uint32_t type_bits, MemoryUse use, bool* host_visible) const {
  // Preference lists: the first flags set that some allowed type has wins.
  const VkMemoryPropertyFlags device_pref[] = {
      VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
      VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0};
  const VkMemoryPropertyFlags staging_pref[] = {
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT};
  const VkMemoryPropertyFlags* pref = use == MemoryUse::Device ? device_pref : staging_pref;
  const size_t n = use == MemoryUse::Device ? 3 : 2;
  for (size_t p = 0; p < n; ++p)
    for (uint32_t i = 0; i < props_.memoryTypeCount; ++i) {
      const auto flags = props_.memoryTypes[i].propertyFlags;
      if ((type_bits & (1u << i)) && (flags & pref[p]) == pref[p]) {
        // A device-local + host-visible type on a discrete GPU is the small BAR window: use it
        // only when it is the whole device-local heap (unified memory).
        if (use == MemoryUse::Device && p == 0 && !device_.info().unified_memory) continue;
        *host_visible = (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) && (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        return i;
      }
    }
  throw Error(Status::Vulkan, "no suitable Vulkan memory type");
}

Buffer Allocator::create(uint64_t size, MemoryUse use, const std::string& what) {
  if (size == 0) size = 4;
  if (fault::should_fail(fault::Kind::DeviceAlloc))
    throw Error(Status::OutOfDeviceMemory, "out of device memory: allocating " + mib(size) + " for " + what + " (injected fault)");
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer vkb = VK_NULL_HANDLE;
  vk_check(vkCreateBuffer(device_.vk(), &bi, nullptr, &vkb), "vkCreateBuffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(device_.vk(), vkb, &req);
  const uint64_t align = std::max<uint64_t>({req.alignment, device_.info().min_storage_buffer_offset_alignment, 256});
  const uint64_t need = align_up(req.size, align);

  std::lock_guard lock(mutex_);
  auto fail = [&](const std::string& why) {
    vkDestroyBuffer(device_.vk(), vkb, nullptr);
    throw Error(Status::OutOfDeviceMemory, "out of device memory: allocating " + mib(size) + " for " + what + " (" +
                                               why + "; " + mib(in_use_[0] + in_use_[1]) + " already in use)");
  };
  if (limit_ && in_use_[0] + in_use_[1] + need > limit_) fail("test limit reached");
  if (device_.info().max_memory_allocation_size && need > device_.info().max_memory_allocation_size)
    fail("larger than the device's maxMemoryAllocationSize");

  // release() runs in destructors and must not allocate: the host memory it and this call need
  // is taken here first, before anything changes (a failure then leaves nothing behind).
  auto host_memory = [&](auto&& take) {
    try {
      take();
    } catch (...) {
      vkDestroyBuffer(device_.vk(), vkb, nullptr);
      throw;
    }
  };
  host_memory([&] { blocks_.reserve(blocks_.size() + 1); });

  bool host_visible = false;
  const uint32_t type = memory_type(req.memoryTypeBits, use, &host_visible);
  // First fit in an existing block of the same type and use; on a miss, add a block and retry.
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (uint32_t bi_ = 0; bi_ < blocks_.size(); ++bi_) {
      Block& b = blocks_[bi_];
      if (b.type != type || b.use != use) continue;
      for (size_t fi = 0; fi < b.free.size(); ++fi) {
        const Range r = b.free[fi];
        const uint64_t start = align_up(r.offset, align);
        if (start + need > r.offset + r.size) continue;
        // Free ranges never outnumber the block's buffers + 1, so release() inserts into room
        // that is already there.
        host_memory([&] { b.free.reserve(b.buffers + 3); });
        const VkResult res = vkBindBufferMemory(device_.vk(), vkb, b.memory, start);
        if (res != VK_SUCCESS) fail(vk_result_name(res));
        const Range before{r.offset, start - r.offset};
        const Range after{start + need, r.offset + r.size - start - need};
        b.free.erase(b.free.begin() + long(fi));
        if (after.size) b.free.insert(b.free.begin() + long(fi), after);
        if (before.size) b.free.insert(b.free.begin() + long(fi), before);
        Buffer out;
        out.owner_ = this;
        out.buffer_ = vkb;
        out.size_ = size;
        out.use_ = use;
        out.block_ = bi_;
        out.offset_ = start;
        out.reserved_ = need;
        out.mapped_ = b.mapped ? static_cast<char*>(b.mapped) + start : nullptr;
        in_use_[int(use)] += need;
        ++b.buffers;
        return out;
      }
    }
    if (attempt == 1) break;
    Block nb;
    nb.size = std::max(need, use == MemoryUse::Device ? k_block_size : need);
    if (device_.info().max_memory_allocation_size)
      nb.size = std::min<uint64_t>(nb.size, device_.info().max_memory_allocation_size);
    nb.type = type;
    nb.use = use;
    host_memory([&] { nb.free.reserve(3); });
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = nb.size;
    ai.memoryTypeIndex = type;
    VkResult res = vkAllocateMemory(device_.vk(), &ai, nullptr, &nb.memory);
    if (res != VK_SUCCESS && nb.size > need) {  // retry with just what is needed
      nb.size = need;
      ai.allocationSize = need;
      res = vkAllocateMemory(device_.vk(), &ai, nullptr, &nb.memory);
    }
    if (res != VK_SUCCESS) fail(vk_result_name(res));
    if (host_visible) {
      res = vkMapMemory(device_.vk(), nb.memory, 0, VK_WHOLE_SIZE, 0, &nb.mapped);
      if (res != VK_SUCCESS) {
        vkFreeMemory(device_.vk(), nb.memory, nullptr);
        fail(vk_result_name(res));
      }
    }
    nb.free.push_back({0, nb.size});
    // A released block's slot is reused (buffers name their block by index).
    auto slot = std::find_if(blocks_.begin(), blocks_.end(), [](const Block& b) { return b.memory == VK_NULL_HANDLE; });
    if (slot != blocks_.end())
      *slot = std::move(nb);
    else
      blocks_.push_back(std::move(nb));
  }
  fail("internal: fresh block did not fit");
  return {};
}

void Allocator::release(Buffer& b) {
  vkDestroyBuffer(device_.vk(), b.buffer_, nullptr);
  std::lock_guard lock(mutex_);
  in_use_[int(b.use_)] -= b.reserved_;
  --blocks_[b.block_].buffers;
  auto& fl = blocks_[b.block_].free;  // has room for the insert below (create reserved it)
  Range r{b.offset_, b.reserved_};
  auto it = std::lower_bound(fl.begin(), fl.end(), r, [](const Range& a, const Range& c) { return a.offset < c.offset; });
  it = fl.insert(it, r);
  // Coalesce with neighbours.
  if (it + 1 != fl.end() && it->offset + it->size == (it + 1)->offset) {
    it->size += (it + 1)->size;
    fl.erase(it + 1);
  }
  if (it != fl.begin() && (it - 1)->offset + (it - 1)->size == it->offset) {
    (it - 1)->size += it->size;
    fl.erase(it);
  }
  // An empty block goes back to the driver (on unified memory, to the system): memory a freed
  // context or a finished upload used is not held for the process's life. Small staging blocks
  // stay for the per-step uploads of discrete GPUs.
  Block& blk = blocks_[b.block_];
  const bool empty = fl.size() == 1 && fl[0].offset == 0 && fl[0].size == blk.size;
  if (empty && (blk.use == MemoryUse::Device || blk.size > k_kept_staging_block)) {
    vkFreeMemory(device_.vk(), blk.memory, nullptr);  // unmaps too
    blk = Block{};
  }
}

uint64_t Allocator::bytes_in_use(MemoryUse use) const {
  std::lock_guard lock(mutex_);
  return in_use_[int(use)];
}

uint64_t Allocator::bytes_reserved() const {
  std::lock_guard lock(mutex_);
  uint64_t s = 0;
  for (const auto& b : blocks_) s += b.size;
  return s;
}

void Allocator::copy_via_staging(VkBuffer src, uint64_t src_off, VkBuffer dst, uint64_t dst_off, uint64_t size) {
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = copy_pool_;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  VkCommandBuffer cmd;
  std::lock_guard lock(mutex_);  // the pool is not thread-safe
  vk_check(vkAllocateCommandBuffers(device_.vk(), &ai, &cmd), "vkAllocateCommandBuffers");
  VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vkBeginCommandBuffer(cmd, &bi);
  VkBufferCopy region{src_off, dst_off, size};
  vkCmdCopyBuffer(cmd, src, dst, 1, &region);
  vkEndCommandBuffer(cmd);
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence;
  vk_check(vkCreateFence(device_.vk(), &fi, nullptr, &fence), "vkCreateFence");
  try {
    device_.submit(cmd, fence);
    device_.wait(fence);
  } catch (...) {
    vkDestroyFence(device_.vk(), fence, nullptr);
    vkFreeCommandBuffers(device_.vk(), copy_pool_, 1, &cmd);
    throw;
  }
  vkDestroyFence(device_.vk(), fence, nullptr);
  vkFreeCommandBuffers(device_.vk(), copy_pool_, 1, &cmd);
}

void Allocator::write(Buffer& dst, uint64_t offset, const void* src, uint64_t size) {
  check(offset + size <= dst.size() && offset + size >= offset, Status::Internal, "buffer write out of range");
  if (dst.mapped()) {
    std::memcpy(static_cast<char*>(dst.mapped()) + offset, src, size);
    return;
  }
  Buffer staging = create(std::min(size, k_staging_chunk), MemoryUse::Staging, "upload staging");
  for (uint64_t done = 0; done < size; done += k_staging_chunk) {
    const uint64_t n = std::min(k_staging_chunk, size - done);
    std::memcpy(staging.mapped(), static_cast<const char*>(src) + done, n);
    copy_via_staging(staging.vk(), 0, dst.vk(), offset + done, n);
  }
}

void Allocator::read(const Buffer& src, uint64_t offset, void* dst, uint64_t size) {
  check(offset + size <= src.size() && offset + size >= offset, Status::Internal, "buffer read out of range");
  if (src.mapped()) {
    std::memcpy(dst, static_cast<const char*>(src.mapped()) + offset, size);
    return;
  }
  Buffer staging = create(std::min(size, k_staging_chunk), MemoryUse::Staging, "download staging");
  for (uint64_t done = 0; done < size; done += k_staging_chunk) {
    const uint64_t n = std::min(k_staging_chunk, size - done);
    copy_via_staging(src.vk(), offset + done, staging.vk(), 0, n);
    std::memcpy(static_cast<char*>(dst) + done, staging.mapped(), n);
  }
}

}  // namespace tern::gpu

// The device memory sub-allocator: many buffers per VkDeviceMemory block, reuse after free,
// data round trips, and a clear OutOfDeviceMemory error instead of a crash.
#include "gpu/buffer.h"

#include <numeric>

#include "common/error.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

class AllocatorTest : public GpuTest {};

TEST_F(AllocatorTest, SmallBuffersShareOneBlockAndMemoryIsReused) {
  auto& a = dev().allocator();
  const uint64_t reserved0 = a.bytes_reserved();
  const uint64_t in_use0 = a.bytes_in_use(gpu::MemoryUse::Device);
  {
    std::vector<gpu::Buffer> bufs;
    for (int i = 0; i < 64; ++i) bufs.push_back(a.create(1000 + i, gpu::MemoryUse::Device, "small"));
    EXPECT_GT(a.bytes_in_use(gpu::MemoryUse::Device), in_use0);
    // 64 small buffers need at most one new block.
    EXPECT_LE(a.bytes_reserved() - reserved0, 256ull << 20);
  }
  EXPECT_EQ(a.bytes_in_use(gpu::MemoryUse::Device), in_use0);  // all returned
  const uint64_t reserved1 = a.bytes_reserved();
  { auto again = a.create(1 << 20, gpu::MemoryUse::Device, "reuse"); }
  EXPECT_EQ(a.bytes_reserved(), reserved1);  // freed space was reused, no new block
}

// A block left empty goes back to the driver: a freed context's memory is not held for good.
TEST_F(AllocatorTest, EmptyBlocksAreReturned) {
  auto& a = dev().allocator();
  const uint64_t reserved0 = a.bytes_reserved();
  {
    // Larger than a 256 MiB block, so no existing block can hold it: a block of its own.
    auto big = a.create(300ull << 20, gpu::MemoryUse::Device, "bigger than a block");
    EXPECT_GE(a.bytes_reserved(), reserved0 + (300ull << 20));
  }
  EXPECT_EQ(a.bytes_reserved(), reserved0);
  {
    // On a discrete GPU this upload goes through a staging block larger than the one kept.
    std::vector<uint8_t> data(40 << 20, 7);
    auto b = a.create(data.size(), gpu::MemoryUse::Device, "upload target");
    a.write(b, 0, data.data(), data.size());
    std::vector<uint8_t> back(data.size());
    a.read(b, 0, back.data(), back.size());
    EXPECT_EQ(back, data);
  }
  EXPECT_LE(a.bytes_reserved(), reserved0 + (1 << 20));  // at most one small kept staging block
  auto again = a.create(300ull << 20, gpu::MemoryUse::Device, "a released slot reused");
  std::vector<uint32_t> word = {0xfeedbeef};
  a.write(again, (300ull << 20) - 4, word.data(), 4);
  std::vector<uint32_t> got(1);
  a.read(again, (300ull << 20) - 4, got.data(), 4);
  EXPECT_EQ(got, word);
}

TEST_F(AllocatorTest, WriteReadRoundTripAtOffsets) {
  auto& a = dev().allocator();
  std::vector<uint32_t> data(10007);
  std::iota(data.begin(), data.end(), 7u);
  auto b = a.create(data.size() * 4 + 64, gpu::MemoryUse::Device, "round trip");
  a.write(b, 64, data.data(), data.size() * 4);
  std::vector<uint32_t> back(data.size());
  a.read(b, 64, back.data(), back.size() * 4);
  EXPECT_EQ(back, data);
  EXPECT_THROW(a.write(b, b.size() - 2, data.data(), 8), Error);  // out of range is refused
}

TEST_F(AllocatorTest, OutOfDeviceMemoryIsAClearError) {
  auto& a = dev().allocator();
  a.set_limit_for_testing(a.bytes_in_use(gpu::MemoryUse::Device) + a.bytes_in_use(gpu::MemoryUse::Staging) + (8 << 20));
  try {
    auto b = a.create(64ull << 20, gpu::MemoryUse::Device, "a big tensor");
    a.set_limit_for_testing(0);
    FAIL() << "expected OutOfDeviceMemory";
  } catch (const Error& e) {
    a.set_limit_for_testing(0);
    EXPECT_EQ(e.status(), Status::OutOfDeviceMemory);
    EXPECT_NE(std::string(e.what()).find("a big tensor"), std::string::npos) << e.what();
  }
  // A request larger than the device can ever allocate fails the same way.
  EXPECT_THROW(a.create(1ull << 50, gpu::MemoryUse::Device, "absurd"), Error);
}

TEST(DeviceSelection, UnknownSelectorIsNoDevice) {
  gpu::DeviceOptions o;
  o.selector = "no-such-gpu-name";
  try {
    gpu::Device::create(o);
    FAIL() << "expected NoDevice";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::NoDevice);
  }
  o.selector = "0";  // by index
  EXPECT_NO_THROW(gpu::Device::create(o));
  EXPECT_FALSE(gpu::Device::enumerate().empty());
}

}  // namespace
}  // namespace tern::test

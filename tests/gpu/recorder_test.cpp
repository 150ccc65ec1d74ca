// The recorder after an exception mid-recording (a forward step failing half-way): the next
// begin() discards the abandoned recording, and destroying a recorder that is still recording
// after its buffers are gone is clean. The fixture fails on any validation message.
#include "gpu/recorder.h"

#include <vector>

#include "ops/add.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

class RecorderTest : public GpuTest {};

std::vector<float> read_floats(gpu::Device& dev, const gpu::Buffer& b, size_t n) {
  std::vector<float> out(n);
  dev.allocator().read(b, 0, out.data(), n * 4);
  return out;
}

TEST_F(RecorderTest, BeginDiscardsAnAbandonedRecording) {
  auto& a = dev().allocator();
  const uint32_t n = 1000;
  gpu::Recorder r(dev());
  {
    auto gone = a.create(n * 4, gpu::MemoryUse::Device, "abandoned");
    r.begin();
    ops::add(r, gone, gone, gone, n);  // recorded, never submitted: the step "threw"
  }
  std::vector<float> ones(n, 1.f);
  auto x = a.create(n * 4, gpu::MemoryUse::Device, "x");
  auto y = a.create(n * 4, gpu::MemoryUse::Device, "y");
  a.write(x, 0, ones.data(), n * 4);
  r.begin();
  ops::add(r, x, x, y, n);
  r.submit_and_wait();
  EXPECT_EQ(read_floats(dev(), y, n), std::vector<float>(n, 2.f));
}

TEST_F(RecorderTest, DestroyedWhileRecordingAfterItsBuffers) {
  auto& a = dev().allocator();
  auto r = std::make_unique<gpu::Recorder>(dev());
  {
    auto gone = a.create(4096, gpu::MemoryUse::Device, "gone");
    r->begin();
    ops::add(*r, gone, gone, gone, 1024);
  }
  r.reset();
  SUCCEED();  // the fixture's check: no validation message
}

}  // namespace
}  // namespace tern::test

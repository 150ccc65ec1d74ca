// The persisted pipeline cache: the file round trip on the test device, every way a file can
// be unusable (each ignored without an error and without reaching the driver), an unwritable
// path, and the model-level cycle: the first load writes the file, the next one is seeded by it.
#include "gpu/pipeline.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "gpu/pipeline_cache_file.h"
#include "model/model.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

namespace fs = std::filesystem;

// The descriptor ops::add uses: a real pipeline to put into the cache.
const gpu::PipelineDesc k_add{gpu::ShaderId::add, {256}};

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

class PipelineCacheFileTest : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    dir_ = scratch_dir("pipeline_cache_test");
    dev().pipelines().get(k_add);
  }
  // A valid file for the test device.
  std::vector<uint8_t> valid_file() { return gpu::encode_pipeline_cache(dev().pipelines().data()); }
  // Seeds from bytes written to a file; expects them ignored with a reason and no error.
  void expect_ignored(const std::vector<uint8_t>& bytes, const std::string& what) {
    const fs::path p = dir_ / "bad.pipelines";
    write_bytes(p, bytes);
    const uint32_t before = dev().pipelines().seeded_from_disk();
    std::string why;
    bool seeded = true;
    EXPECT_NO_THROW(seeded = dev().pipelines().seed_from_file(p.string(), &why)) << what;
    EXPECT_FALSE(seeded) << what;
    EXPECT_FALSE(why.empty()) << what;
    EXPECT_EQ(dev().pipelines().seeded_from_disk(), before) << what;
  }
  fs::path dir_;
};

TEST_F(PipelineCacheFileTest, DriverBlobStartsWithThisDevicesVulkanHeader) {
  const auto blob = dev().pipelines().data();
  ASSERT_GE(blob.size(), sizeof(VkPipelineCacheHeaderVersionOne));
  std::string why;
  const auto file = gpu::encode_pipeline_cache(blob);
  const auto back = gpu::decode_pipeline_cache(file, dev().info(), &why);
  ASSERT_TRUE(back.has_value()) << why;
  EXPECT_EQ(std::vector<uint8_t>(back->begin(), back->end()), blob);
}

TEST_F(PipelineCacheFileTest, SaveThenSeedMergesTheFile) {
  const fs::path p = dir_ / "roundtrip.pipelines";
  std::string why;
  ASSERT_TRUE(dev().pipelines().save_to_file(p.string(), &why)) << why;
  EXPECT_EQ(read_bytes(p), valid_file());
  const uint32_t before = dev().pipelines().seeded_from_disk();
  EXPECT_TRUE(dev().pipelines().seed_from_file(p.string(), &why)) << why;
  EXPECT_EQ(dev().pipelines().seeded_from_disk(), before + 1);
  for (const auto& e : fs::directory_iterator(dir_))  // no temporary file left behind
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(PipelineCacheFileTest, MissingFileIsQuietlyAbsent) {
  std::string why = "unchanged?";
  EXPECT_FALSE(dev().pipelines().seed_from_file((dir_ / "does-not-exist").string(), &why));
  EXPECT_TRUE(why.empty()) << why;
}

TEST_F(PipelineCacheFileTest, TruncatedFilesAreIgnored) {
  const auto good = valid_file();
  for (size_t keep : {size_t(0), size_t(7), size_t(31), size_t(32), size_t(40), good.size() - 1})
    expect_ignored(std::vector<uint8_t>(good.begin(), good.begin() + std::ptrdiff_t(keep)),
                   "truncated to " + std::to_string(keep));
  auto longer = good;
  longer.push_back(0);
  expect_ignored(longer, "one byte appended");
}

TEST_F(PipelineCacheFileTest, GarbageIsIgnored) {
  const std::string text = "this is not a pipeline cache, it is a sentence long enough to have headers";
  expect_ignored(std::vector<uint8_t>(text.begin(), text.end()), "text");
  std::vector<uint8_t> noise(4096);
  uint32_t x = 12345;
  for (auto& b : noise) b = uint8_t((x = x * 1664525u + 1013904223u) >> 24);
  expect_ignored(noise, "random bytes");
  auto flipped = valid_file();
  flipped.back() ^= 0x5a;
  expect_ignored(flipped, "a flipped data byte (checksum)");
  auto magic = valid_file();
  magic[0] = 'X';
  expect_ignored(magic, "wrong magic");
  auto version = valid_file();
  version[8] = 99;
  expect_ignored(version, "unknown format version");
}

// Re-encodes a changed driver blob, so only the Vulkan header check can catch it.
TEST_F(PipelineCacheFileTest, ForeignDeviceOrDriverIsIgnored) {
  const auto blob = dev().pipelines().data();
  auto edit = [&](auto change) {
    auto b = blob;
    VkPipelineCacheHeaderVersionOne h;
    std::memcpy(&h, b.data(), sizeof h);
    change(h);
    std::memcpy(b.data(), &h, sizeof h);
    return gpu::encode_pipeline_cache(b);
  };
  expect_ignored(edit([](auto& h) { h.pipelineCacheUUID[3] ^= 1; }), "wrong pipelineCacheUUID");
  expect_ignored(edit([](auto& h) { h.vendorID ^= 1; }), "wrong vendorID");
  expect_ignored(edit([](auto& h) { h.deviceID ^= 1; }), "wrong deviceID");
  expect_ignored(edit([](auto& h) { h.headerVersion = VkPipelineCacheHeaderVersion(2); }), "header version 2");
  expect_ignored(edit([](auto& h) { h.headerSize = 8; }), "header size too small");
  expect_ignored(edit([&](auto& h) { h.headerSize = uint32_t(blob.size() + 1); }), "header size past the data");
}

TEST_F(PipelineCacheFileTest, UnwritablePathFailsWithAReason) {
  const fs::path not_a_dir = dir_ / "plain-file";
  write_bytes(not_a_dir, {1, 2, 3});
  std::string why;
  bool saved = true;
  EXPECT_NO_THROW(saved = dev().pipelines().save_to_file((not_a_dir / "cache.pipelines").string(), &why));
  EXPECT_FALSE(saved);
  EXPECT_FALSE(why.empty());
}

// Model level: each load makes its own device (a fresh, empty VkPipelineCache), as an app does.
class PipelineCacheModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = stories260k_gguf(GgmlType::F32);
    if (model_.empty()) GTEST_SKIP() << "shared/models/stories260K.bin is absent";
    dir_ = scratch_dir("pipeline_cache_model_test");
  }
  std::shared_ptr<Model> load(const fs::path& cache) {
    ModelLoadOptions o;
    o.validation = true;
    o.pipeline_cache_path = cache.string();
    auto m = Model::load(model_.string(), o);
    m->device().pipelines().get(k_add);
    return m;
  }
  static void expect_clean(const Model& m) {
    EXPECT_EQ(m.device().validation_message_count(), 0u)
        << (m.device().validation_messages().empty() ? "" : m.device().validation_messages()[0]);
  }
  fs::path model_, dir_;
};

TEST_F(PipelineCacheModelTest, FirstLoadWritesTheFileAndTheNextIsSeededByIt) {
  const fs::path cache = dir_ / "model.pipelines";
  fs::remove(cache);
  auto m = load(cache);
  EXPECT_EQ(m->pipeline_cache_path(), cache.string());
  EXPECT_FALSE(m->pipeline_cache_seeded());
  EXPECT_FALSE(fs::exists(cache));  // written on free, not before
  expect_clean(*m);
  m.reset();
  ASSERT_TRUE(fs::exists(cache));

  m = load(cache);
  EXPECT_TRUE(m->pipeline_cache_seeded());
  EXPECT_EQ(m->device().pipelines().seeded_from_disk(), 1u);
  std::string why;
  const auto file = read_bytes(cache);
  EXPECT_TRUE(gpu::decode_pipeline_cache(file, m->device().info(), &why).has_value()) << why;
  expect_clean(*m);
}

TEST_F(PipelineCacheModelTest, CorruptFileIsIgnoredWithAWarningAndReplaced) {
  const fs::path cache = dir_ / "corrupt.pipelines";
  write_bytes(cache, {'T', 'E', 'R', 'N', 'P', 'I', 'P', 'E', 1, 0, 0});
  testing::internal::CaptureStderr();
  auto m = load(cache);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(m->pipeline_cache_seeded());
  EXPECT_NE(err.find("warning: pipeline cache"), std::string::npos) << err;
  expect_clean(*m);
  const gpu::DeviceInfo info = m->device().info();
  m.reset();
  std::string why;
  EXPECT_TRUE(gpu::decode_pipeline_cache(read_bytes(cache), info, &why).has_value()) << why;
}

TEST_F(PipelineCacheModelTest, UnwritablePathWarnsOnFreeAndNeverFails) {
  const fs::path not_a_dir = dir_ / "plain-file";
  write_bytes(not_a_dir, {1});
  std::shared_ptr<Model> m;
  ASSERT_NO_THROW(m = load(not_a_dir / "cache.pipelines"));
  testing::internal::CaptureStderr();
  m.reset();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("warning: pipeline cache not saved"), std::string::npos) << err;
}

}  // namespace
}  // namespace tern::test

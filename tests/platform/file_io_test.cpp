// The platform layer's bounded read and atomic write (platform/file_io.h), under a non-ASCII
// name. Saved states and the pipeline cache go through them, but the tests of those need a GPU;
// this one needs none, so the Windows cross build runs it under Wine (platforms/windows/test.sh),
// where file_io_win32.cpp's CreateFileW path is the one tested.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "platform/file_io.h"
#include "support/test_env.h"

namespace tern::platform {
namespace {

namespace fs = std::filesystem;

const std::string k_name = "\xC3\xA9tat \xE7\x8A\xB6\xE6\x80\x81.bin";  // "état 状态.bin"

std::string utf8_in(const fs::path& dir, const std::string& name) { return path_to_utf8(dir / path_from_utf8(name)); }

std::vector<uint8_t> bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
  return v;
}

TEST(FileIo, AtomicWriteThenBoundedReadRoundTrips) {
  const fs::path dir = test::scratch_dir("file_io_round_trip");
  const std::string path = utf8_in(dir, k_name);
  std::string why;
  ASSERT_TRUE(write_file_atomically(path, bytes(1000, 1), &why)) << why;
  ASSERT_TRUE(write_file_atomically(path, bytes(300, 2), &why)) << why;  // replaces, shorter
  std::vector<uint8_t> got{9, 9};
  FileReadError err;
  ASSERT_TRUE(read_file_bounded(path, 300, got, &err)) << err.message;
  EXPECT_EQ(got, bytes(300, 2));
  EXPECT_EQ(err.kind, FileReadError::None);
  // Nothing but the file is left in the folder (no temporary file beside it).
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.path().filename() == path_from_utf8(k_name) ? 1 : 100;
  EXPECT_EQ(entries, 1u);
}

TEST(FileIo, BoundedReadRefusesWhatItMustNotRead) {
  const fs::path dir = test::scratch_dir("file_io_refusals");
  const std::string path = utf8_in(dir, k_name);
  std::string why;
  ASSERT_TRUE(write_file_atomically(path, bytes(301, 3), &why)) << why;
  std::vector<uint8_t> out;
  FileReadError err;
  EXPECT_FALSE(read_file_bounded(path, 300, out, &err));  // one byte over the bound
  EXPECT_EQ(err.kind, FileReadError::TooLarge) << err.message;
  EXPECT_FALSE(read_file_bounded(utf8_in(dir, "missing " + k_name), 1000, out, &err));
  EXPECT_EQ(err.kind, FileReadError::Missing) << err.message;
  EXPECT_FALSE(read_file_bounded(path_to_utf8(dir), 1000, out, &err));  // a directory
  EXPECT_EQ(err.kind, FileReadError::NotRegular) << err.message;
  EXPECT_FALSE(err.message.empty());
  EXPECT_FALSE(read_file_bounded(path, 300, out, nullptr));  // no error wanted: still refused
}

TEST(FileIo, AFailedAtomicWriteSaysWhyAndWritesNothing) {
  const fs::path dir = test::scratch_dir("file_io_failed_write");
  const std::string path = utf8_in(dir / "no such folder", k_name);
  std::string why;
  EXPECT_FALSE(write_file_atomically(path, bytes(10, 4), &why));
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(fs::is_empty(dir));
}

}  // namespace
}  // namespace tern::platform

// Saved states through the C API against what a file system and a user can do (issue 14,
// reproductions 8, 9 and 15): a directory, a device that never ends (/dev/zero), a file far
// larger than any state, a save that fails half-way (a full disk), and bytes flipped anywhere
// in a state. Each used to be an "internal error", an unbounded read, a destroyed good state or
// a silently loaded corrupt cache.
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/model_files.h"
#include "support/test_env.h"
#include "tern.h"

namespace tern::test {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> file_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

class StateFile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto path = stories260k_gguf(GgmlType::F32);
    if (path.empty()) return;
    ASSERT_EQ(tern_model_load(path.c_str(), nullptr, &model_), TERN_OK) << tern_last_error();
  }
  static void TearDownTestSuite() {
    tern_model_free(model_);
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "needs ../shared/models/stories260K.bin";
    tern_context_params p = tern_context_default_params();
    p.n_ctx = 128;
    ASSERT_EQ(tern_context_create(model_, &p, &ctx_), TERN_OK) << tern_last_error();
    const tern_token prompt[] = {1, 403, 407, 261, 378, 441};
    ASSERT_EQ(tern_eval(ctx_, prompt, 6), TERN_OK) << tern_last_error();
    dir_ = scratch_dir("state_file");
  }
  void TearDown() override { tern_context_free(ctx_); }
  std::vector<uint8_t> state() {
    size_t n = 0;
    tern_state_save(ctx_, nullptr, 0, &n);
    std::vector<uint8_t> s(n);
    EXPECT_EQ(tern_state_save(ctx_, s.data(), n, &n), TERN_OK) << tern_last_error();
    return s;
  }
  static tern_model* model_;
  tern_context* ctx_ = nullptr;
  fs::path dir_;
};
tern_model* StateFile::model_ = nullptr;

void expect_error(tern_status got, tern_status want, const std::string& message) {
  EXPECT_EQ(got, want) << tern_status_string(got) << ": " << tern_last_error();
  EXPECT_NE(std::string(tern_last_error()).find(message), std::string::npos) << tern_last_error();
}

// Reproduction 15: a directory was "internal error (basic_filebuf::underflow)".
TEST_F(StateFile, ADirectoryIsAnIoError) {
  expect_error(tern_state_load_file(ctx_, dir_.c_str()), TERN_ERR_IO, "is a directory");
  expect_error(tern_state_load_file(ctx_, (dir_ / "missing").c_str()), TERN_ERR_IO, "does not exist");
}

// Reproduction 8: /load /dev/zero read until the OOM killer; a file far larger than any state of
// this context is refused by its size, unread.
TEST_F(StateFile, DevicesAndHugeFilesAreNotRead) {
  expect_error(tern_state_load_file(ctx_, "/dev/zero"), TERN_ERR_IO, "not a regular file");
  const fs::path big = dir_ / "big.state";
  {
    std::ofstream f(big, std::ios::binary);
    f.seekp(std::streamoff(1) << 40);  // 1 TiB, sparse: no disk space used
    f.put('x');
  }
  expect_error(tern_state_load_file(ctx_, big.c_str()), TERN_ERR_STATE_MISMATCH, "larger than any state");
}

// Reproduction 9: a save that failed half-way (a full disk) left a torn file where the previous
// good state was. Here the process's file-size limit makes the write fail half-way.
TEST_F(StateFile, AFailedSaveKeepsThePreviousFile) {
  const fs::path path = dir_ / "chat.state";
  ASSERT_EQ(tern_state_save_file(ctx_, path.c_str()), TERN_OK) << tern_last_error();
  const std::vector<uint8_t> good = file_bytes(path);
  const tern_token more[] = {300, 301, 302, 303, 304, 305, 306, 307};
  ASSERT_EQ(tern_eval(ctx_, more, 8), TERN_OK);  // the next state differs

  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit half = old;
  half.rlim_cur = good.size() / 2;
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &half), 0);
  const tern_status s = tern_state_save_file(ctx_, path.c_str());
  const std::string message = tern_last_error();
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(s, TERN_ERR_IO) << message;
  EXPECT_EQ(file_bytes(path), good) << "the previous state was overwritten";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
  EXPECT_EQ(tern_state_load_file(ctx_, path.c_str()), TERN_OK) << tern_last_error();
}

// Reproduction 15: the KV bytes carried no checksum, so a state with a flipped byte in the cache
// loaded and produced garbage. Every single-byte flip (sampled across the whole state: header,
// history, logits, policy words, cache rows) is now refused.
TEST_F(StateFile, FlippedBytesAreRefused) {
  std::vector<uint8_t> s = state();
  ASSERT_EQ(tern_state_load(ctx_, s.data(), s.size()), TERN_OK) << tern_last_error();
  const size_t step = std::max<size_t>(1, s.size() / 997);
  size_t tried = 0;
  for (size_t at = 0; at < s.size(); at += step, ++tried) {
    s[at] ^= 0x10;
    const tern_status st = tern_state_load(ctx_, s.data(), s.size());
    s[at] ^= 0x10;
    ASSERT_EQ(st, TERN_ERR_STATE_MISMATCH) << "flip at byte " << at << " of " << s.size() << ": " << tern_last_error();
  }
  EXPECT_GT(tried, 900u);
  // The last byte of the cache (the end of the last layer's V rows) in particular.
  s.back() ^= 1;
  expect_error(tern_state_load(ctx_, s.data(), s.size()), TERN_ERR_STATE_MISMATCH, "corrupt");
  s.back() ^= 1;
  // And a refused state leaves the context as it was: it continues from its own tokens.
  EXPECT_EQ(tern_state_load(ctx_, s.data(), s.size()), TERN_OK);
}

// States of the format before the checksum (version 4) are refused with a reason.
TEST_F(StateFile, AnOlderFormatIsNamed) {
  std::vector<uint8_t> s = state();
  const uint32_t v5 = 5;
  std::memcpy(s.data() + 8, &v5, 4);
  expect_error(tern_state_load(ctx_, s.data(), s.size()), TERN_ERR_STATE_MISMATCH, "format version 5 is not 6");
}

}  // namespace
}  // namespace tern::test

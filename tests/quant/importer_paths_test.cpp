// tern-quantize's readers name their input files in UTF-8 on every platform (tern.h). A path's
// narrow string() is the ANSI code page on Windows, which cannot spell most names, so the
// messages use platform::path_to_utf8. On POSIX the two agree: this test fails where it matters
// under Wine (platforms/windows/test.sh builds it), and guards the message contents everywhere.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/error.h"
#include "platform/file_io.h"
#include "quant/model_source.h"
#include "quant/safetensors.h"
#include "support/error_of.h"
#include "support/test_env.h"

namespace tern::quant {
namespace {

namespace fs = std::filesystem;

using test::error_of;

// A truncated safetensors file, a llama2.c checkpoint and a folder without config.json, all
// under a non-ASCII name.
TEST(ImporterPaths, MessagesNameNonAsciiPathsInUtf8) {
  const std::string name = "mod\xC3\xA8le \xE6\xA8\xA1\xE5\x9E\x8B";  // "modèle 模型"
  const fs::path dir = test::scratch_dir("importer_utf8") / platform::path_from_utf8(name);
  fs::create_directories(dir);
  std::ofstream(dir / "model.safetensors", std::ios::binary) << "abc";
  std::ofstream(dir / "model.bin", std::ios::binary) << "abc";
  for (const Error& e : {error_of([&] { SafetensorsFile f(dir / "model.safetensors"); }),
                         error_of([&] { open_llama2c(dir / "model.bin", dir / "tok.bin"); }),
                         error_of([&] { open_hf_dir(dir); })}) {
    EXPECT_NE(e.status(), Status::Ok);
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tern::quant

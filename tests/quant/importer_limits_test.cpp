// tern-quantize's readers against hostile or broken inputs (issue 14, reproductions 1, 7 and 12):
// an added token with id -1 (a write out of bounds), config.json values that ask for
// gigabytes (vocab_size 2e9, num_hidden_layers 1e9) or that Tern's loader refuses (rope_theta
// -5, scaling type "bogus", max_position_embeddings -1), a llama2.c file longer than its header
// says, and NaN weights (reported as "error 0"). Each must be refused with BadModel (or
// Unsupported) naming the value, before anything large is allocated; the tool must exit
// non-zero and leave no output file.
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "quant/convert.h"
#include "quant/model_source.h"
#include "quant/safetensors.h"
#include "support/error_of.h"
#include "support/test_env.h"

namespace tern::quant {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p) { return json::parse(std::ifstream(p)); }

// A copy of the TinyStories-656K Hugging Face folder (the safetensors linked, not copied) with
// config.json and tokenizer.json edited.
fs::path hf_dir(const std::string& name, const std::function<void(json& cfg, json& tok)>& edit) {
  const fs::path src = test::shared_path("models/tinystories-656K-hf");
  const fs::path dir = test::scratch_dir("importer_" + name);
  json cfg = read_json(src / "config.json"), tok = read_json(src / "tokenizer.json");
  edit(cfg, tok);
  std::ofstream(dir / "config.json") << cfg.dump(1);
  std::ofstream(dir / "tokenizer.json") << tok.dump();
  fs::copy_file(src / "tokenizer_config.json", dir / "tokenizer_config.json");
  fs::create_symlink(src / "model.safetensors", dir / "model.safetensors");
  return dir;
}

using test::error_of;

class ImporterLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::shared_file("models/tinystories-656K-hf").empty()) GTEST_SKIP() << "needs ../shared/models/tinystories-656K-hf";
  }
};

// Reproduction 1: an added token's id of -1 (or 2^64 - 1) indexed the token table out of bounds.
TEST_F(ImporterLimits, AddedTokenIdsOutOfRange) {
  for (const json& id : {json(-1), json(18446744073709551615ull), json(1u << 30), json("7"), json(1.5)}) {
    const fs::path dir = hf_dir("added_id", [&](json&, json& tok) {
      tok["added_tokens"].push_back({{"id", id}, {"content", "<evil>"}, {"special", true}});
    });
    const Error e = error_of([&] { open_hf_dir(dir); });
    EXPECT_EQ(e.status(), Status::BadModel) << id.dump() << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("an added token has id " + id.dump()), std::string::npos) << e.what();
  }
  // A vocabulary entry's id too.
  const fs::path dir = hf_dir("vocab_id", [](json&, json& tok) { tok["model"]["vocab"]["zzz"] = -3; });
  const Error e = error_of([&] { open_hf_dir(dir); });
  EXPECT_EQ(e.status(), Status::BadModel) << e.what();
  EXPECT_NE(std::string(e.what()).find("token 'zzz' has id -3"), std::string::npos) << e.what();
}

// Reproductions 7 and 12: config.json values are range-checked before use. The huge ones used
// to grow until std::bad_alloc; the others were written into files Tern then refused.
TEST_F(ImporterLimits, ConfigValuesOutOfRange) {
  struct Case {
    const char* key;
    json value;
    Status status;
    const char* message;
  };
  const Case cases[] = {
      {"vocab_size", 2000000000, Status::BadModel, "vocab_size is 2000000000: it must be between 1 and 2097152"},
      {"num_hidden_layers", 1000000000, Status::BadModel, "num_hidden_layers is 1000000000"},
      {"num_hidden_layers", 1e9, Status::BadModel, "num_hidden_layers is 1000000000.0, not an integer"},
      {"hidden_size", -128, Status::BadModel, "hidden_size is -128"},
      {"intermediate_size", "384", Status::BadModel, "intermediate_size is \"384\", not an integer"},
      {"max_position_embeddings", -1, Status::BadModel, "max_position_embeddings is -1"},
      {"rope_theta", -5, Status::BadModel, "rope_theta is -5: it must be a finite number in (1, 1e+12]"},
      {"rms_norm_eps", 0, Status::BadModel, "rms_norm_eps is 0"},
      {"rope_scaling", {{"type", "bogus"}, {"factor", 2.0}}, Status::Unsupported, "rope_scaling type 'bogus'"},
      {"rope_scaling", {{"type", "linear"}, {"factor", 1e-30}}, Status::BadModel, "factor is 1e-30"},
      {"bos_token_id", 5000, Status::BadModel, "bos_token_id is 5000, outside the vocabulary"},
      // Beacon settings (hf_import fuzzer): get<uint32_t>() of a float was undefined behaviour.
      {"beacon_window", 1e48, Status::BadModel, "beacon_window is 1e+48, not a non-negative integer"},
      {"beacon_window", -8, Status::BadModel, "beacon_window is -8, not a non-negative integer"},
  };
  for (const Case& c : cases) {
    const fs::path dir = hf_dir("config", [&](json& cfg, json&) { cfg[c.key] = c.value; });
    const auto t0 = std::chrono::steady_clock::now();
    const Error e = error_of([&] { open_hf_dir(dir); });
    EXPECT_EQ(e.status(), c.status) << c.key << " = " << c.value.dump() << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << e.what();
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0) << c.key;
  }
}

// The hf_import fuzzer: a safetensors header's sizes and offsets that are not non-negative
// integers (1e48 in data_offsets was a float-to-integer conversion with undefined behaviour).
TEST(SafetensorsHeader, SizesAndOffsetsMustBeNonNegativeIntegers) {
  const fs::path dir = test::scratch_dir("safetensors_numbers");
  for (const char* entry : {R"({"shape": [2], "data_offsets": [0, 1e48]})", R"({"shape": [2], "data_offsets": [0, 8.5]})",
                            R"({"shape": [-2], "data_offsets": [0, 8]})", R"({"shape": [2.0], "data_offsets": [0, 8]})"}) {
    const std::string header = std::string(R"({"w": {"dtype": "F32", )") + (entry + 1) + "}";
    const uint64_t n = header.size();
    std::ofstream f(dir / "model.safetensors", std::ios::binary | std::ios::trunc);
    for (int i = 0; i < 8; ++i) f.put(char(n >> (8 * i)));
    f << header << std::string(8, '\0');
    f.close();
    const Error e = error_of([&] { SafetensorsFile st(dir / "model.safetensors"); });
    EXPECT_EQ(e.status(), Status::BadModel) << entry << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("tensor w "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a non-negative integer"), std::string::npos) << e.what();
  }
}

// Reproduction 12: a llama2.c checkpoint must be exactly as long as its header says.
TEST_F(ImporterLimits, Llama2cSizeMustMatchTheHeader) {
  const fs::path bin = test::shared_file("models/stories260K.bin"), tok = test::shared_file("models/tok512.bin");
  if (bin.empty() || tok.empty()) GTEST_SKIP() << "needs stories260K.bin and tok512.bin";
  const fs::path dir = test::scratch_dir("llama2c_size");
  fs::copy_file(bin, dir / "longer.bin");
  std::ofstream(dir / "longer.bin", std::ios::app | std::ios::binary) << "tail";
  Error e = error_of([&] { open_llama2c(dir / "longer.bin", tok); });
  EXPECT_EQ(e.status(), Status::BadModel);
  EXPECT_NE(std::string(e.what()).find("not a llama2.c checkpoint of this header"), std::string::npos) << e.what();
  fs::resize_file(dir / "longer.bin", fs::file_size(bin) - 4);
  e = error_of([&] { open_llama2c(dir / "longer.bin", tok); });
  EXPECT_NE(std::string(e.what()).find("truncated llama2.c checkpoint"), std::string::npos) << e.what();
  EXPECT_NO_THROW(open_llama2c(bin, tok));
}

// Reproduction 12: NaN weights were quantised and reported as "worst rms rel error 0".
TEST_F(ImporterLimits, NanWeightsAreRefused) {
  const fs::path src = test::shared_path("models/tinystories-656K-hf");
  const fs::path dir = test::scratch_dir("nan_weights");
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"})
    fs::copy_file(src / f, dir / f);
  {
    const SafetensorsFile st(dir / "model.safetensors");
    const auto& e = st.entries().at("model.layers.1.mlp.down_proj.weight");
    std::fstream f(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(e.begin + 4 * 1000));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    f.write(reinterpret_cast<const char*>(&nan), 4);
  }
  ConvertOptions o;
  o.target = GgmlType::Q8_0;
  o.progress = false;
  std::ostringstream log;
  const Error e = error_of([&] { convert_to_gguf(*open_hf_dir(dir), dir / "out.gguf", o, log); });
  EXPECT_EQ(e.status(), Status::BadModel) << e.what();
  EXPECT_NE(std::string(e.what()).find("blk.1.ffn_down.weight: element 1000 is nan"), std::string::npos) << e.what();
}

// Reproduction 12 end to end: the tool exits 1 and leaves no file for inputs Tern would refuse.
TEST_F(ImporterLimits, TheToolWritesNothingTernWouldRefuse) {
  const fs::path tool = fs::path(TERN_BINARY_DIR) / "tools" / "tern-quantize";
  if (!fs::exists(tool)) GTEST_SKIP() << "tern-quantize is not built";
  for (const auto& [key, value] : std::vector<std::pair<std::string, json>>{
           {"rope_theta", -5}, {"max_position_embeddings", -1}, {"rope_scaling", {{"type", "bogus"}, {"factor", 2.0}}}}) {
    const fs::path dir = hf_dir("tool", [&](json& cfg, json&) { cfg[key] = value; });
    const fs::path out = dir / "out.gguf";
    const std::string cmd = tool.string() + " " + dir.string() + " -o " + out.string() + " --quiet >" +
                            (dir / "log.txt").string() + " 2>&1";
    const int rc = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(rc)) << cmd;
    EXPECT_EQ(WEXITSTATUS(rc), 1) << key;
    EXPECT_FALSE(fs::exists(out)) << key;
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename().string().find("out.gguf") == 0;
    EXPECT_EQ(files, 0u) << key << ": a temporary output was left behind";
  }
}

}  // namespace
}  // namespace tern::quant

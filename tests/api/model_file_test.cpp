// Model files with values that load but cannot work (issue 14, reproduction 10, 6, 11 and 15):
// NaN, infinite or out-of-range hyper-parameters, rope_freqs tables of zeros or NaN, NaN
// weights, special ids outside the vocabulary, and a vocabulary far larger than its embedding.
// Each must be refused at load with BadModel and a message naming what is wrong, where it used
// to load and generate garbage with no error (or, for the huge vocabulary, take seconds and
// gigabytes before failing on something else).
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "quant/gguf_writer.h"
#include "model/model.h"
#include "support/gguf_edit.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

constexpr float k_nan = std::numeric_limits<float>::quiet_NaN();
constexpr float k_inf = std::numeric_limits<float>::infinity();

struct BadFile {
  std::string name;
  GgufEdit edit;
  std::string message;  // a part of the error the load must give
};

std::vector<BadFile> bad_files() {
  auto set_f32 = [](const std::string& key, float v) { return [=](GgufWriter& w) { w.set_f32(key, v); }; };
  auto rope_freqs = [](float v) {
    return [=](GgufWriter& w) {
      const std::vector<float> f(32, v);  // test-tiny: n_rot 64, so 32 pairs
      w.add_tensor("rope_freqs.weight", GgmlType::F32, {32}, f.data(), f.size() * 4);
    };
  };
  auto linear = [](float factor) {
    return [=](GgufWriter& w) {
      w.set_string("llama.rope.scaling.type", "linear");
      w.set_f32("llama.rope.scaling.factor", factor);
    };
  };
  std::vector<BadFile> v;
  v.push_back({"eps_nan", {{}, set_f32("llama.attention.layer_norm_rms_epsilon", k_nan), {}, {}},
               "layer_norm_rms_epsilon is nan"});
  v.push_back({"eps_negative", {{}, set_f32("llama.attention.layer_norm_rms_epsilon", -1e-5f), {}, {}},
               "layer_norm_rms_epsilon is -1e-05"});
  v.push_back({"freq_base_inf", {{}, set_f32("llama.rope.freq_base", k_inf), {}, {}}, "rope.freq_base is inf"});
  v.push_back({"freq_base_nan", {{}, set_f32("llama.rope.freq_base", k_nan), {}, {}}, "rope.freq_base is nan"});
  v.push_back({"scaling_inf", {{}, linear(k_inf), {}, {}}, "rope.scaling.factor is inf"});
  v.push_back({"scaling_tiny", {{}, linear(1e-30f), {}, {}}, "rope.scaling.factor is 1e-30"});
  v.push_back({"rope_freqs_zero", {{}, {}, {}, rope_freqs(0.f)}, "rope_freqs.weight[0] is 0"});
  v.push_back({"rope_freqs_nan", {{}, {}, {}, rope_freqs(k_nan)}, "rope_freqs.weight[0] is nan"});
  v.push_back({"nan_weight",
               {{}, {}, [](const std::string& name, GgmlType, std::vector<uint8_t>& d) {
                  if (name == "blk.1.ffn_down.weight") std::memcpy(d.data() + 400, &k_nan, 4);
                }, {}},
               "tensor 'blk.1.ffn_down.weight' holds a NaN"});
  v.push_back({"inf_norm",
               {{}, {}, [](const std::string& name, GgmlType, std::vector<uint8_t>& d) {
                  if (name == "output_norm.weight") std::memcpy(d.data(), &k_inf, 4);
                }, {}},
               "tensor 'output_norm.weight' holds a NaN or infinite value"});
  v.push_back({"bos_out_of_range", {{}, [](GgufWriter& w) { w.set_u32("tokenizer.ggml.bos_token_id", 99999); }, {}, {}},
               "tokenizer.ggml.bos_token_id is 99999, outside the vocabulary of 300 tokens"});
  v.push_back({"eos_out_of_range", {{}, [](GgufWriter& w) { w.set_u32("tokenizer.ggml.eos_token_id", 300); }, {}, {}},
               "tokenizer.ggml.eos_token_id is 300"});
  v.push_back({"only_control_tokens",
               {{}, [](GgufWriter& w) { w.set_array("tokenizer.ggml.token_type", std::vector<int32_t>(300, 3)); }, {}, {}},
               "the vocabulary has no normal, byte or user-defined token"});
  v.push_back({"context_length_huge", {{}, [](GgufWriter& w) { w.set_u32("llama.context_length", 4294967295u); }, {}, {}},
               "context_length is 4294967295"});
  return v;
}

class ModelFile : public GpuTest {};

TEST_F(ModelFile, ValuesThatCannotWorkAreRefusedAtLoad) {
  const auto good = synthetic_gguf("test-tiny", GgmlType::F32);
  ASSERT_NO_THROW(load_test_model(good));
  for (const BadFile& b : bad_files()) {
    const auto path = edited_gguf(good, "bad_" + b.name, b.edit);
    try {
      load_test_model(path);
      ADD_FAILURE() << b.name << ": loaded";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::BadModel) << b.name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(b.message), std::string::npos) << b.name << ": " << e.what();
    }
  }
}

// The same file with the keys a real converter writes (a sanity check of the edit helper: a
// file copied unchanged loads and gives the original's logits' fingerprint).
TEST_F(ModelFile, AnUneditedCopyLoads) {
  const auto good = synthetic_gguf("test-tiny", GgmlType::F32);
  const auto copy = edited_gguf(good, "unchanged", {});
  EXPECT_EQ(load_test_model(copy)->fingerprint(), load_test_model(good)->fingerprint());
}

uint64_t peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return uint64_t(u.ru_maxrss);
}

// Reproduction 6: a vocabulary of millions of strings is compared with the embedding's rows
// (and with the limit) before any string is copied. The file here has 2.2 million tokens
// against test-tiny's 300-row embedding; a build without the check copied them all into the
// tokenizer first (10 million took 28 s and 3.6 GB).
TEST_F(ModelFile, AHugeVocabularyIsRefusedBeforeItIsRead) {
  const auto good = synthetic_gguf("test-tiny", GgmlType::F32);
  const size_t n = (size_t(1) << 21) + 100000;
  GgufEdit huge;
  huge.drop_keys = {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"};
  huge.set_keys = [n](GgufWriter& w) {
    std::vector<std::string> tokens(n);
    for (size_t i = 0; i < n; ++i) tokens[i] = std::to_string(i);
    w.set_array("tokenizer.ggml.tokens", tokens);
  };
  const auto path = edited_gguf(good, "huge_vocab", huge);
  const uint64_t rss_before = peak_rss_kib();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    load_test_model(path);
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::BadModel);
    EXPECT_NE(std::string(e.what()).find("vocabulary size"), std::string::npos) << e.what();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Parsing the header is linear in the file; nothing per token is kept. Generous bounds: the
  // point is "not gigabytes, not tens of seconds". Under AddressSanitizer (CI) the parse runs
  // several times slower and its allocator adds redzones and keeps freed blocks in a quarantine
  // (256 MiB by default; measured: 19.6 s and +233 MiB on the loaded 2-core machine), so there
  // only the memory bound holds, loosened to what still fails the bug (gigabytes).
#if defined(TERN_ASAN_BUILD)
  (void)s;
  EXPECT_LT(peak_rss_kib() - rss_before, 512u * 1024) << "KiB of peak RSS growth";
#else
  EXPECT_LT(s, 5.0);
  EXPECT_LT(peak_rss_kib() - rss_before, 64u * 1024) << "KiB of peak RSS growth";
#endif

  // Fewer tokens than the limit but more than the embedding's rows: refused by the row count.
  GgufEdit f;
  f.drop_keys = huge.drop_keys;
  f.set_keys = [](GgufWriter& w) {
    std::vector<std::string> tokens(1000);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "t" + std::to_string(i);
    w.set_array("tokenizer.ggml.tokens", tokens);
  };
  try {
    load_test_model(edited_gguf(good, "vocab_rows", f));
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the vocabulary has 1000 tokens but token_embd.weight has 300 rows"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tern::test

// The CPU reference forward with llama.cpp's CPU numerics imitated (ref::LlamaCppNumerics)
// against llama.cpp's golden logits for TinyStories-656K-Q8_0.gguf, teacher-forced one token per
// step as llama.cpp decoded. One test per combination of imitations, so each one's effect on
// the greedy tokens and the logits error is reported; the combination Tern's GPU mode
// implements must reproduce every greedy token.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "quant/gguf_reader.h"
#include "ref/llama_forward.h"
#include "support/golden_cases.h"
#include "support/gpu_fixture.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

struct NumericsCase {
  std::string name;
  ref::LlamaCppNumerics numerics;
  bool must_match_all;
};

class LlamaCppNumerics : public ::testing::TestWithParam<NumericsCase> {};

TEST_P(LlamaCppNumerics, TinyStories656KTeacherForced) {
  const auto& p = GetParam();
  auto cases = load_cases("tinystories-656K");
  auto path = shared_file("models/TinyStories-656K-Q8_0.gguf");
  if (cases.empty() || path.empty()) GTEST_SKIP() << "../shared TinyStories-656K files are absent";
  auto file = GgufFile::open(path.string());
  uint32_t agree = 0, greedy = 0;
  double max_rel = 0, max_abs = 0;
  std::string misses;
  for (const auto& c : cases) {
    ref::LlamaForward cpu(*file, c.steps, GgmlType::F16, p.numerics);
    for (uint32_t r = 0; r < c.steps; ++r) {
      const auto logits = cpu.eval(std::span<const int32_t>(&c.tokens[r], 1));
      const std::vector<float> want(c.row(r).begin(), c.row(r).end());
      max_rel = std::max(max_rel, rel_l2(want, logits));
      max_abs = std::max(max_abs, max_abs_diff(want, logits));
      if (r + 1 < c.prompt_tokens.size()) continue;
      ++greedy;
      const auto best = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
      if (best == c.tokens[r + 1]) {
        ++agree;
        continue;
      }
      char buf[160];
      std::snprintf(buf, sizeof buf, " [%s step %u: golden %d (%.5f) vs %d (golden %.5f, ours %.5f vs %.5f)]",
                    c.name.c_str(), r, c.tokens[r + 1], want[size_t(c.tokens[r + 1])], best, want[size_t(best)],
                    logits[size_t(c.tokens[r + 1])], logits[size_t(best)]);
      misses += buf;
    }
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "tinystories-656K CPU reference, llama.cpp numerics '%s': %u/%u greedy tokens, logits vs llama.cpp "
                "rel L2 max %.3g, max abs %.3g",
                p.name.c_str(), agree, greedy, max_rel, max_abs);
  std::ofstream(std::string(TERN_BINARY_DIR) + "/model-report.txt", std::ios::app) << line << misses << "\n";
  std::printf("%s%s\n", line, misses.c_str());
  if (p.must_match_all) {
    EXPECT_EQ(agree, greedy) << misses;
  }
}

// Every imitation, and every imitation but one: what each one contributes.
std::vector<NumericsCase> numerics_cases() {
  const auto all = ref::LlamaCppNumerics::all();
  std::vector<NumericsCase> out{{"none", {}, false}, {"all", all, true}};
  auto without = [&](const char* name, bool ref::LlamaCppNumerics::*flag) {
    auto n = all;
    n.*flag = false;
    out.push_back({std::string("all_but_") + name, n, false});
    auto only = ref::LlamaCppNumerics{};
    only.*flag = true;
    out.push_back({std::string("only_") + name, only, false});
  };
  without("q8_activations", &ref::LlamaCppNumerics::q8_activations);
  without("attention", &ref::LlamaCppNumerics::attention);
  without("rms_norm", &ref::LlamaCppNumerics::rms_norm);
  without("rope", &ref::LlamaCppNumerics::rope);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Imitations, LlamaCppNumerics, ::testing::ValuesIn(numerics_cases()),
                         [](const auto& i) { return i.param.name; });

}  // namespace
}  // namespace tern::test

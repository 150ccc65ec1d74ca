// The long-range model's training data (tools/longrange, Python) against tern-perplexity's C++:
// the Python side wrote needle prompts, story sentences and their token ids into a golden file;
// the C++ prompt builder must give the same texts, the filler splitter the same sentences, and
// Tern's tokenizer the same ids, so the model was trained on exactly what the evaluation feeds it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "perplexity/passkey_eval.h"
#include "perplexity/passkey_prompt.h"
#include "support/model_files.h"
#include "support/test_env.h"

using namespace tern::ppl;

namespace {

class LongrangeData : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream f(tern::test::source_file("tests/perplexity/golden/longrange-data.json"));
    ASSERT_TRUE(f) << "golden file missing";
    golden_ = nlohmann::json::parse(f);
  }
  nlohmann::json golden_;
};

Filler filler_of(const nlohmann::json& c) {
  Filler f;
  f.sentences = c["filler"].get<std::vector<std::string>>();
  return f;
}

}  // namespace

TEST_F(LongrangeData, PromptsMatchThePythonTemplates) {
  const auto& prompts = golden_["prompts"];
  ASSERT_GE(prompts.size(), 12u);
  for (const auto& c : prompts) {
    const Needle n{parse_needle_kind(c["kind"].get<std::string>()), c["value"].get<std::string>()};
    EXPECT_EQ(needle_prompt(n, filler_of(c), c["n_filler"].get<uint32_t>(), c["depth"].get<double>()),
              c["prompt"].get<std::string>());
  }
}

TEST_F(LongrangeData, StorySentencesMatch) {
  const auto& stories = golden_["stories"];
  ASSERT_GE(stories.size(), 3u);
  for (const auto& s : stories)
    EXPECT_EQ(filler_from_text(s["text"].get<std::string>(), "story").sentences,
              s["sentences"].get<std::vector<std::string>>());
}

TEST_F(LongrangeData, TernTokenizesAsTheTrainingData) {
  const auto path = tern::test::tinystories656k_hf_gguf(tern::GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "tinystories-656K-hf absent in ../shared";
  tern_model_params mp = tern_model_default_params();
  tern_model* model = nullptr;
  ASSERT_EQ(tern_model_load(path.c_str(), &mp, &model), TERN_OK) << tern_last_error();
  size_t checked = 0;
  for (const auto* section : {&golden_["prompts"], &golden_["stories"]})
    for (const auto& c : *section) {
      const std::string text = c.contains("prompt") ? c["prompt"].get<std::string>() : c["text"].get<std::string>();
      EXPECT_EQ(tokenize(model, text, true), c["ids"].get<std::vector<tern_token>>()) << text.substr(0, 120);
      ++checked;
    }
  EXPECT_GE(checked, 15u);
  tern_model_free(model);
}

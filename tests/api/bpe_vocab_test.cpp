// A model whose GGUF carries a byte-level BPE (gpt2) vocabulary, through the public C API:
// tern_model_load (Model + Tokenizer), tokenize / detokenize with and without special tokens,
// end-of-generation, and streamed generation that never splits a character although most of
// this vocabulary's tokens are single bytes.
#include <sstream>

#include <gtest/gtest.h>

#include "quant/convert.h"
#include "quant/model_source.h"
#include "support/test_env.h"
#include "tern.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8_stream.h"

namespace tern {
namespace {

// 256 byte tokens, "ab" (256), "Ġa" (257), <|im_start|> (258), <|im_end|> (259, EOS).
quant::Vocabulary tiny_gpt2_vocab() {
  quant::Vocabulary v;
  v.model = "gpt2";
  v.pre = "qwen2";
  for (int b = 0; b < 256; ++b) v.add(bytes_to_unicode_text(std::string(1, char(b))), 0.f, quant::TokenType::Normal);
  v.add("ab", 0.f, quant::TokenType::Normal);
  v.add("\xC4\xA0" "a", 0.f, quant::TokenType::Normal);
  v.add("<|im_start|>", 0.f, quant::TokenType::Control);
  v.add("<|im_end|>", 0.f, quant::TokenType::Control);
  v.merges = {"a b", "\xC4\xA0 a"};
  v.bos_id = v.unk_id = -1;
  v.eos_id = 259;
  v.add_bos = false;
  return v;
}

std::filesystem::path tiny_gpt2_model() {
  const auto path = test::scratch_dir("bpe-vocab-model") / "test-tiny-gpt2.gguf";
  quant::ConvertOptions o;
  o.target = GgmlType::F32;
  o.progress = false;
  std::ostringstream log;
  quant::convert_to_gguf(*quant::make_synthetic_with_vocab("test-tiny", tiny_gpt2_vocab()), path, o, log);
  return path;
}

struct Piece {
  std::vector<std::string> pieces;
};

int collect(const char* piece, size_t len, void* ud) {
  static_cast<Piece*>(ud)->pieces.emplace_back(piece, len);
  return 1;
}

TEST(BpeVocabModel, CApiTokenizeDetokenizeGenerate) {
  const auto path = tiny_gpt2_model();
  tern_model_params mp = tern_model_default_params();
  tern_model* m = nullptr;
  ASSERT_EQ(tern_model_load(path.c_str(), &mp, &m), TERN_OK) << tern_last_error();
  tern_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(tern_model_get_info(m, &info), TERN_OK);
  EXPECT_EQ(info.bos, -1);
  EXPECT_EQ(info.eos, 259);

  const std::string chat = "<|im_start|>ab a<|im_end|>";
  tern_token ids[64];
  size_t n = 0;
  ASSERT_EQ(tern_tokenize(m, chat.data(), chat.size(), 1, 1, ids, 64, &n), TERN_OK);
  EXPECT_EQ(std::vector<tern_token>(ids, ids + n), (std::vector<tern_token>{258, 256, 257, 259}));  // no BOS: none
  char text[256];
  size_t len = 0;
  ASSERT_EQ(tern_detokenize(m, ids, n, 0, text, sizeof text, &len), TERN_OK);
  EXPECT_EQ(std::string(text, len), "ab a");
  ASSERT_EQ(tern_detokenize(m, ids, n, 1, text, sizeof text, &len), TERN_OK);
  EXPECT_EQ(std::string(text, len), chat);
  EXPECT_EQ(tern_token_is_eog(m, 259), 1);
  EXPECT_EQ(tern_token_is_eog(m, 258), 0);
  ASSERT_EQ(tern_tokenize(m, chat.data(), chat.size(), 0, 0, ids, 64, &n), TERN_OK);
  EXPECT_EQ(n, 12 + 2 + 10u);  // control text stays text: its bytes one token each, plus "ab", "Ġa"
  const std::string llama = "\xF0\x9F\xA6\x99!";
  ASSERT_EQ(tern_tokenize(m, llama.data(), llama.size(), 0, 1, ids, 64, &n), TERN_OK);
  EXPECT_EQ(std::vector<tern_token>(ids, ids + n), (std::vector<tern_token>{0xF0, 0x9F, 0xA6, 0x99, '!'}));
  ASSERT_EQ(tern_detokenize(m, ids, n, 0, text, sizeof text, &len), TERN_OK);
  EXPECT_EQ(std::string(text, len), llama);

  // Random weights sample random tokens, mostly lone bytes: every streamed piece is still valid
  // UTF-8 (ill-formed bytes arrive as U+FFFD).
  tern_context_params cp = tern_context_default_params();
  cp.n_ctx = 64;
  cp.seed = 7;
  tern_context* c = nullptr;
  ASSERT_EQ(tern_context_create(m, &cp, &c), TERN_OK) << tern_last_error();
  tern_generate_params gp = tern_generate_default_params();
  gp.sampler.temperature = 1.0f;
  gp.max_tokens = 32;
  Piece got;
  int32_t generated = 0;
  ASSERT_EQ(tern_generate(c, "ab a", &gp, collect, &got, &generated), TERN_OK) << tern_last_error();
  EXPECT_GT(generated, 0);
  for (const auto& p : got.pieces) EXPECT_TRUE(utf8_valid(p)) << p;
  tern_context_free(c);
  tern_model_free(m);
}

}  // namespace
}  // namespace tern

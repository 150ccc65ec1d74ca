// tern-quantize's reader of Hugging Face tokenizer.json for byte-level BPE (GPT-2 style):
// merges in both spellings, the pre-tokenizer name, token types, special ids, bad files, and
// the GGUF a synthetic model with such a vocabulary gets (keys as llama.cpp writes them).
// The real Qwen2.5 / Llama 3 files are tested in tests/tokenizer/bpe_golden_test.cpp.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "quant/convert.h"
#include "quant/gguf_reader.h"
#include "quant/model_source.h"
#include "support/test_env.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace tern::quant {
namespace {

using nlohmann::json;
const std::string kG = "\xC4\xA0";  // "Ġ", the byte-level space

const char* kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", use_regex}};
}
json split_then_byte_level(const char* regex) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
            byte_level(false)}}};
}

// The 256 byte characters (id = byte), "ab" (256) and "Ġa" (257).
json tokenizer_json(const json& pre, const json& merges, const json& added = json::array()) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[bytes_to_unicode_text(std::string(1, char(b)))] = b;
  vocab["ab"] = 256;
  vocab[kG + "a"] = 257;
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer", pre},
          {"decoder", byte_level(true)},
          {"model", {{"type", "BPE"}, {"byte_fallback", false}, {"vocab", vocab}, {"merges", merges}}}};
}

std::filesystem::path write(const std::filesystem::path& dir, const std::string& name, const json& j) {
  std::ofstream(dir / name) << j.dump();
  return dir / name;
}

Vocabulary read(const json& tok, const json& cfg = json::object()) {
  const auto dir = test::scratch_dir("hf-tokenizer");
  return read_hf_tokenizer(write(dir, "tokenizer.json", tok), write(dir, "tokenizer_config.json", cfg));
}

const json kMerges = json::array({"a b", kG + " a"});

TEST(HfTokenizer, ByteLevelMergesInBothSpellings) {
  const Vocabulary s = read(tokenizer_json(byte_level(true), kMerges));
  const Vocabulary a = read(tokenizer_json(byte_level(true), json::array({{"a", "b"}, {kG, "a"}})));
  EXPECT_EQ(s.model, "gpt2");
  EXPECT_EQ(s.merges, (std::vector<std::string>{"a b", kG + " a"}));
  EXPECT_EQ(a.merges, s.merges);
  EXPECT_EQ(a.tokens, s.tokens);
  ASSERT_EQ(s.tokens.size(), 258u);
  EXPECT_EQ(s.tokens[' '], kG);
  EXPECT_EQ(s.types[256], int32_t(TokenType::Normal));
  EXPECT_EQ(s.bos_id, -1);
  EXPECT_EQ(s.eos_id, -1);
  EXPECT_EQ(s.unk_id, -1);
}

TEST(HfTokenizer, PreTokenizerNamedAsLlamaCppNamesIt) {
  EXPECT_EQ(read(tokenizer_json(byte_level(true), kMerges)).pre, "gpt-2");
  EXPECT_EQ(read(tokenizer_json(split_then_byte_level(kQwen2Regex), kMerges)).pre, "qwen2");
  const Vocabulary llama3 = read(tokenizer_json(split_then_byte_level(kLlama3Regex), kMerges));
  EXPECT_EQ(llama3.pre, "llama-bpe");
  EXPECT_TRUE(llama3.add_bos);  // llama.cpp's default for it, absent add_bos_token
  const json digits = {{"type", "Sequence"},
                       {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)}}};
  EXPECT_EQ(read(tokenizer_json(digits, kMerges)).pre, "smollm");
  EXPECT_FALSE(read(tokenizer_json(digits, kMerges)).add_bos);
  // Unknown: "default", with a warning.
  testing::internal::CaptureStderr();
  const Vocabulary other = read(tokenizer_json(split_then_byte_level("\\p{L}+"), kMerges));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(other.pre, "default");
  EXPECT_NE(err.find("pre-tokenizer not recognised"), std::string::npos) << err;
  // tokenizer_config.json's add_bos_token wins.
  EXPECT_FALSE(read(tokenizer_json(split_then_byte_level(kLlama3Regex), kMerges), {{"add_bos_token", false}}).add_bos);
}

TEST(HfTokenizer, AddedTokenTypesAndSpecialIds) {
  const json added = json::array({
      {{"id", 258}, {"content", "<|im_end|>"}, {"special", true}},
      {{"id", 259}, {"content", "<|fim_pad|>"}, {"special", false}},  // spelled like a control token
      {{"id", 260}, {"content", "<tool>"}, {"special", false}},
      {{"id", 262}, {"content", "\xE2\x96\x81\xE2\x96\x81x"}, {"special", false}},  // "▁▁x" -> "  x"
  });
  const json cfg = {{"bos_token", nullptr}, {"eos_token", "<|im_end|>"}, {"pad_token", {{"content", "<tool>"}}}};
  const Vocabulary v = read(tokenizer_json(byte_level(true), kMerges, added), cfg);
  ASSERT_EQ(v.tokens.size(), 263u);
  EXPECT_EQ(v.types[258], int32_t(TokenType::Control));
  EXPECT_EQ(v.types[259], int32_t(TokenType::Control));
  EXPECT_EQ(v.types[260], int32_t(TokenType::UserDefined));
  EXPECT_EQ(v.tokens[261], "[PAD261]");  // an id no token has
  EXPECT_EQ(v.types[261], int32_t(TokenType::Unused));
  EXPECT_EQ(v.tokens[262], "  x");
  EXPECT_EQ(v.types[262], int32_t(TokenType::UserDefined));
  EXPECT_EQ(v.bos_id, -1);
  EXPECT_EQ(v.eos_id, 258);
  EXPECT_EQ(v.pad_id, 260);
}

void expect_error(const json& tok, Status want, const std::string& says) {
  try {
    read(tok);
    ADD_FAILURE() << "no error; expected: " << says;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), want) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(HfTokenizer, BadFilesAreClearErrors) {
  const json pre = byte_level(true);
  expect_error(tokenizer_json(pre, json::array()), Status::BadModel, "without merges");
  expect_error(tokenizer_json(pre, json::array({"a b", "a zz"})), Status::BadModel,
               "merge 'a zz' names a token that is not in the vocabulary");
  expect_error(tokenizer_json(pre, json::array({"b a"})), Status::BadModel, "not in the vocabulary");  // "ba"
  expect_error(tokenizer_json(pre, json::array({"ab"})), Status::BadModel, "merge 0 is not");
  expect_error(tokenizer_json(pre, json::array({7})), Status::BadModel, "merge 0 is not");
  expect_error(tokenizer_json(pre, json::array({{"a", "b", "c"}})), Status::BadModel, "merge 0 is not");
  expect_error(tokenizer_json(pre, json::array({{"a b", "c"}})), Status::BadModel, "space inside a part");
  json merges_not_array = tokenizer_json(pre, kMerges);
  merges_not_array["model"]["merges"] = "a b";
  expect_error(merges_not_array, Status::BadModel, "not an array");
  json bad_id = tokenizer_json(pre, kMerges);
  bad_id["model"]["vocab"]["zz"] = "seven";
  expect_error(bad_id, Status::BadModel, "tokenizer.json");
  json wordpiece = tokenizer_json(pre, kMerges);
  wordpiece["model"]["type"] = "WordPiece";
  expect_error(wordpiece, Status::Unsupported, "WordPiece");
  json plain_bpe = tokenizer_json(json(), kMerges);  // neither byte fallback nor byte-level
  plain_bpe["decoder"] = nullptr;
  expect_error(plain_bpe, Status::Unsupported, "byte-level");
}

// A synthetic model with a byte-level tokenizer.json: the GGUF carries the vocabulary the way
// llama.cpp's converter writes it, and Tern reads it back into a working tokenizer.
TEST(HfTokenizer, SyntheticModelGgufHasLlamaCppKeys) {
  const auto dir = test::scratch_dir("hf-tokenizer-synthetic");
  const json added = json::array({{{"id", 258}, {"content", "<|endoftext|>"}, {"special", true}}});
  const auto path = write(dir, "tokenizer.json", tokenizer_json(split_then_byte_level(kQwen2Regex), kMerges, added));
  write(dir, "tokenizer_config.json", {{"eos_token", "<|endoftext|>"}, {"add_bos_token", false}});
  auto src = make_synthetic("test-tiny-qwen2", path);
  ConvertOptions o;
  o.target = GgmlType::F32;
  o.progress = false;
  std::ostringstream log;
  convert_to_gguf(*src, dir / "m.gguf", o, log);
  const auto g = GgufFile::open((dir / "m.gguf").string());
  EXPECT_EQ(g->get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(g->get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(g->find("tokenizer.ggml.scores"), nullptr);
  const auto merges = g->get_string_array("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.has_value());
  EXPECT_EQ(*merges, (std::vector<std::string_view>{"a b", kG + " a"}));
  EXPECT_EQ(g->get_string_array("tokenizer.ggml.tokens")->size(), 300u);  // padded to the model's rows
  EXPECT_EQ(g->get_u32("tokenizer.ggml.eos_token_id"), 258u);
  EXPECT_EQ(g->get_bool("tokenizer.ggml.add_bos_token"), false);
  auto tok = Tokenizer::from_vocab(vocab_from_gguf(*g));
  EXPECT_EQ(tok->encode("ab a<|endoftext|>", false, true), (std::vector<int32_t>{256, 257, 258}));
  EXPECT_TRUE(tok->is_eog(258));
}

// A whole (tiny, zero-weight) Qwen2 Hugging Face folder with a byte-level tokenizer.json, as
// tern-quantize reads a directory: the vocabulary is padded to config.json's vocab_size and
// bos/eos come from config.json.
void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::vector<uint64_t>>>& tensors) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, shape] : tensors) {
    uint64_t n = 4;
    for (auto d : shape) n *= d;
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  const std::string h = header.dump();
  const uint64_t len = h.size();
  std::ofstream o(path, std::ios::binary);
  o.write(reinterpret_cast<const char*>(&len), 8);
  o << h << std::string(offset, '\0');
}

TEST(HfTokenizer, HfFolderWithByteLevelTokenizer) {
  const auto dir = test::scratch_dir("hf-folder-bpe");
  write(dir, "config.json",
        {{"model_type", "qwen2"}, {"hidden_size", 32}, {"num_hidden_layers", 1}, {"num_attention_heads", 2},
         {"num_key_value_heads", 1}, {"intermediate_size", 64}, {"vocab_size", 300}, {"max_position_embeddings", 128},
         {"tie_word_embeddings", true}, {"bos_token_id", 258}, {"eos_token_id", 258}});
  const json added = json::array({{{"id", 258}, {"content", "<|endoftext|>"}, {"special", true}}});
  write(dir, "tokenizer.json", tokenizer_json(split_then_byte_level(kQwen2Regex), kMerges, added));
  write(dir, "tokenizer_config.json", {{"bos_token", nullptr}, {"eos_token", "<|endoftext|>"}});
  const std::string l = "model.layers.0.";
  write_safetensors(dir / "model.safetensors",
                    {{"model.embed_tokens.weight", {300, 32}}, {"model.norm.weight", {32}},
                     {l + "input_layernorm.weight", {32}}, {l + "self_attn.q_proj.weight", {32, 32}},
                     {l + "self_attn.q_proj.bias", {32}}, {l + "self_attn.k_proj.weight", {16, 32}},
                     {l + "self_attn.k_proj.bias", {16}}, {l + "self_attn.v_proj.weight", {16, 32}},
                     {l + "self_attn.v_proj.bias", {16}}, {l + "self_attn.o_proj.weight", {32, 32}},
                     {l + "post_attention_layernorm.weight", {32}}, {l + "mlp.gate_proj.weight", {64, 32}},
                     {l + "mlp.up_proj.weight", {64, 32}}, {l + "mlp.down_proj.weight", {32, 64}}});
  auto src = open_hf_dir(dir);
  const Vocabulary& v = src->vocab;
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "qwen2");
  ASSERT_EQ(v.tokens.size(), 300u);
  EXPECT_EQ(v.tokens[299], "[PAD299]");
  EXPECT_EQ(v.types[299], int32_t(TokenType::Unused));
  EXPECT_EQ(v.bos_id, 258);
  EXPECT_EQ(v.eos_id, 258);
  EXPECT_FALSE(v.add_bos);
  ConvertOptions o;
  o.target = GgmlType::F32;
  o.progress = false;
  std::ostringstream log;
  convert_to_gguf(*src, dir / "m.gguf", o, log);
  const auto g = GgufFile::open((dir / "m.gguf").string());
  EXPECT_EQ(g->get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(g->get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(g->get_string_array("tokenizer.ggml.merges")->size(), 2u);
  EXPECT_EQ(g->get_string_array("tokenizer.ggml.tokens")->size(), 300u);
  auto tok = Tokenizer::from_vocab(vocab_from_gguf(*g));
  EXPECT_EQ(tok->encode("ab a", tok->vocab().add_bos), (std::vector<int32_t>{256, 257}));
}

}  // namespace
}  // namespace tern::quant

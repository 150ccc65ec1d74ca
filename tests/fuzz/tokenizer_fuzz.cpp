// libFuzzer target for the tokenizers, both backends, on real vocabularies: sentencepiece
// (llama.cpp's Llama 2 vocabulary GGUF, stories260K's tok512) and byte-level BPE (Qwen2.5 and
// Llama 3 from ../test-vocabs when fetched, and always a small hand-made one). The first input
// byte picks the vocabulary and the mode, the rest is text (or token ids):
//  - encode: invalid UTF-8 must be InvalidUtf8, nothing else may fail but an unrepresentable
//    character (InvalidArgument); without special-token parsing, decode(encode(text)) == text
//    (U+2581 read as a space by sentencepiece vocabularies), at most len + 2 tokens, and the
//    streamed pieces (stream_text through Utf8Stream) are exactly decode's text;
//  - decode of arbitrary ids: valid UTF-8 out, streamed or whole, and the two agree.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "quant/model_source.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/piece_text.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace {

using tern::Tokenizer;

std::vector<std::unique_ptr<Tokenizer>>& vocabularies() {
  static std::vector<std::unique_ptr<Tokenizer>> v;
  return v;
}

std::string env_or(const char* name, const char* fallback) {
  return tern::env_string(name).value_or(fallback);
}

void add_gguf_vocab(const std::filesystem::path& p) {
  if (!std::filesystem::exists(p)) return;
  vocabularies().push_back(Tokenizer::from_vocab(tern::vocab_from_gguf(*tern::GgufFile::open(p.string()))));
}

// A tokenizer.json imported as tern-quantize does it, through GGUF metadata.
void add_hf_vocab(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "tokenizer.json")) return;
  const auto cfg = dir / "tokenizer_config.json";
  const tern::quant::Vocabulary imported =
      tern::quant::read_hf_tokenizer(dir / "tokenizer.json", std::filesystem::exists(cfg) ? cfg : std::filesystem::path());
  tern::GgufWriter w;
  tern::quant::write_vocab_metadata(w, imported);
  const std::vector<uint8_t> bytes = w.to_bytes();
  vocabularies().push_back(Tokenizer::from_vocab(tern::vocab_from_gguf(*tern::GgufFile::from_memory(bytes.data(), bytes.size()))));
}

// 256 byte characters, a few merges, a control and a user-defined token.
void add_tiny_bpe() {
  tern::Vocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  v.add_space_prefix = false;
  v.add_bos = false;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(tern::bytes_to_unicode_text(std::string(1, char(b))));
  const std::string g = tern::bytes_to_unicode_text(" ");
  for (const char* t : {"th", "the", "in", "an", "and"}) v.tokens.push_back(t);
  v.tokens.push_back(g + "the");
  v.merges = {"t h", "th e", "i n", "a n", "an d", g + " the"};
  v.types.assign(v.tokens.size(), int32_t(tern::TokenType::Normal));
  v.tokens.push_back("<|endoftext|>");
  v.types.push_back(int32_t(tern::TokenType::Control));
  v.tokens.push_back("<tool>");
  v.types.push_back(int32_t(tern::TokenType::UserDefined));
  v.scores.assign(v.tokens.size(), 0.f);
  v.bos = v.eos = int32_t(v.tokens.size()) - 2;
  vocabularies().push_back(Tokenizer::from_vocab(v));
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "tokenizer_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

std::string streamed(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  tern::Utf8Stream u;
  std::string out;
  int32_t prev = -1;
  for (int32_t id : ids) {
    out += u.push(tok.stream_text(prev, id));
    prev = id;
  }
  return out + u.flush();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::filesystem::path shared = env_or("TERN_SHARED_DIR", TERN_FUZZ_SHARED_DIR);
  const std::filesystem::path vocabs = env_or("TERN_TEST_VOCABS", TERN_FUZZ_TEST_VOCABS);
  try {
    add_tiny_bpe();
    add_gguf_vocab(shared / "models/ggml-vocab-llama-spm.gguf");
    if (std::filesystem::exists(shared / "models/tok512.bin"))
      vocabularies().push_back(Tokenizer::from_llama2c((shared / "models/tok512.bin").string()));
    add_hf_vocab(vocabs / "qwen2.5");
    add_hf_vocab(vocabs / "llama3");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_fuzz: cannot load a vocabulary: %s\n", e.what());
    std::abort();
  }
  std::fprintf(stderr, "tokenizer_fuzz: %zu vocabularies\n", vocabularies().size());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const Tokenizer& tok = *vocabularies()[(mode & 7) % vocabularies().size()];
  const bool add_bos = mode & 8, parse_special = mode & 16, decode_ids = mode & 32;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  if (decode_ids) {  // arbitrary ids (two bytes each, modulo the vocabulary)
    std::vector<int32_t> ids;
    for (size_t i = 0; i + 1 < text.size(); i += 2)
      ids.push_back(int32_t((uint8_t(text[i]) | uint8_t(text[i + 1]) << 8) % uint32_t(tok.n_vocab())));
    const std::string whole = tok.decode(ids);
    if (!tern::utf8_valid(whole)) fail("decode gave invalid UTF-8", whole);
    const std::string s = streamed(tok, ids);
    if (!tern::utf8_valid(s)) fail("streamed decode gave invalid UTF-8", s);
    return 0;
  }

  const bool valid = tern::utf8_valid(text);
  std::vector<int32_t> ids;
  try {
    ids = tok.encode(text, add_bos, parse_special);
  } catch (const tern::Error& e) {
    if (!valid && e.status() == tern::Status::InvalidUtf8) return 0;
    if (valid && e.status() == tern::Status::InvalidArgument) return 0;  // a character the vocabulary lacks
    fail("encode threw", e.what());
  }
  if (!valid) fail("encode accepted invalid UTF-8", std::string(text));
  for (int32_t id : ids)
    if (id < 0 || id >= tok.n_vocab()) fail("encode gave an id out of range", std::to_string(id));
  if (tok.min_tokens(text.size()) > ids.size()) fail("min_tokens overestimates", std::to_string(ids.size()));
  // tern.h promises at most text_len + 2 tokens (BOS and one dummy prefix), so a caller can
  // size the buffer without a size query.
  if (ids.size() > text.size() + 2) fail("more tokens than bytes + 2", std::to_string(ids.size()));
  if (parse_special) return 0;  // control tokens vanish in decode: no round trip
  const std::string back = tok.decode(ids);
  // Sentencepiece reads U+2581 in text as the space it stands for (as llama.cpp does).
  const std::string want = tok.vocab().model == "llama" ? tern::replace_all(text, tern::kMetaspace, " ") : std::string(text);
  if (back != want) fail("decode(encode(text)) != text", "'" + std::string(text) + "' -> '" + back + "'");
  const std::string s = streamed(tok, ids);
  if (s != back) fail("streamed pieces differ from decode", "'" + s + "' vs '" + back + "'");
  return 0;
}

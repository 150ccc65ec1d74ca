// Byte-level BPE pieces on their own: GPT-2's byte alphabet, merging by rank on hand-made
// vocabularies (where merging by score would differ), the pre-tokenizer expressions on tricky
// text, the GGUF keys, and every bad-vocabulary error. Real vocabularies: bpe_golden_test.cpp.
#include <gtest/gtest.h>

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "tokenizer/bpe_test_vocab.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace tern {
namespace {

using Ids = std::vector<int32_t>;
using Words = std::vector<std::string_view>;
using test::tiny_bpe_vocab;

// ---- byte alphabet ----------------------------------------------------------------------------

TEST(ByteLevel, AlphabetIsGpt2s) {
  std::vector<bool> seen(0x144, false);
  for (int b = 0; b < 256; ++b) {
    const char32_t cp = byte_to_unicode(uint8_t(b));
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    if (printable) EXPECT_EQ(cp, char32_t(b)) << b;
    else EXPECT_GE(cp, 0x100u) << b;
    ASSERT_LT(cp, 0x144u);
    EXPECT_FALSE(seen[cp]) << "two bytes share U+" << std::hex << unsigned(cp);
    seen[cp] = true;
    EXPECT_EQ(unicode_to_byte(cp), uint8_t(b));
  }
  EXPECT_EQ(byte_to_unicode(0x00), 0x100u);  // Ā
  EXPECT_EQ(byte_to_unicode('\n'), 0x10Au);  // Ċ
  EXPECT_EQ(byte_to_unicode(' '), 0x120u);   // Ġ
  EXPECT_EQ(byte_to_unicode(0x7F), 0x121u);  // ġ
  EXPECT_EQ(byte_to_unicode(0xAD), 0x143u);  // Ń, the last stand-in
  EXPECT_EQ(unicode_to_byte(0x144), std::nullopt);
  EXPECT_EQ(unicode_to_byte(0x20), std::nullopt);  // a plain space is not in the alphabet
}

TEST(ByteLevel, TextRoundTrips) {
  EXPECT_EQ(bytes_to_unicode_text("\n the"), "\xC4\x8A\xC4\xA0the");  // "ĊĠthe"
  EXPECT_EQ(bytes_to_unicode_text("\xE6\x97\xA5"), "\xC3\xA6\xC4\xB9\xC2\xA5");  // 日 as "æĹ¥"
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(char(b));
  EXPECT_EQ(unicode_text_to_bytes(bytes_to_unicode_text(all)), all);
  EXPECT_EQ(unicode_text_to_bytes("<|im_end|>"), "<|im_end|>");
  EXPECT_EQ(unicode_text_to_bytes("\xE6\x97\xA5"), std::nullopt);  // 日 is not a stand-in
  EXPECT_EQ(unicode_text_to_bytes("a b"), std::nullopt);
  EXPECT_EQ(unicode_text_to_bytes("\xC4"), std::nullopt);  // truncated
}

// ---- merging by rank --------------------------------------------------------------------------

int32_t id_of(const Tokenizer& t, const std::string& text) {
  const auto& v = t.vocab().tokens;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == text) return int32_t(i);
  ADD_FAILURE() << "no token " << text;
  return -1;
}

TEST(BpeMerge, OnlyListedMergesApply) {
  // "bc" is a token, but no merge makes it: the pair stays split (a score-driven merger, which
  // joins any adjacent pair that spells a token, would emit "bc").
  auto tok = Tokenizer::from_vocab(tiny_bpe_vocab({"ab", "bc"}, {"a b"}));
  EXPECT_EQ(tok->encode("bc", false), (Ids{'b', 'c'}));
  EXPECT_EQ(tok->encode("ab", false), (Ids{id_of(*tok, "ab")}));
}

TEST(BpeMerge, LowestRankFirstWhateverTheScores) {
  // Scores favour "ab", ranks favour "bc": ranks decide.
  Vocab v = tiny_bpe_vocab({"ab", "bc"}, {"b c", "a b"});
  v.scores[256] = 10.f;   // ab
  v.scores[257] = -10.f;  // bc
  auto tok = Tokenizer::from_vocab(v);
  EXPECT_EQ(tok->encode("abc", false), (Ids{'a', 257}));
  // Swapping the ranks swaps the result.
  auto swapped = Tokenizer::from_vocab(tiny_bpe_vocab({"ab", "bc"}, {"a b", "b c"}));
  EXPECT_EQ(swapped->encode("abc", false), (Ids{256, 'c'}));
}

TEST(BpeMerge, LeftmostOnEqualRanksAndChains) {
  // Equal ranks: the leftmost pair first, so "aaa" is aa|a, not a|aa.
  auto pairs = Tokenizer::from_vocab(tiny_bpe_vocab({"aa"}, {"a a"}));
  EXPECT_EQ(pairs->encode("aaa", false), (Ids{256, 'a'}));
  EXPECT_EQ(pairs->encode("aaaaa", false), (Ids{256, 256, 'a'}));
  // Merged symbols merge again, each step taking the lowest rank among the current pairs.
  auto chain = Tokenizer::from_vocab(tiny_bpe_vocab({"aa", "aaa", "aaaa"}, {"a a", "aa aa", "aa a"}));
  const int32_t aa = 256, aaa = 257, aaaa = 258;
  EXPECT_EQ(chain->encode("aaa", false), (Ids{aaa}));
  EXPECT_EQ(chain->encode("aaaa", false), (Ids{aaaa}));       // a a | a a, then aa aa (rank 1)
  EXPECT_EQ(chain->encode("aaaaa", false), (Ids{aaaa, 'a'}));  // not aa aaa: rank 1 beats rank 2
  auto other = Tokenizer::from_vocab(tiny_bpe_vocab({"aa", "aaa"}, {"a a", "aa a"}));
  EXPECT_EQ(other->encode("aaaaa", false), (Ids{aa, aaa}));  // aa aa a: only "aa a" applies
}

TEST(BpeMerge, IgnoreMergesEmitsWholeWordsThatAreTokens) {
  // "abc" is a token no merge can reach from "ab" + "c". Llama 3's pre-tokenizer emits a word
  // that is a token whole; GPT-2's merges it.
  const std::vector<std::string> tokens = {"ab", "abc"};
  auto llama3 = Tokenizer::from_vocab(tiny_bpe_vocab(tokens, {"a b"}, "llama-bpe"));
  auto gpt2 = Tokenizer::from_vocab(tiny_bpe_vocab(tokens, {"a b"}, "gpt-2"));
  EXPECT_EQ(llama3->encode("abc", false), (Ids{257}));
  EXPECT_EQ(gpt2->encode("abc", false), (Ids{256, 'c'}));
  EXPECT_EQ(llama3->encode("abcd", false), (Ids{256, 'c', 'd'}));  // not a token: merged as usual
}

TEST(BpeMerge, NoDummyPrefixAndBytesRoundTrip) {
  auto tok = Tokenizer::from_vocab(tiny_bpe_vocab({"\xC4\xA0" "a"}, {"\xC4\xA0 a"}));  // "Ġa"
  EXPECT_EQ(tok->encode("a", false), (Ids{'a'}));
  EXPECT_EQ(tok->encode(" a a", false), (Ids{256, 256}));
  EXPECT_EQ(tok->token_text(256), " a");
  EXPECT_EQ(tok->token_text(' '), " ");
  const std::string emoji = "x \xF0\x9F\xA6\x99\n";  // 🦙: four byte tokens
  const Ids ids = tok->encode(emoji, false);
  EXPECT_EQ(ids, (Ids{'x', ' ', 0xF0, 0x9F, 0xA6, 0x99, '\n'}));
  EXPECT_EQ(tok->decode(ids), emoji);
  // A lone byte of the emoji is not a character: token_text gives the byte, decode U+FFFD.
  EXPECT_EQ(tok->token_text(0xF0), "\xF0");
  EXPECT_EQ(tok->decode(Ids{0xF0, 'a'}), "\xEF\xBF\xBD" "a");
  Utf8Stream u;
  std::string streamed;
  int32_t prev = -1;
  for (int32_t id : ids) {
    streamed += u.push(tok->stream_text(prev, id));
    prev = id;
  }
  EXPECT_EQ(streamed + u.flush(), emoji);
}

TEST(BpeMerge, SpecialTokensBosAndEog) {
  Vocab v = tiny_bpe_vocab({"hi"}, {"h i"}, "qwen2",
                           {{"<|im_start|>", TokenType::Control},
                            {"<|im_end|>", TokenType::Control},
                            {"<|endoftext|>", TokenType::Control},
                            {"<tool>", TokenType::UserDefined}});
  const int32_t im_start = 257, im_end = 258, eot = 259, tool = 260;
  v.bos = eot;
  auto tok = Tokenizer::from_vocab(v);
  EXPECT_EQ(tok->encode("<|im_start|>hi<tool><|im_end|>", false, true), (Ids{im_start, 256, tool, im_end}));
  const Ids plain = tok->encode("<|im_end|>hi<tool>", false, false);  // control text stays text
  EXPECT_EQ(plain.front(), '<');
  EXPECT_EQ(plain.back(), tool);  // user-defined tokens are always matched
  EXPECT_EQ(tok->encode("hi", true), (Ids{eot, 256}));
  EXPECT_TRUE(tok->is_eog(im_end));
  EXPECT_TRUE(tok->is_eog(eot));
  EXPECT_FALSE(tok->is_eog(im_start));
  EXPECT_EQ(tok->token_text(im_end), "");
  EXPECT_EQ(tok->token_text(im_end, true), "<|im_end|>");
  EXPECT_EQ(tok->token_text(tool), "<tool>");
  EXPECT_EQ(tok->decode(Ids{im_start, 256, tool, im_end}), "hi<tool>");
}

TEST(BpeMerge, CharacterOutsideTheVocabularyIsAnError) {
  Vocab v = tiny_bpe_vocab({"ab"}, {"a b"});
  v.tokens['z'] = "[unused z]";  // no token spells the byte 'z' now
  auto tok = Tokenizer::from_vocab(v);
  EXPECT_EQ(tok->encode("ab", false), (Ids{256}));
  try {
    tok->encode("abz", false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::InvalidArgument) << e.what();
  }
}

// ---- pre-tokenizer ----------------------------------------------------------------------------

Words split(std::string_view pre, std::string_view text) {
  PreTokenizer p(pre_tokenizer_preset(pre).regexes);
  return p.split(text);
}

TEST(PreTokenizer, Gpt2) {
  // Runs of spaces leave their last space to the next word; trailing spaces stay together.
  EXPECT_EQ(split("gpt-2", "Hello   world  "), (Words{"Hello", "  ", " world", "  "}));
  EXPECT_EQ(split("gpt-2", "it's 2024!?\n\nok"), (Words{"it", "'s", " 2024", "!?", "\n", "\n", "ok"}));
  EXPECT_EQ(split("gpt2", "I'M"), (Words{"I", "'", "M"}));  // GPT-2's contractions are lower case only
  EXPECT_EQ(split("gpt-2", ""), (Words{}));
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(split("llama-bpe", "I'M don't 1234567"), (Words{"I", "'M", " don", "'t", " ", "123", "456", "7"}));
  EXPECT_EQ(split("llama-bpe", "a\n\n b  \n"), (Words{"a", "\n\n", " b", "  \n"}));
  EXPECT_EQ(split("llama-bpe", "x\r\n\r\ny"), (Words{"x", "\r\n\r\n", "y"}));
  EXPECT_EQ(split("llama-bpe", " (hi)!!\n"), (Words{" (", "hi", ")!!\n"}));
  EXPECT_EQ(split("llama-bpe", "日本語テキスト 🦙🦙 ok"), (Words{"日本語テキスト", " 🦙🦙", " ok"}));
}

TEST(PreTokenizer, Qwen2AndSmolLM) {
  EXPECT_EQ(split("qwen2", "abc 12"), (Words{"abc", " ", "1", "2"}));
  // SmolLM: every digit alone first, then GPT-2's expression on what is left.
  EXPECT_EQ(split("smollm", "abc 123x"), (Words{"abc", " ", "1", "2", "3", "x"}));
}

TEST(PreTokenizer, WhiteSpaceIsUnicodeWhiteSpace) {
  // U+180E has not been White_Space since Unicode 6.3, though PCRE2's \s still matches it:
  // it joins the punctuation-like run after the space, as in Hugging Face and llama.cpp.
  EXPECT_EQ(split("gpt-2", "x \xE1\xA0\x8Ey"), (Words{"x", " \xE1\xA0\x8E", "y"}));
  // NBSP and the ideographic space are White_Space (a run keeps its last one for the word).
  EXPECT_EQ(split("llama-bpe", "x\xC2\xA0\xC2\xA0y"), (Words{"x", "\xC2\xA0", "\xC2\xA0y"}));
  EXPECT_EQ(split("gpt-2", "x \xE3\x80\x80y"), (Words{"x", " ", "\xE3\x80\x80", "y"}));
}

TEST(PreTokenizer, DefaultIsLlamaCppsChain) {
  EXPECT_EQ(split("default", "hi, 12345"), (Words{"hi", ",", " ", "123", "45"}));
  EXPECT_EQ(split("", "hi"), (Words{"hi"}));
}

TEST(PreTokenizer, LongRunsDoNotOverflow) {
  // Long whitespace and letter runs (backtracking in \s+(?!\S)) stay within PCRE2's limits.
  // (Built in place: GCC 12 took `std::string(200000, ' ') + "x"` in a braced list for a memcpy
  // out of bounds, -Warray-bounds, once the tests' precompiled header changed its inlining.)
  std::string spaces(200000, ' '), letters(200000, 'a'), newlines(100000, '\n');
  spaces += 'x';
  newlines += ' ';
  for (const std::string* s : {&spaces, &letters, &newlines}) {
    for (const char* pre : {"gpt-2", "llama-bpe", "qwen2", "smollm", "default"}) {
      std::string joined;
      for (auto w : split(pre, *s)) joined += w;
      EXPECT_EQ(joined, *s) << pre;
    }
  }
}

TEST(PreTokenizer, UnknownNameIsUnsupported) {
  try {
    pre_tokenizer_preset("klingon");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Unsupported);
    EXPECT_NE(std::string(e.what()).find("llama-bpe"), std::string::npos) << e.what();
  }
  EXPECT_EQ(find_pre_tokenizer_preset("klingon"), nullptr);
  EXPECT_TRUE(pre_tokenizer_preset("llama3").ignore_merges);
  EXPECT_TRUE(pre_tokenizer_preset("llama-bpe").add_bos);
  EXPECT_FALSE(pre_tokenizer_preset("qwen2").ignore_merges);
}

// ---- GGUF keys and bad vocabularies ---------------------------------------------------------

std::unique_ptr<GgufFile> gguf_of(GgufWriter& w, std::vector<uint8_t>& bytes) {
  bytes = w.to_bytes();
  return GgufFile::from_memory(bytes.data(), bytes.size());
}

void set_vocab(GgufWriter& w, const Vocab& v) {
  w.set_string("tokenizer.ggml.model", v.model);
  w.set_array("tokenizer.ggml.tokens", v.tokens);
  w.set_array("tokenizer.ggml.token_type", v.types);
}

TEST(BpeGguf, KeysAndDefaults) {
  const Vocab v = tiny_bpe_vocab({"ab"}, {"a b"});
  for (const char* pre : {"llama-bpe", "qwen2"}) {
    GgufWriter w;
    set_vocab(w, v);
    w.set_string("tokenizer.ggml.pre", pre);
    w.set_array("tokenizer.ggml.merges", v.merges);
    w.set_u32("tokenizer.ggml.bos_token_id", 'a');
    std::vector<uint8_t> bytes;
    const Vocab got = vocab_from_gguf(*gguf_of(w, bytes));
    EXPECT_EQ(got.model, "gpt2");
    EXPECT_EQ(got.pre, pre);
    EXPECT_EQ(got.merges, v.merges);
    EXPECT_EQ(got.bos, 'a');
    EXPECT_EQ(got.eos, -1);
    EXPECT_EQ(got.unk, -1);
    EXPECT_FALSE(got.add_space_prefix);
    EXPECT_EQ(got.add_bos, std::string(pre) == "llama-bpe");  // llama.cpp's default without the key
    auto tok = Tokenizer::from_vocab(got);
    EXPECT_EQ(tok->encode("ab", got.add_bos), std::string(pre) == "llama-bpe" ? (Ids{'a', 256}) : (Ids{256}));
  }
}

void expect_error(const Vocab& v, Status want, const std::string& says) {
  try {
    Tokenizer::from_vocab(v);
    ADD_FAILURE() << "no error; expected: " << says;
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), want) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(BpeErrors, BadVocabulariesAreClearErrors) {
  expect_error(tiny_bpe_vocab({"ab"}, {}), Status::BadModel, "no merges");
  expect_error(tiny_bpe_vocab({"ab"}, {"ab"}), Status::BadModel, "is not 'A B'");
  expect_error(tiny_bpe_vocab({"ab"}, {"a "}), Status::BadModel, "is not 'A B'");
  expect_error(tiny_bpe_vocab({"ab"}, {" "}), Status::BadModel, "is not 'A B'");
  expect_error(tiny_bpe_vocab({"ab"}, {"a b", "a zz"}), Status::BadModel, "merge 1 ('a zz') names a token");
  expect_error(tiny_bpe_vocab({"ab"}, {"a c"}), Status::BadModel, "makes a token that is not in the vocabulary");
  expect_error(tiny_bpe_vocab({"ab"}, {"a b"}, "klingon"), Status::Unsupported, "klingon");
  Vocab short_types = tiny_bpe_vocab({"ab"}, {"a b"});
  short_types.types.pop_back();
  expect_error(short_types, Status::BadModel, "differ in count");
  Vocab other = tiny_bpe_vocab({"ab"}, {"a b"});
  other.model = "t5";
  expect_error(other, Status::Unsupported, "'t5' is not supported");
}

TEST(BpeErrors, GgufMergesOfTheWrongTypeOrMissing) {
  const Vocab v = tiny_bpe_vocab({"ab"}, {"a b"});
  {
    GgufWriter w;
    set_vocab(w, v);
    w.set_array("tokenizer.ggml.merges", std::vector<int32_t>{1, 2});
    std::vector<uint8_t> bytes;
    EXPECT_THROW(vocab_from_gguf(*gguf_of(w, bytes)), Error);
  }
  {
    GgufWriter w;
    set_vocab(w, v);  // no merges key at all
    std::vector<uint8_t> bytes;
    const Vocab got = vocab_from_gguf(*gguf_of(w, bytes));
    expect_error(got, Status::BadModel, "no merges");
  }
}

}  // namespace
}  // namespace tern

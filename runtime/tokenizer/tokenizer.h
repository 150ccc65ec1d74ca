// Text <-> token ids for the two vocabulary models GGUF files carry: sentencepiece ("llama",
// SPM; on the sentencepiece library, spm_backend.h) and GPT-2-style byte-level BPE ("gpt2":
// Llama 3, Qwen2, SmolLM; bpe_backend.h). This class does what both share: special-token
// splitting (as llama.cpp partitions the text), BOS, UTF-8 and id checks, end-of-generation ids.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/vocab.h"

namespace tern {

class TokenizerBackend;

// Longest text one encode() takes (tern_tokenize, tern_generate's prompt): longer text is
// refused with InvalidArgument before any work, so one call's time and memory stay bounded.
constexpr size_t k_max_text_bytes = size_t(64) << 20;

class Tokenizer {
 public:
  // A sentencepiece .model file, used as is (its own normalizer included).
  static std::unique_ptr<Tokenizer> from_model_file(const std::string& path);
  // A vocabulary as GGUF stores it: model "llama" (SPM) or "gpt2" (byte-level BPE). Error(BadModel)
  // for an inconsistent vocabulary (array lengths, merges), Error(Unsupported) for another model
  // or an unknown BPE pre-tokenizer.
  static std::unique_ptr<Tokenizer> from_vocab(const Vocab& vocab);
  // A llama2.c tokenizer .bin (e.g. stories260K's tok512.bin).
  static std::unique_ptr<Tokenizer> from_llama2c(const std::string& path);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids for utf8 (BOS first when add_bos and the vocabulary has one; EOS is never added).
  // User-defined tokens are always matched in the text; with parse_special, control tokens
  // ("<s>", "<|im_start|>") are too, otherwise they are plain text. Each text run gets the
  // dummy-prefix space when the vocabulary asks for it. Throws Error(InvalidUtf8) with the byte
  // offset when utf8 is not valid UTF-8, Error(InvalidArgument) for text longer than
  // k_max_text_bytes.
  std::vector<int32_t> encode(std::string_view utf8, bool add_bos, bool parse_special = false) const;

  // Text of a whole sequence, as sentencepiece's DecodeIds gives it: control tokens vanish,
  // byte tokens join into characters (ill-formed ones become U+FFFD), the first piece loses its
  // dummy-prefix space (SPM). BPE: the tokens' bytes joined, the same way. Spaces are never
  // "cleaned up" around punctuation, so decode(encode(s)) == s. Throws Error(InvalidArgument)
  // for an id out of range.
  std::string decode(std::span<const int32_t> ids) const;

  // Raw bytes of one token: U+2581 -> ' ', a byte token -> that byte (possibly a partial UTF-8
  // character: feed it through Utf8Stream), a control token -> "" unless show_special, <unk> ->
  // " \u2047 " unless show_special. BPE: the bytes the byte-level piece spells (again possibly
  // part of a character), user-defined tokens as written. Throws Error(InvalidArgument) for an
  // id out of range.
  std::string token_text(int32_t id, bool show_special = false) const;
  // token_text of id printed right after prev (-1: nothing before): the dummy-prefix space of
  // the first piece after the start or BOS is dropped, as llama.cpp does when it prints.
  std::string stream_text(int32_t prev, int32_t id) const;

  // The fewest tokens `bytes` bytes of text can become (BOS not counted): no token covers more
  // input than the vocabulary's longest piece. 0 when that does not hold (a sentencepiece .model
  // whose normalizer may shrink text, or an SPM vocabulary without byte fallback, whose <unk>
  // may stand for several characters).
  uint64_t min_tokens(size_t bytes) const { return max_piece_bytes_ ? (bytes + max_piece_bytes_ - 1) / max_piece_bytes_ : 0; }

  int32_t n_vocab() const { return int32_t(vocab_.tokens.size()); }
  int32_t bos() const { return vocab_.bos; }
  int32_t eos() const { return vocab_.eos; }
  bool is_control(int32_t id) const;  // false for ids out of range
  // EOS and the other end-of-generation tokens present by text (<|eot_id|>, <|im_end|>, ...).
  bool is_eog(int32_t id) const;
  const Vocab& vocab() const { return vocab_; }

 private:
  // The backend is made from vocab_ once it is in place: it keeps a reference to it.
  using BackendFactory = std::function<std::unique_ptr<TokenizerBackend>(const Vocab&)>;
  Tokenizer(Vocab vocab, const BackendFactory& make_backend);
  void check_id(int32_t id) const;

  Vocab vocab_;
  std::unique_ptr<TokenizerBackend> backend_;
  // Tokens matched in text: (text, id, is control-like = only with parse_special), longest first.
  struct Special {
    std::string text;
    int32_t id;
    bool needs_parse_special;
  };
  std::vector<Special> specials_;
  std::vector<int32_t> eog_;
  size_t max_piece_bytes_ = 0;  // min_tokens' divisor; 0: no bound
};

}  // namespace tern

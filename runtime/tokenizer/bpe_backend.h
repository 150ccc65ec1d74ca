// Byte-level BPE vocabularies ("gpt2": GPT-2, Llama 3, Qwen2, SmolLM), tokenized as Hugging
// Face `tokenizers` and llama.cpp do it: pre-tokenizer regexes cut the text into words, each
// word's bytes are spelled in GPT-2's byte alphabet and merged by rank. No dummy-prefix space.
#pragma once
#include "tokenizer/bpe.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_backend.h"
#include "tokenizer/vocab.h"

namespace tern {

class BpeBackend final : public TokenizerBackend {
 public:
  // Error(BadModel) for bad merges, Error(Unsupported) for an unknown pre-tokenizer name.
  explicit BpeBackend(const Vocab& vocab);

  void encode(std::string_view text, std::vector<int32_t>& out) const override;
  // Bytes of the tokens joined, ill-formed UTF-8 as U+FFFD; control tokens vanish.
  std::string decode(std::span<const int32_t> ids) const override;
  // Normal tokens: their bytes; user-defined tokens: their text as is; control (and unknown)
  // tokens: "" unless show_special.
  std::string token_text(int32_t id, bool show_special) const override;

 private:
  BpeBackend(const Vocab& vocab, const PreTokenizerPreset& preset);

  const Vocab& vocab_;  // owned by the Tokenizer, which owns this backend
  PreTokenizer pre_;
  BpeMerges merges_;
};

}  // namespace tern

// Byte-pair merging as GPT-2 / Hugging Face `tokenizers` define it: a word starts as one symbol
// per byte-level character and the adjacent pair with the lowest merge rank (its index in
// tokenizer.ggml.merges) is merged first, leftmost on ties, until no listed merge applies.
// Only listed merges count: a pair whose concatenation happens to be a token but is not in the
// merge list stays split. This is why scores (sentencepiece's "best piece first") cannot stand
// in for ranks.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace tern {

class BpeMerges {
 public:
  // Checks and indexes vocab.merges ("A B", rank = index): Error(BadModel) when the list is
  // empty, an entry has no separating space, or A, B or AB is not a token. ignore_merges: a
  // word that is itself a token is emitted whole (Llama 3).
  BpeMerges(const Vocab& vocab, bool ignore_merges);

  // Appends the ids of one pre-token, spelled in the byte-level alphabet (byte_level.h).
  // Error(InvalidArgument) when a character of it is not a token.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  // The token spelled exactly `text`, or -1.
  int32_t find(std::string_view text) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // token id of the merged pair
  };
  static uint64_t pair_key(int32_t left, int32_t right) { return uint64_t(uint32_t(left)) << 32 | uint32_t(right); }
  const Merge* merge_of(int32_t left, int32_t right) const;

  std::unordered_map<std::string_view, int32_t> ids_;  // views into the Vocab's token strings
  std::unordered_map<uint64_t, Merge> merges_;
  bool ignore_merges_;
};

}  // namespace tern

// Where a sentencepiece BPE encoding of a long text can be cut into independent parts, so
// SpmBackend encodes long text in bounded pieces (the library's BPE keeps ~250 bytes per input
// byte while it works: 4 MB of text took a gigabyte in one call). A merge only ever makes a
// piece of the vocabulary, so no merge crosses a place between two characters that no piece
// holds next to each other: cutting there gives exactly the whole text's tokens. Characters
// that are in no piece (which the library would merge into one <unk> with their neighbours)
// are never cut around.
#pragma once
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_set>

#include "tokenizer/tokenizer_backend.h"
#include "tokenizer/vocab.h"

namespace tern {

class SpmChunker {
 public:
  explicit SpmChunker(const Vocab& vocab);

  // Calls part(text, first) for consecutive parts of text (valid UTF-8) that concatenate to it,
  // each at least min_bytes long but the last, cut only where no piece spans. Throws
  // Error(InvalidArgument) for a run longer than k_max_unbroken_run with no place to cut.
  void split(std::string_view text, size_t min_bytes, const std::function<void(std::string_view, bool)>& part) const;

 private:
  bool spanned(uint32_t a, uint32_t b) const;

  std::bitset<128 * 128> ascii_pairs_;   // pairs of ASCII characters some piece holds
  std::bitset<128> ascii_known_;         // ASCII characters some piece holds
  std::unordered_set<uint64_t> pairs_;   // the other pairs
  std::unordered_set<uint32_t> known_;   // the other characters
};

}  // namespace tern

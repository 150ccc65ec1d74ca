// A small hand-made byte-level BPE vocabulary for tests: ids 0..255 are the 256 byte characters
// in byte order ("a" is id 97, " " is "Ġ" = id 32), then the given tokens (normal, or control /
// user-defined), with the given merges.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_level.h"
#include "tokenizer/vocab.h"

namespace tern::test {

inline Vocab tiny_bpe_vocab(const std::vector<std::string>& tokens, const std::vector<std::string>& merges,
                            const std::string& pre = "gpt-2",
                            const std::vector<std::pair<std::string, TokenType>>& added = {}) {
  Vocab v;
  v.model = "gpt2";
  v.pre = pre;
  v.add_space_prefix = false;
  v.add_bos = false;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(bytes_to_unicode_text(std::string(1, char(b))));
  for (const auto& t : tokens) v.tokens.push_back(t);
  v.types.assign(v.tokens.size(), int32_t(TokenType::Normal));
  for (const auto& [t, type] : added) {
    v.tokens.push_back(t);
    v.types.push_back(int32_t(type));
  }
  v.scores.assign(v.tokens.size(), 0.f);
  v.merges = merges;
  return v;
}

}  // namespace tern::test

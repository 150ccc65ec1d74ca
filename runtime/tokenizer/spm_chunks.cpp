#include "tokenizer/spm_chunks.h"

#include <string>

#include "common/error.h"

namespace tern {
namespace {

// The code point at s[i] (valid UTF-8), advancing i. ' ' and U+2581 are one character here: the
// library's normalizer writes every space as U+2581 before it merges.
uint32_t next_char(std::string_view s, size_t& i) {
  const auto b = uint8_t(s[i]);
  uint32_t c;
  size_t n;
  if (b < 0x80) c = b, n = 1;
  else if (b < 0xE0) c = b & 0x1F, n = 2;
  else if (b < 0xF0) c = b & 0x0F, n = 3;
  else c = b & 0x07, n = 4;
  for (size_t k = 1; k < n && i + k < s.size(); ++k) c = c << 6 | (uint8_t(s[i + k]) & 0x3F);
  i += n;
  return c == 0x2581 ? ' ' : c;
}

uint64_t pair_key(uint32_t a, uint32_t b) { return uint64_t(a) << 21 | b; }

}  // namespace

SpmChunker::SpmChunker(const Vocab& vocab) {
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    const auto type = id < vocab.types.size() ? TokenType(vocab.types[id]) : TokenType::Normal;
    // Byte pieces stand for bytes, not text; control and unknown pieces are never merged into.
    if (type == TokenType::Byte || type == TokenType::Control || type == TokenType::Unknown) continue;
    const std::string_view p = vocab.tokens[id];
    uint32_t prev = 0;
    for (size_t i = 0; i < p.size();) {
      const size_t at = i;
      const uint32_t c = next_char(p, i);
      if (c < 128) ascii_known_.set(c);
      else known_.insert(c);
      if (at > 0) {
        if (prev < 128 && c < 128) ascii_pairs_.set(prev * 128 + c);
        else pairs_.insert(pair_key(prev, c));
      }
      prev = c;
    }
  }
}

bool SpmChunker::spanned(uint32_t a, uint32_t b) const {
  const bool a_known = a < 128 ? ascii_known_.test(a) : known_.count(a) > 0;
  const bool b_known = b < 128 ? ascii_known_.test(b) : known_.count(b) > 0;
  if (!a_known || !b_known) return true;  // unknown characters stay with their neighbours
  return a < 128 && b < 128 ? ascii_pairs_.test(a * 128 + b) : pairs_.count(pair_key(a, b)) > 0;
}

void SpmChunker::split(std::string_view text, size_t min_bytes,
                       const std::function<void(std::string_view, bool)>& part) const {
  size_t start = 0, last_cut = 0, i = 0;
  uint32_t prev = 0;
  bool first = true;
  while (i < text.size()) {
    const size_t at = i;
    const uint32_t c = next_char(text, i);
    if (at > 0 && !spanned(prev, c)) {
      last_cut = at;
      if (at - start >= min_bytes) {
        part(text.substr(start, at - start), first);
        first = false;
        start = at;
      }
    }
    if (i - last_cut > k_max_unbroken_run)
      throw Error(Status::InvalidArgument, "the text has a run of more than " + std::to_string(k_max_unbroken_run >> 10) +
                                               " KiB that this vocabulary cannot break (at byte " +
                                               std::to_string(last_cut) + "): split it");
    prev = c;
  }
  if (start < text.size() || first) part(text.substr(start), first);
}

}  // namespace tern

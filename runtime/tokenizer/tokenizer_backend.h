// What the Tokenizer asks of a vocabulary's algorithm. The Tokenizer itself splits out special
// tokens, adds BOS and checks UTF-8 and ids; a backend turns plain text runs into ids and ids
// back into bytes. Two implement it: SPM (sentencepiece, spm_backend.h) and byte-level BPE
// (bpe_backend.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tern {

// Longest run of text a backend merges as a whole (a byte-level BPE word; for sentencepiece, a
// run with no place to cut, spm_chunks.h): the merging holds 40 to 250 bytes per byte of it, so
// a longer run (a megabyte of one repeated letter) is refused with InvalidArgument.
constexpr size_t k_max_unbroken_run = size_t(256) << 10;

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;
  // Appends the ids of a run of valid UTF-8 text that holds no special token.
  virtual void encode(std::string_view text, std::vector<int32_t>& out) const = 0;
  // Text of a whole sequence of in-range ids (Tokenizer::decode's contract).
  virtual std::string decode(std::span<const int32_t> ids) const = 0;
  // Bytes of one in-range id (Tokenizer::token_text's contract).
  virtual std::string token_text(int32_t id, bool show_special) const = 0;
};

}  // namespace tern

// UTF-8 validation, and a stream that turns the bytes of generated tokens into text that is
// always complete, valid UTF-8 (byte-fallback tokens can split one character over several
// tokens).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace tern {

// True when s is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
// Otherwise false, with *bad_offset (if given) = the byte offset of the first bad sequence.
bool utf8_valid(std::string_view s, size_t* bad_offset = nullptr);

class Utf8Stream {
 public:
  // Appends bytes; returns the text that is now complete. A character cut short is held back
  // until its remaining bytes arrive; ill-formed sequences come out as U+FFFD, one per maximal
  // ill-formed subpart (the Unicode "substitution of maximal subparts" practice).
  std::string push(std::string_view bytes);
  // Ends the stream: a held incomplete character comes out as U+FFFD.
  std::string flush();
  // Bytes held back waiting for the rest of a character.
  size_t pending() const { return held_.size(); }
  void reset() { held_.clear(); }

 private:
  std::string held_;
};

}  // namespace tern

// Spelling conventions of sentencepiece pieces shared by the readers, the proto writer and the
// tokenizer: byte pieces "<0xAB>" and the metaspace U+2581 that stands for ' '.
#pragma once
#include <string>
#include <string_view>

namespace tern {

inline constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

// "<0xAB>" with upper-case hex digits: the only spelling sentencepiece accepts.
inline bool is_byte_piece(std::string_view p) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return p.size() == 6 && p.substr(0, 3) == "<0x" && hex(p[3]) && hex(p[4]) && p[5] == '>';
}

// The byte a byte piece stands for (call only when is_byte_piece).
inline unsigned char byte_piece_value(std::string_view p) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'A' + 10; };
  return static_cast<unsigned char>(nib(p[3]) * 16 + nib(p[4]));
}

// Replaces every `from` in s by `to`.
inline std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    if (s.substr(i, from.size()) == from) {
      out.append(to);
      i += from.size();
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

}  // namespace tern

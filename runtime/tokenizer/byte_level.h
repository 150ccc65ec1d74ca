// GPT-2's byte-level alphabet: byte-level BPE vocabularies (tokenizer.ggml.model "gpt2") spell
// every token as a string of 256 printable stand-in characters, one per byte, so that spaces,
// control bytes and pieces of multi-byte characters can live in a plain-text vocabulary (" the"
// is stored as "Ġthe"). Printable Latin-1 bytes stand for themselves; the other 68 bytes take
// U+0100..U+0143 in byte order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern {

// The stand-in code point of byte b.
char32_t byte_to_unicode(uint8_t b);
// The byte a stand-in code point names; nullopt when cp is not one of the 256.
std::optional<uint8_t> unicode_to_byte(char32_t cp);

// bytes -> their stand-ins, as UTF-8 ("\n the" -> "ĊĠthe").
std::string bytes_to_unicode_text(std::string_view bytes);
// The inverse: nullopt when text is not valid UTF-8 or holds a character outside the alphabet
// (an added token such as "<|im_end|>" is spelled in it, but "日本" is not).
std::optional<std::string> unicode_text_to_bytes(std::string_view text);

}  // namespace tern

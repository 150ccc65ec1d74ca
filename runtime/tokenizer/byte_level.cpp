#include "tokenizer/byte_level.h"

#include <array>

namespace tern {
namespace {

// Bytes that print as themselves: '!'..'~', '¡'..'¬', '®'..'ÿ' (188 of them).
constexpr bool prints_as_itself(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

constexpr char32_t kFirstStandIn = 0x100;  // the other 68 bytes take U+0100.. in byte order
constexpr char32_t kLastStandIn = kFirstStandIn + 67;

struct Tables {
  std::array<char32_t, 256> to_unicode{};
  std::array<int16_t, kLastStandIn + 1> to_byte{};  // -1: not a stand-in
};

constexpr Tables make_tables() {
  Tables t;
  for (auto& x : t.to_byte) x = -1;
  char32_t next = kFirstStandIn;
  for (int b = 0; b < 256; ++b) {
    t.to_unicode[size_t(b)] = prints_as_itself(b) ? char32_t(b) : next++;
    t.to_byte[t.to_unicode[size_t(b)]] = int16_t(b);
  }
  return t;
}

constexpr Tables kTables = make_tables();
static_assert(kTables.to_unicode[0x20] == 0x120 && kTables.to_unicode[0xAD] == kLastStandIn);

void append_utf8(std::string& out, char32_t cp) {  // cp < 0x800: one or two bytes
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

char32_t byte_to_unicode(uint8_t b) { return kTables.to_unicode[b]; }

std::optional<uint8_t> unicode_to_byte(char32_t cp) {
  if (cp > kLastStandIn || kTables.to_byte[cp] < 0) return std::nullopt;
  return uint8_t(kTables.to_byte[cp]);
}

std::string bytes_to_unicode_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) append_utf8(out, byte_to_unicode(uint8_t(c)));
  return out;
}

std::optional<std::string> unicode_text_to_bytes(std::string_view text) {
  // Every stand-in is below U+0800, so only one- and two-byte sequences can be in the alphabet.
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const uint8_t lead = uint8_t(text[i]);
    char32_t cp;
    if (lead < 0x80) {
      cp = lead;
      i += 1;
    } else if (lead >= 0xC2 && lead <= 0xDF && i + 1 < text.size() && (uint8_t(text[i + 1]) & 0xC0) == 0x80) {
      cp = char32_t(lead & 0x1F) << 6 | (uint8_t(text[i + 1]) & 0x3F);
      i += 2;
    } else {
      return std::nullopt;
    }
    const auto b = unicode_to_byte(cp);
    if (!b) return std::nullopt;
    out.push_back(char(*b));
  }
  return out;
}

}  // namespace tern

#include "tokenizer/utf8_stream.h"

#include <cstdint>

namespace tern {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the sequence a lead byte starts (0: not a valid lead byte).
int sequence_length(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

// Whether b may be the k-th byte (k >= 1) of a sequence led by `lead`: the second byte's range
// depends on the lead so overlongs, surrogates and values above U+10FFFF are excluded.
bool continuation_ok(uint8_t lead, int k, uint8_t b) {
  if (k == 1) {
    switch (lead) {
      case 0xE0: return b >= 0xA0 && b <= 0xBF;
      case 0xED: return b >= 0x80 && b <= 0x9F;
      case 0xF0: return b >= 0x90 && b <= 0xBF;
      case 0xF4: return b >= 0x80 && b <= 0x8F;
      default: break;
    }
  }
  return b >= 0x80 && b <= 0xBF;
}

enum class Scan { Complete, Invalid, Incomplete };

// Examines the sequence starting at s[i]: *len = its length when complete, or the length of
// the maximal ill-formed subpart (>= 1) when invalid, or the bytes present when incomplete.
Scan scan(std::string_view s, size_t i, size_t* len) {
  const uint8_t lead = uint8_t(s[i]);
  const int need = sequence_length(lead);
  if (need == 0) {
    *len = 1;
    return Scan::Invalid;
  }
  for (int k = 1; k < need; ++k) {
    if (i + k >= s.size()) {
      *len = size_t(k);
      return Scan::Incomplete;
    }
    if (!continuation_ok(lead, k, uint8_t(s[i + k]))) {
      *len = size_t(k);
      return Scan::Invalid;
    }
  }
  *len = size_t(need);
  return Scan::Complete;
}

}  // namespace

bool utf8_valid(std::string_view s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    if (uint8_t(s[i]) < 0x80) {  // fast path for ASCII
      ++i;
      continue;
    }
    size_t len = 0;
    if (scan(s, i, &len) != Scan::Complete) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

std::string Utf8Stream::push(std::string_view bytes) {
  held_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < held_.size()) {
    size_t len = 0;
    Scan st = scan(held_, i, &len);
    if (st == Scan::Incomplete) break;
    if (st == Scan::Complete) out.append(held_, i, len);
    else out.append(kReplacement);
    i += len;
  }
  held_.erase(0, i);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out = held_.empty() ? std::string() : std::string(kReplacement);
  held_.clear();
  return out;
}

}  // namespace tern

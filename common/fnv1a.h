// 64-bit FNV-1a: a small non-cryptographic hash for fingerprints and file checksums.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tern {

constexpr uint64_t k_fnv1a_offset = 1469598103934665603ull;

inline uint64_t fnv1a(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace tern

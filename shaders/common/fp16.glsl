// f32 -> f16 bit pattern with round-to-nearest-even, bit-exact with tern::fp32_to_fp16
// (runtime/common/fp16.h), including subnormals, inf and NaN. Done with integer ops on the
// raw bits because packHalf2x16 leaves the rounding mode to the driver and may flush
// subnormals.
uint f32_bits_to_f16(uint x) {
  const uint sign = (x >> 16) & 0x8000u;
  const uint absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u);
  if (absx >= 0x477ff000u) return sign | 0x7c00u;
  if (absx < 0x38800000u) {
    if (absx < 0x33000000u) return sign;
    const uint s = 126u - (absx >> 23);
    const uint m = (absx & 0x7fffffu) | 0x800000u;
    uint r = m >> s;
    const uint rem = m & ((1u << s) - 1u);
    const uint half_ulp = 1u << (s - 1u);
    if (rem > half_ulp || (rem == half_ulp && (r & 1u) != 0u)) ++r;
    return sign | r;
  }
  uint r = absx - ((127u - 15u) << 23);
  const uint rem = r & 0x1fffu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u) != 0u)) ++r;
  return sign | r;
}

// Two f32 bit patterns -> one packed word (first value in the low half, like packHalf2x16).
uint pack_f16x2_rne(uint lo, uint hi) { return f32_bits_to_f16(lo) | (f32_bits_to_f16(hi) << 16); }

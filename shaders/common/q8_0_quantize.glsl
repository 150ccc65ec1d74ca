// GGUF block_q8_0 quantisation, bit-exact with quant::quantize_row (ggml's reference):
// d = amax / 127, id = 1 / d, q = round(x * id) (halves away from zero), d stored as f16.
// GLSL division is only accurate to 2.5 ULP, so the two divisions are done exactly by integer
// long division (div_rn). Needs common/fp16.glsl.

// a / b rounded to nearest even, for positive normal a and b; 0 when the quotient would be
// subnormal. (Quotients of these operands are never exact ties except when exact.)
float div_rn(float a, float b) {
  const uint ab = floatBitsToUint(a), bb = floatBitsToUint(b);
  uint ma = (ab & 0x7fffffu) | 0x800000u;
  const uint mb = (bb & 0x7fffffu) | 0x800000u;
  int e = int(ab >> 23) - int(bb >> 23);
  if (ma < mb) {  // bring ma / mb into [1, 2)
    ma <<= 1;
    e -= 1;
  }
  uint q = 0u, r = ma;
  for (int i = 0; i < 25; ++i) {  // 24 significant bits, then a guard bit
    q <<= 1;
    if (r >= mb) {
      r -= mb;
      q |= 1u;
    }
    r <<= 1;
  }
  uint m = q >> 1;
  if ((q & 1u) != 0u && (r != 0u || (m & 1u) != 0u)) ++m;
  if (m == 0x1000000u) {
    m >>= 1;
    ++e;
  }
  if (e + 127 <= 0) return 0.0;
  return uintBitsToFloat((uint(e + 127) << 23) | (m & 0x7fffffu));
}

// round(), halves away from zero as C's roundf (GLSL's round() leaves halves to the driver).
float round_half_away(float v) {
  const float a = abs(v);
  float t = trunc(a);
  if (a - t >= 0.5) t += 1.0;  // a - t is exact
  return v < 0.0 ? -t : t;
}

// Quantises x[0..31] into 17 16-bit halves: h[0] = f16 d, h[1 + j] = q[2j] | q[2j+1] << 8.
void quantize_q8_0_block(const float x[32], out uint h[17]) {
  float amax = 0.0;
  for (int j = 0; j < 32; ++j) amax = max(amax, abs(x[j]));
  const float min_amax = 127.0 * uintBitsToFloat(0x00800000u);  // d stays a normal float
  const float d = amax >= min_amax ? div_rn(amax, 127.0) : 0.0;
  const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
  h[0] = f32_bits_to_f16(floatBitsToUint(d));
  for (int j = 0; j < 16; ++j) {
    precise float v0 = x[2 * j] * id;
    precise float v1 = x[2 * j + 1] * id;
    const int q0 = int(round_half_away(v0)), q1 = int(round_half_away(v1));
    h[1 + j] = (uint(q0) & 0xffu) | ((uint(q1) & 0xffu) << 8);
  }
}

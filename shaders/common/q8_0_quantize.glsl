// GGUF block_q8_0 quantisation, bit-exact with quant::quantize_row (ggml's reference):
// d = amax / 127, id = 1 / d, q = round(x * id) (halves away from zero), d stored as f16.
// GLSL division is only accurate to 2.5 ULP, so the divisions are done exactly by integer long
// division (div_rn). Needs common/fp16.glsl and common/exact_math.glsl.

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

// The activation quantiser of llama.cpp's CPU Q8_0 / Q4_0 products (ggml's x86
// quantize_row_q8_0), bit-exact with ref::quantize_q8_0: d = f16(amax / 127) as above, but
// q = round_half_even(x * (127 / amax)). Returns d as a float and the 32 int8 q packed four to
// a word (element 4w + i in byte i of q[w]). A block whose amax is below 127 * 2^-126 gets
// d = 0 and q = 0 (the reference's q may differ there; every product with them is 0 either way).
float quantize_q8_0_act_block(const float x[32], out uint q[8]) {
  float amax = 0.0;
  for (int j = 0; j < 32; ++j) amax = max(amax, abs(x[j]));
  const float min_amax = 127.0 * uintBitsToFloat(0x00800000u);
  const bool zero = amax < min_amax;
  const float d = zero ? 0.0 : unpackHalf2x16(f32_bits_to_f16(floatBitsToUint(div_rn(amax, 127.0)))).x;
  const float id = zero ? 0.0 : div_rn(127.0, amax);
  for (int w = 0; w < 8; ++w) {
    uint packed = 0u;
    for (int i = 0; i < 4; ++i) {
      precise float v = x[4 * w + i] * id;
      packed |= (uint(int(roundEven(v))) & 0xffu) << (8 * i);
    }
    q[w] = packed;
  }
  return d;
}

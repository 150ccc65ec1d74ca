// Reads GGUF block_q8_0 data (34-byte blocks: f16 d, then 32 int8 q; x = q * d) from a storage
// buffer of uint words. The including shader defines Q8_WORDS as the name of that uint array
// before #include. Block starts (`blk`, a byte offset) are even, so every 16-bit field lies
// inside one word; 4-byte fields at 2 mod 4 take halves of two words.
// To read two such buffers, include this twice with Q8_FN(f) defined to prefix the function
// names (e.g. `#define Q8_FN(f) v_##f`), redefining Q8_WORDS in between.
#ifndef Q8_FN
#define Q8_FN(f) f
#endif

// The 16-bit value at an even byte offset.
uint Q8_FN(q8_half)(uint off) { return (Q8_WORDS[off >> 2] >> ((off & 2u) * 8u)) & 0xffffu; }
// The 4 bytes at an even byte offset, little-endian.
uint Q8_FN(q8_word)(uint off) {
  const uint i = off >> 2;
  if ((off & 2u) == 0u) return Q8_WORDS[i];
  return (Q8_WORDS[i] >> 16) | (Q8_WORDS[i + 1u] << 16);
}
float Q8_FN(q8_scale)(uint blk) { return unpackHalf2x16(Q8_FN(q8_half)(blk)).x; }
// Byte b (0..3) of w as a signed value.
float Q8_FN(q8_byte)(uint w, uint b) { return float(bitfieldExtract(int(w), int(b * 8u), 8)); }

// Element e of the q8_0 data starting at byte `base` (a block start).
float Q8_FN(q8_elem)(uint base, uint e) {
  const uint blk = base + (e >> 5) * 34u, o = blk + 2u + (e & 31u);
  return Q8_FN(q8_byte)(Q8_FN(q8_half)(o & ~1u), o & 1u) * Q8_FN(q8_scale)(blk);
}
// Elements e, e + 1 (e even).
vec2 Q8_FN(q8_pair)(uint base, uint e) {
  const uint blk = base + (e >> 5) * 34u;
  const uint h = Q8_FN(q8_half)(blk + 2u + (e & 31u));
  return vec2(Q8_FN(q8_byte)(h, 0u), Q8_FN(q8_byte)(h, 1u)) * Q8_FN(q8_scale)(blk);
}
// Elements e .. e + 7 (e a multiple of 8).
void Q8_FN(q8_load8)(uint base, uint e, out vec4 lo, out vec4 hi) {
  const uint blk = base + (e >> 5) * 34u, o = blk + 2u + (e & 31u);
  const float d = Q8_FN(q8_scale)(blk);
  const uint w0 = Q8_FN(q8_word)(o), w1 = Q8_FN(q8_word)(o + 4u);
  lo = vec4(Q8_FN(q8_byte)(w0, 0u), Q8_FN(q8_byte)(w0, 1u), Q8_FN(q8_byte)(w0, 2u), Q8_FN(q8_byte)(w0, 3u)) * d;
  hi = vec4(Q8_FN(q8_byte)(w1, 0u), Q8_FN(q8_byte)(w1, 1u), Q8_FN(q8_byte)(w1, 2u), Q8_FN(q8_byte)(w1, 3u)) * d;
}
#undef Q8_FN

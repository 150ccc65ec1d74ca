// Reads GGUF block_q8_0 data (34-byte blocks: f16 d, then 32 int8 q; x = q * d) from a storage
// buffer of uint words. The including shader defines Q8_WORDS as the name of that uint array
// before #include. Block starts (`blk`, a byte offset) are even, so every 16-bit field lies
// inside one word; 4-byte fields at 2 mod 4 take halves of two words.

// The 16-bit value at an even byte offset.
uint q8_half(uint off) { return (Q8_WORDS[off >> 2] >> ((off & 2u) * 8u)) & 0xffffu; }
// The 4 bytes at an even byte offset, little-endian.
uint q8_word(uint off) {
  const uint i = off >> 2;
  if ((off & 2u) == 0u) return Q8_WORDS[i];
  return (Q8_WORDS[i] >> 16) | (Q8_WORDS[i + 1u] << 16);
}
float q8_scale(uint blk) { return unpackHalf2x16(q8_half(blk)).x; }
// Byte b (0..3) of w as a signed value.
float q8_byte(uint w, uint b) { return float(bitfieldExtract(int(w), int(b * 8u), 8)); }

// Element e of the q8_0 data starting at byte `base` (a block start).
float q8_elem(uint base, uint e) {
  const uint blk = base + (e >> 5) * 34u, o = blk + 2u + (e & 31u);
  return q8_byte(q8_half(o & ~1u), o & 1u) * q8_scale(blk);
}
// Elements e, e + 1 (e even).
vec2 q8_pair(uint base, uint e) {
  const uint blk = base + (e >> 5) * 34u;
  const uint h = q8_half(blk + 2u + (e & 31u));
  return vec2(q8_byte(h, 0u), q8_byte(h, 1u)) * q8_scale(blk);
}
// Elements e .. e + 7 (e a multiple of 8).
void q8_load8(uint base, uint e, out vec4 lo, out vec4 hi) {
  const uint blk = base + (e >> 5) * 34u, o = blk + 2u + (e & 31u);
  const float d = q8_scale(blk);
  const uint w0 = q8_word(o), w1 = q8_word(o + 4u);
  lo = vec4(q8_byte(w0, 0u), q8_byte(w0, 1u), q8_byte(w0, 2u), q8_byte(w0, 3u)) * d;
  hi = vec4(q8_byte(w1, 0u), q8_byte(w1, 1u), q8_byte(w1, 2u), q8_byte(w1, 3u)) * d;
}

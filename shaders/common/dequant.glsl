// Bit-exact dequantisation of GGML weight rows (the formulas of ggml's dequantize_row_*), read
// from a storage buffer of uint words. The including shader declares, before #include:
//   layout(std430, binding = N) readonly buffer Weights { uint wq[]; };
// and defines exactly one of WTYPE_F32, WTYPE_F16, WTYPE_Q8_0, WTYPE_Q4_0, WTYPE_Q4_K, WTYPE_Q6_K.
//
// Offsets are in bytes and always even (GGML blocks are 2-byte aligned: Q4_0 18, Q8_0 34 and
// Q6_K 210 bytes). A 4-byte read at an offset of 2 mod 4 takes halves of two words, so the
// host binds weight ranges rounded up to a multiple of 4 bytes.
//
// `precise` keeps the driver from fusing a*b-c into an fma, which would round differently from
// the CPU reference.

#if defined(WTYPE_F32)
const uint BLOCK_ELEMS = 1u, BLOCK_BYTES = 4u;
#elif defined(WTYPE_F16)
const uint BLOCK_ELEMS = 1u, BLOCK_BYTES = 2u;
#elif defined(WTYPE_Q8_0)
const uint BLOCK_ELEMS = 32u, BLOCK_BYTES = 34u;
#elif defined(WTYPE_Q4_0)
const uint BLOCK_ELEMS = 32u, BLOCK_BYTES = 18u;
#elif defined(WTYPE_Q4_K)
const uint BLOCK_ELEMS = 256u, BLOCK_BYTES = 144u;
#elif defined(WTYPE_Q6_K)
const uint BLOCK_ELEMS = 256u, BLOCK_BYTES = 210u;
#else
#error "define one WTYPE_*"
#endif

// The 4 bytes at an even byte offset, little-endian.
uint wload(uint off) {
  const uint i = off >> 2;
  if ((off & 2u) == 0u) return wq[i];
  return (wq[i] >> 16) | (wq[i + 1u] << 16);
}
// The 16-bit value at an even byte offset.
uint hload(uint off) { return (wq[off >> 2] >> ((off & 2u) * 8u)) & 0xffffu; }
float f16load(uint off) { return unpackHalf2x16(hload(off)).x; }
// Byte b (0..3) of word w, as unsigned / sign-extended.
uint ubyte(uint w, uint b) { return bitfieldExtract(w, int(b * 8u), 8); }
int sbyte(uint w, uint b) { return bitfieldExtract(int(w), int(b * 8u), 8); }
// The byte at any offset.
uint byte_at(uint off) { return ubyte(wq[off >> 2], off & 3u); }

#if defined(WTYPE_Q4_K)
// ggml's get_scale_min_k4: 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes
// that start at byte offset `so`.
void q4k_scale_min(uint so, uint j, out uint sc, out uint m) {
  if (j < 4u) {
    sc = byte_at(so + j) & 63u;
    m = byte_at(so + j + 4u) & 63u;
  } else {
    sc = (byte_at(so + j + 4u) & 15u) | ((byte_at(so + j - 4u) >> 6) << 4);
    m = (byte_at(so + j + 4u) >> 4) | ((byte_at(so + j) >> 6) << 4);
  }
}
#endif

// Elements e .. e+7 of the row starting at byte `row`; e is a multiple of 8 (and for F32/F16
// the caller guarantees e + 8 <= cols).
void dequant8(uint row, uint e, out float v[8]) {
#if defined(WTYPE_F32)
  for (uint i = 0u; i < 8u; ++i) v[i] = uintBitsToFloat(wload(row + (e + i) * 4u));
#elif defined(WTYPE_F16)
  for (uint i = 0u; i < 4u; ++i) {
    const vec2 h = unpackHalf2x16(wload(row + (e + 2u * i) * 2u));
    v[2u * i] = h.x;
    v[2u * i + 1u] = h.y;
  }
#elif defined(WTYPE_Q8_0)
  const uint blk = row + (e / 32u) * BLOCK_BYTES;
  const float d = f16load(blk);
  const uint qo = blk + 2u + (e % 32u);
  const uint w0 = wload(qo), w1 = wload(qo + 4u);
  for (uint i = 0u; i < 4u; ++i) {
    v[i] = float(sbyte(w0, i)) * d;
    v[i + 4u] = float(sbyte(w1, i)) * d;
  }
#elif defined(WTYPE_Q4_0)
  const uint blk = row + (e / 32u) * BLOCK_BYTES;
  const float d = f16load(blk);
  const uint g = (e % 32u) / 8u;              // 0,1: low nibbles of bytes 0-7 / 8-15; 2,3: high
  const uint qo = blk + 2u + (g & 1u) * 8u;
  const uint sh = (g >> 1) * 4u;
  const uint w0 = wload(qo), w1 = wload(qo + 4u);
  for (uint i = 0u; i < 4u; ++i) {
    v[i] = float(int((ubyte(w0, i) >> sh) & 15u) - 8) * d;
    v[i + 4u] = float(int((ubyte(w1, i) >> sh) & 15u) - 8) * d;
  }
#elif defined(WTYPE_Q4_K)
  const uint blk = row + (e / 256u) * BLOCK_BYTES;
  const uint p = e % 256u;
  const uint j = p / 64u, hi = (p % 64u) / 32u, l = p % 32u;
  const vec2 dm = unpackHalf2x16(wload(blk));
  uint sc, m;
  q4k_scale_min(blk + 4u, 2u * j + hi, sc, m);
  const float d1 = dm.x * float(sc), m1 = dm.y * float(m);
  const uint qo = blk + 16u + 32u * j + l;
  const uint w0 = wload(qo), w1 = wload(qo + 4u);
  const uint sh = hi * 4u;
  for (uint i = 0u; i < 4u; ++i) {
    precise float a = d1 * float((ubyte(w0, i) >> sh) & 15u) - m1;
    precise float b = d1 * float((ubyte(w1, i) >> sh) & 15u) - m1;
    v[i] = a;
    v[i + 4u] = b;
  }
#elif defined(WTYPE_Q6_K)
  const uint blk = row + (e / 256u) * BLOCK_BYTES;
  const uint p = e % 256u;
  const uint n = p / 128u, qd = (p % 128u) / 32u, l = p % 32u;
  const float d = f16load(blk + 208u);
  const int sc = int(byte_at(blk + 192u + 8u * n + l / 16u + 2u * qd) << 24) >> 24;
  const float ds = d * float(sc);
  const uint lo = blk + 64u * n + l + (qd & 1u) * 32u;
  const uint ho = blk + 128u + 32u * n + l;
  const uint l0 = wload(lo), l1 = wload(lo + 4u), h0 = wload(ho), h1 = wload(ho + 4u);
  const uint lsh = (qd >> 1) * 4u, hsh = 2u * qd;
  for (uint i = 0u; i < 4u; ++i) {
    const int q0 = int(((ubyte(l0, i) >> lsh) & 15u) | (((ubyte(h0, i) >> hsh) & 3u) << 4)) - 32;
    const int q1 = int(((ubyte(l1, i) >> lsh) & 15u) | (((ubyte(h1, i) >> hsh) & 3u) << 4)) - 32;
    v[i] = ds * float(q0);
    v[i + 4u] = ds * float(q1);
  }
#endif
}

// Elements k0 .. k0+31 (k0 a multiple of 32) of the row starting at byte `row`. Q4_0 and Q8_0
// read their block with the fewest uint loads (5 / 9: the block starts at either half of a word).
// Only for shaders that enable GL_EXT_control_flow_attributes (matmul.comp's LANES variants).
#if LANES
void dequant32(uint row, uint k0, out float v[32]) {
#if defined(WTYPE_Q4_0) || defined(WTYPE_Q8_0)
  const uint o = row + (k0 / 32u) * BLOCK_BYTES, b = o >> 2;
  const uint NW = (BLOCK_BYTES + 2u) / 4u;
  uint wl[NW];
  [[unroll]] for (uint i = 0u; i < NW; ++i) wl[i] = wq[b + i];
  const bool al = (o & 2u) == 0u;
  const float d = unpackHalf2x16(al ? wl[0] : wl[0] >> 16).x;
  [[unroll]] for (uint i = 0u; i + 1u < NW; ++i) {
    const uint q = al ? ((wl[i] >> 16) | (wl[i + 1u] << 16)) : wl[i + 1u];  // quant bytes 4i..4i+3
    [[unroll]] for (uint j = 0u; j < 4u; ++j) {
#if defined(WTYPE_Q4_0)
      const uint qb = (q >> (8u * j)) & 255u;
      v[4u * i + j] = float(int(qb & 15u) - 8) * d;
      v[16u + 4u * i + j] = float(int(qb >> 4) - 8) * d;
#else
      v[4u * i + j] = float(bitfieldExtract(int(q), int(8u * j), 8)) * d;
#endif
    }
  }
#elif defined(WTYPE_F32) || defined(WTYPE_F16)
  // Branch-free: load one word more than the slice and pick halves when it starts mid-word.
  const uint o = row + k0 * BLOCK_BYTES, b = o >> 2;
  const uint NW = 8u * BLOCK_BYTES;  // 32 / 16 words
  uint wl[NW + 1u];
  [[unroll]] for (uint i = 0u; i <= NW; ++i) wl[i] = wq[min(b + i, uint(wq.length()) - 1u)];
  const bool al = (o & 2u) == 0u;
  [[unroll]] for (uint i = 0u; i < NW; ++i) {
    const uint q = al ? wl[i] : ((wl[i] >> 16) | (wl[i + 1u] << 16));
#if defined(WTYPE_F32)
    v[i] = uintBitsToFloat(q);
#else
    const vec2 h = unpackHalf2x16(q);
    v[2u * i] = h.x;
    v[2u * i + 1u] = h.y;
#endif
  }
#else
  [[unroll]] for (uint t = 0u; t < 4u; ++t) {
    float u[8];
    dequant8(row, k0 + 8u * t, u);
    [[unroll]] for (uint i = 0u; i < 8u; ++i) v[8u * t + i] = u[i];
  }
#endif
}
#endif

#if defined(WTYPE_F32) || defined(WTYPE_F16)
// One element of an F32/F16 row (tails that are not a multiple of 8).
float dequant1(uint row, uint e) {
#if defined(WTYPE_F32)
  return uintBitsToFloat(wload(row + e * 4u));
#else
  return f16load(row + e * 2u);
#endif
}
#endif

// Body of matvec.comp's VEC4 variants (included after its declarations). Same split-k layout as
// the uint-word kernel, but each invocation's unit is whole 16-byte words of weights, read with
// uvec4 loads, and its x values are read as vec4: lavapipe pays per load instruction (a loop over
// the lanes), not per byte, so wide loads are several times faster there. Needs every weight row
// to start at a multiple of 16 bytes (the host checks); a unit is a whole number of blocks that
// fills whole uvec4s, and the blocks past the last whole unit go through unit_dot().

#if defined(WTYPE_F32)
const uint VU = 1u, VE = 4u;      // uvec4 words and elements per unit
#elif defined(WTYPE_F16)
const uint VU = 1u, VE = 8u;
#elif defined(WTYPE_Q8_0)
const uint VU = 5u, VE = 64u, PB = 68u;  // 2 blocks = 68 bytes: word aligned, inside 5 uvec4s
#elif defined(WTYPE_Q4_0)
const uint VU = 3u, VE = 64u, PB = 36u;  // 2 blocks = 36 bytes: word aligned, inside 3 uvec4s
#elif defined(WTYPE_Q4_K)
const uint VU = 3u, VE = 64u;     // a quarter block: its header uvec4 and 32 bytes of quants
#endif
const uint VX = VE / 4u;          // vec4s of x per unit

// The 32 bits / 16 bits at even byte offset o of the unit's words w (o is constant once the
// loops are unrolled, so these fold to register picks).
#define W32(w, o) ((((o) & 2u) == 0u) ? w[(o) >> 4][((o) >> 2) & 3u] \
    : ((w[(o) >> 4][((o) >> 2) & 3u] >> 16) | (w[((o) + 2u) >> 4][(((o) + 2u) >> 2) & 3u] << 16)))
#define H16(w, o) ((w[(o) >> 4][((o) >> 2) & 3u] >> (((o) & 2u) * 8u)) & 0xffffu)

const uvec4 SH8 = uvec4(0u, 8u, 16u, 24u);

#if defined(WTYPE_Q8_0) || defined(WTYPE_Q4_0)
// Words 4m .. 4m+3 of the unit: a unit of two blocks starts k = 0..3 words into its first uvec4,
// so the loaded uvec4s are shifted down by k words (selects, cheap next to loads).
uvec4 rotated(uvec4 lo, uvec4 hi, uint k) {
  if (k == 0u) return lo;
  if (k == 1u) return uvec4(lo.yzw, hi.x);
  if (k == 2u) return uvec4(lo.zw, hi.xy);
  return uvec4(lo.w, hi.xyz);
}
#define WD(i) w[(i) / 4u][(i) % 4u]
#define WH(i) ((WD(i) >> 16) | (WD((i) + 1u) << 16))  // the word 2 bytes past word i
#endif

// sum over the unit of W[row][e] * x[e]; `row` is the row's byte offset (a multiple of 16).
float vunit_dot(uint row, uint u, vec4 xv[VX], float xs[8]) {
#if defined(WTYPE_Q8_0) || defined(WTYPE_Q4_0)
  const uint off = row + u * PB, a = off >> 4, k = (off >> 2) & 3u;
  uvec4 win[VU];
  const uint last = uint(wq4.length()) - 1u;  // the row's last unit may end before its last uvec4
  for (uint i = 0u; i < VU; ++i) win[i] = wq4[min(a + i, last)];
  uvec4 w[VU];
  for (uint i = 0u; i < VU; ++i) w[i] = rotated(win[i], win[min(i + 1u, VU - 1u)], k);
#else
  uvec4 w[VU];
  for (uint i = 0u; i < VU; ++i) w[i] = wq4[(row >> 4) + u * VU + i];
#endif
#if defined(WTYPE_F32)
  return dot(uintBitsToFloat(w[0]), xv[0]);
#elif defined(WTYPE_F16)
  const vec2 a = unpackHalf2x16(w[0].x), b = unpackHalf2x16(w[0].y);
  const vec2 c = unpackHalf2x16(w[0].z), d = unpackHalf2x16(w[0].w);
  return dot(vec4(a, b), xv[0]) + dot(vec4(c, d), xv[1]);
#elif defined(WTYPE_Q8_0)
  // block 0: d = bytes 0-1, quants bytes 2..33; block 1: d = bytes 34-35, quants words 9..16
  float s0 = 0.0, s1 = 0.0;
  for (uint j = 0u; j < 8u; ++j) {
    s0 += dot(vec4(ivec4(uvec4(WH(j)) << uvec4(24u, 16u, 8u, 0u)) >> 24), xv[j]);
    s1 += dot(vec4(ivec4(uvec4(WD(9u + j)) << uvec4(24u, 16u, 8u, 0u)) >> 24), xv[8u + j]);
  }
  return s0 * unpackHalf2x16(WD(0u)).x + s1 * unpackHalf2x16(WD(8u) >> 16).x;
#elif defined(WTYPE_Q4_0)
  // block 0: d = bytes 0-1, quants bytes 2..17; block 1: d = bytes 18-19, quants words 5..8
  float s0 = 0.0, s1 = 0.0;
  for (uint j = 0u; j < 4u; ++j) {
    const uvec4 q0 = uvec4(WH(j)) >> SH8, q1 = uvec4(WD(5u + j)) >> SH8;
    s0 += dot(vec4(q0 & 15u) - 8.0, xv[j]) + dot(vec4((q0 >> 4) & 15u) - 8.0, xv[4u + j]);
    s1 += dot(vec4(q1 & 15u) - 8.0, xv[8u + j]) + dot(vec4((q1 >> 4) & 15u) - 8.0, xv[12u + j]);
  }
  return s0 * unpackHalf2x16(WD(0u)).x + s1 * unpackHalf2x16(WD(4u) >> 16).x;
#elif defined(WTYPE_Q4_K)
  return 0.0;  // computed in q4k_unit_dot
#endif
}

#if defined(WTYPE_Q4_K)
// Scale byte n (0..11) of a Q4_K header (bytes 4..15 of the block = h.yzw).
uint q4k_sbyte(uvec4 h, uint n) { return bitfieldExtract(h[1u + n / 4u], int(8u * (n % 4u)), 8); }
// Quarter j = u % 4 of block u / 4: 32 quant bytes whose low nibbles are elements 64j..64j+31
// (sub-block 2j) and high nibbles 64j+32..64j+63 (sub-block 2j+1).
float q4k_unit_dot(uint row, uint u, vec4 xv[VX], float xs[8]) {
  const uint blk = (row >> 4) + (u / 4u) * 9u, j = u % 4u;
  const uvec4 h = wq4[blk], qa = wq4[blk + 1u + 2u * j], qb = wq4[blk + 2u + 2u * j];
  float slo = 0.0, shi = 0.0;
  for (uint i = 0u; i < 4u; ++i) {
    const uvec4 q0 = uvec4(qa[i]) >> SH8, q1 = uvec4(qb[i]) >> SH8;
    slo += dot(vec4(q0 & 15u), xv[i]) + dot(vec4(q1 & 15u), xv[4u + i]);
    shi += dot(vec4((q0 >> 4) & 15u), xv[8u + i]) + dot(vec4((q1 >> 4) & 15u), xv[12u + i]);
  }
  // ggml's get_scale_min_k4 for sub-blocks 2j and 2j+1
  uint sc[2], m[2];
  for (uint t = 0u; t < 2u; ++t) {
    const uint k = 2u * j + t;
    if (j < 2u) {
      sc[t] = q4k_sbyte(h, k) & 63u;
      m[t] = q4k_sbyte(h, k + 4u) & 63u;
    } else {
      const uint b4 = q4k_sbyte(h, k + 4u);
      sc[t] = (b4 & 15u) | ((q4k_sbyte(h, k - 4u) >> 6) << 4);
      m[t] = (b4 >> 4) | ((q4k_sbyte(h, k) >> 6) << 4);
    }
  }
  const vec2 dm = unpackHalf2x16(h.x);
  return dm.x * (float(sc[0]) * slo + float(sc[1]) * shi) - dm.y * (float(m[0]) * xs[0] + float(m[1]) * xs[1]);
}
#define vunit_dot q4k_unit_dot
#endif

shared float red[NR * WG];

void main() {
  rms_norm_begin();
  const uint tid = gl_LocalInvocationID.x;
  const uint first = flat_group() * NR;
  const uint vunits = p.cols / VE;
  float acc[NR];
  uint rows[NR];
  for (uint r = 0u; r < NR; ++r) {
    acc[r] = 0.0;
    rows[r] = p.w_skip + min(first + r, p.chunk_rows - 1u) * p.row_bytes;  // clamped: no OOB reads
  }
  for (uint u = tid; u < vunits; u += WG) {
    vec4 xv[VX];
    for (uint i = 0u; i < VX; ++i) xv[i] = xin4(u * VX + i);
    float xs[8];  // sums of x over each 32 elements (Q4_K's min terms)
#if defined(WTYPE_Q4_K)
    for (uint i = 0u; i < 2u; ++i) {
      vec4 t = xv[8u * i];
      for (uint j = 1u; j < 8u; ++j) t += xv[8u * i + j];
      xs[i] = dot(t, vec4(1.0));
    }
#endif
    for (uint r = 0u; r < NR; ++r) acc[r] += vunit_dot(rows[r], u, xv, xs);
  }
  // The rest of the row (blocks past the last whole unit) in unit_dot()'s smaller units.
  for (uint u = vunits * (VE / UNIT) + tid; u < p.cols / UNIT; u += WG) {
    float xv[UNIT];
    for (uint i = 0u; i < UNIT; ++i) xv[i] = xin(elem(u, i));
    for (uint r = 0u; r < NR; ++r) acc[r] += unit_dot(rows[r], u, xv);
  }
#if defined(WTYPE_F32) || defined(WTYPE_F16)
  for (uint k = (p.cols / UNIT) * UNIT + tid; k < p.cols; k += WG)
    for (uint r = 0u; r < NR; ++r) acc[r] += dequant1(rows[r], k) * xin(k);
#endif

  for (uint r = 0u; r < NR; ++r) acc[r] = subgroupAdd(acc[r]);
  if (gl_NumSubgroups == 1u) {
    if (tid < NR && first + tid < p.chunk_rows) {
      float v = acc[0];
      for (uint r = 1u; r < NR; ++r) if (r == tid) v = acc[r];
      store_y(p.y_first + first + tid, v);
    }
    return;
  }
  if (subgroupElect())
    for (uint r = 0u; r < NR; ++r) red[r * WG + gl_SubgroupID] = acc[r];
  barrier();
  if (tid < NR && first + tid < p.chunk_rows) {
    float v = 0.0;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) v += red[tid * WG + s];
    store_y(p.y_first + first + tid, v);
  }
}

#version 450
// KV cache write to a q8_0 cache: workgroup t quantises f32 row t ([row_blocks * 32] floats)
// into row_words words of block_q8_0 (34 bytes each, then zero padding) at cache slot t.
// Blocks straddle words, so each pass quantises WG blocks into shared 16-bit halves and then
// writes whole words.
#include "common/index.glsl"
#include "common/fp16.glsl"
#include "common/exact_math.glsl"
#include "common/q8_0_quantize.glsl"
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) buffer Cache { uint cache[]; };
layout(push_constant) uniform Push {
  uint n_tok;
  uint row_blocks;  // row_elems / 32
  uint row_words;   // padded row bytes / 4
  uint dst_word0;   // first word written, relative to the bound range
} p;

shared uint halves[17u * WG];  // WG blocks of 17 halves (WG even: a pass covers whole words)

void main() {
  const uint t = flat_group();
  if (t >= p.n_tok) return;  // uniform across the workgroup
  const uint tid = gl_LocalInvocationID.x;
  for (uint b0 = 0u; b0 * 17u / 2u < p.row_words; b0 += WG) {
    const uint b = b0 + tid;
    uint h[17];
    if (b < p.row_blocks) {
      float x[32];
      for (uint j = 0u; j < 32u; ++j) x[j] = src[(t * p.row_blocks + b) * 32u + j];
      quantize_q8_0_block(x, h);
    } else {
      for (uint j = 0u; j < 17u; ++j) h[j] = 0u;  // row padding
    }
    for (uint j = 0u; j < 17u; ++j) halves[17u * tid + j] = h[j];
    barrier();
    const uint w0 = b0 * 17u / 2u, w_end = min(w0 + 17u * WG / 2u, p.row_words);
    for (uint w = w0 + tid; w < w_end; w += WG) {
      const uint l = 2u * (w - w0);
      cache[p.dst_word0 + t * p.row_words + w] = halves[l] | (halves[l + 1u] << 16);
    }
    barrier();
  }
}

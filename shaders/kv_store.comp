#version 450
// KV cache write: f32 rows [n_tok][row_elems] -> f16 cache slots, two halves per uint word.
// The source is read as raw bits so no float op can flush subnormals before rounding.
#include "common/index.glsl"
#include "common/fp16.glsl"
layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(std430, binding = 1) buffer Cache { uint cache[]; };
layout(push_constant) uniform Push {
  uint n_words;     // n_tok * row_elems / 2
  uint dst_word0;   // first word written, relative to the bound range
} p;

void main() {
  const uint i = flat_invocation();
  if (i < p.n_words) cache[p.dst_word0 + i] = pack_f16x2_rne(src[2u * i], src[2u * i + 1u]);
}

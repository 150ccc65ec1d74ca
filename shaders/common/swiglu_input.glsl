// A gated activation (SwiGLU or GeGLU) fused into the load of a product's input
// (ops::MatmulOptions::swiglu_up, ::glu): with the specialization constant GLU set, x (declared
// by the includer as float x[] and vec4 x4[]) is the gate and binding 3 the up, and the input is
// act(x[k]) * up[k], computed as it is loaded, with common/silu_mul.glsl (GLU 1) or
// common/gelu_mul.glsl (GLU 2): the bits ops::silu_mul / ops::gelu_mul would have written. At 0
// it folds away at pipeline creation and binding 3 is never read. The includer defines
// SPEC_SWIGLU, a constant id of its own.
#include "common/silu_mul.glsl"
#include "common/gelu_mul.glsl"
layout(constant_id = SPEC_SWIGLU) const uint GLU = 0u;  // 0: x as it is, 1: SwiGLU, 2: GeGLU (tanh GELU)
layout(std430, binding = 3) readonly buffer Up { float up[]; };
layout(std430, binding = 3) readonly buffer Up4 { vec4 up4[]; };

float glu(float g, float u) { return GLU == 2u ? gelu_mul(g, u) : silu_mul(g, u); }
vec4 glu(vec4 g, vec4 u) { return GLU == 2u ? gelu_mul(g, u) : silu_mul(g, u); }

// The product's input: where common/rms_norm_input.glsl was included before this and its RMSNorm
// is on, the normalised x instead of x.
#ifdef SPEC_RMS_NORM
float xin(uint i) { return GLU != 0u ? glu(x[i], up[i]) : RMS_NORM ? rms_norm_x(i) : x[i]; }
vec4 xin4(uint i) { return GLU != 0u ? glu(x4[i], up4[i]) : RMS_NORM ? rms_norm_x4(i) : x4[i]; }
#else
float xin(uint i) { return GLU != 0u ? glu(x[i], up[i]) : x[i]; }
vec4 xin4(uint i) { return GLU != 0u ? glu(x4[i], up4[i]) : x4[i]; }
#endif

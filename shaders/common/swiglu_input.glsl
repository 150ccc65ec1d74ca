// A SwiGLU fused into the load of a product's input (ops::MatmulOptions::swiglu_up): with the
// specialization constant SWIGLU on, x (declared by the includer as float x[] and vec4 x4[])
// is the gate and binding 3 the up, and the input is silu(x[k]) * up[k], computed as
// it is loaded, with common/silu_mul.glsl (the bits ops::silu_mul would have written). Off, it
// folds away at pipeline creation and binding 3 is never read. The includer defines
// SPEC_SWIGLU, a constant id of its own.
#include "common/silu_mul.glsl"
layout(constant_id = SPEC_SWIGLU) const bool SWIGLU = false;
layout(std430, binding = 3) readonly buffer Up { float up[]; };
layout(std430, binding = 3) readonly buffer Up4 { vec4 up4[]; };

// The product's input: where common/rms_norm_input.glsl was included before this and its RMSNorm
// is on, the normalised x instead of x.
#ifdef SPEC_RMS_NORM
float xin(uint i) { return SWIGLU ? silu_mul(x[i], up[i]) : RMS_NORM ? rms_norm_x(i) : x[i]; }
vec4 xin4(uint i) { return SWIGLU ? silu_mul(x4[i], up4[i]) : RMS_NORM ? rms_norm_x4(i) : x4[i]; }
#else
float xin(uint i) { return SWIGLU ? silu_mul(x[i], up[i]) : x[i]; }
vec4 xin4(uint i) { return SWIGLU ? silu_mul(x4[i], up4[i]) : x4[i]; }
#endif

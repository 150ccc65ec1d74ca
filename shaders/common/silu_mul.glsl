// SwiGLU's activation, silu(g) * u = g * sigmoid(g) * u, written g / (1 + exp(-g)) * u: exp
// overflows to inf for very negative g and the quotient is -0, not NaN. The one definition that
// shaders/silu_mul.comp and every fused SwiGLU input use, so the fused paths get the same bits.
float silu_mul(float g, float u) { return g / (1.0 + exp(-g)) * u; }
vec4 silu_mul(vec4 g, vec4 u) { return g / (1.0 + exp(-g)) * u; }

// GeGLU's activation with the tanh GELU (Gemma's gelu_pytorch_tanh): gelu(g) * u with
// gelu(g) = g / 2 * (1 + tanh(sqrt(2 / pi) * (g + 0.044715 g^3))), written with the identity
// (1 + tanh(t)) / 2 = 1 / (1 + exp(-2t)) as g / (1 + exp(-2t)) * u: no tanh (whose driver
// versions overflow to inf / inf = NaN for large t) and no cancellation; exp overflows to inf
// for very negative g and the quotient is -0. The one definition shaders/silu_mul.comp's
// gelu_mul variant and every fused GeGLU input use, so the fused paths get the same bits.
// 2 * sqrt(2 / pi) = 1.5957691216057308.
float gelu_mul(float g, float u) { return g / (1.0 + exp(-1.5957691216057308 * (g + 0.044715 * g * g * g))) * u; }
vec4 gelu_mul(vec4 g, vec4 u) { return g / (1.0 + exp(-1.5957691216057308 * (g + 0.044715 * g * g * g))) * u; }

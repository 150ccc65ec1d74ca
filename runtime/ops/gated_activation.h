// The activation of a gated feed-forward block, act(gate) * up: SwiGLU's SiLU (llama, qwen) or
// GeGLU's tanh GELU (gemma). The values are the shaders' GLU specialization constant
// (shaders/common/swiglu_input.glsl).
#pragma once
#include <cstdint>

namespace tern::ops {
enum class GatedActivation : uint32_t { Silu = 1, GeluTanh = 2 };
}  // namespace tern::ops

// Whose arithmetic the forward pass follows.
#pragma once
#include <cstdint>

namespace tern {

enum class Numerics : uint32_t {
  Default = 0,  // Tern's kernels: fp32 activations, online-softmax attention
  // llama.cpp's CPU backend (ggml on x86), as ref::LlamaCppNumerics::all() imitates it on the
  // CPU: Q8_0 and Q4_0 weights multiply q8_0-quantised activations with integer block dots
  // (ops::MatmulOptions::q8_activations), attention rounds Q and the normalised probabilities to
  // f16 (AttentionParams::ggml_numerics), RMSNorm and RoPE round as ggml does
  // (ops::rms_norm_ggml, ops::rope_ggml), and keys are rotated before they are stored. Needs a
  // dense f16 KV cache in text order and unscaled interleaved (llama) RoPE.
  LlamaCpp = 1,
};

}  // namespace tern

// Whose arithmetic the forward pass follows: Tern's own (every field off), or llama.cpp's CPU
// backend (ggml on x86, commit c392e509), piece by piece. The GPU forward pass (model/forward)
// and its CPU reference (ref::LlamaForward) read the same struct, so a test can switch any
// imitation on in both and compare.
#pragma once

namespace tern {

struct LlamaCppNumerics {
  // Q8_0 and Q4_0 weights multiply activations quantised to q8_0 with integer block dots
  // (ops::MatmulOptions::q8_activations; ref::matmul_q8_0_q8_act, matmul_q4_0_q8_act).
  bool q8_activations = false;
  // Attention rounds Q and the normalised probabilities to f16, fp32 softmax over the whole row
  // in ggml's sum order (AttentionParams::ggml_numerics; ref::attention_ggml).
  bool attention = false;
  // RMSNorm with fp32 scale and products (ops::rms_norm_ggml; ref::rms_norm_ggml).
  bool rms_norm = false;
  // RoPE by ggml's fp32 theta recurrence, cosf/sinf and fused multiply-adds (ops::rope_ggml with
  // tern::rope_ggml_cos_sin; ref::rope_ggml).
  bool rope = false;

  // Every imitation: the mode tern_context_params.numerics = TERN_NUMERICS_LLAMACPP selects.
  static constexpr LlamaCppNumerics all() { return {true, true, true, true}; }
  bool any() const { return q8_activations || attention || rms_norm || rope; }
  // ggml rotates keys before it stores them (in fp32, then rounds to the cache's f16), so with
  // its RoPE or its attention a slot's position can never change: a dense cache in text order.
  bool rotates_keys_before_store() const { return rope || attention; }
  bool operator==(const LlamaCppNumerics&) const = default;
};

}  // namespace tern

// Host-side RoPE frequency table: theta_i for each rotated pair, with the context-extension
// scalings of /work/shared/docs/long-context.md section 5 folded in, so the rope shader only
// ever sees a table (plus one cos/sin multiplier, the YaRN mscale).
#pragma once
#include <vector>

namespace tern {

struct RopeScaling {
  enum Type { None, Linear, Ntk, Yarn, Llama3 } type = None;
  float factor = 1.0f;        // s: context extension factor
  float original_ctx = 0.0f;  // L0: trained context length (YaRN, Llama-3)
  float beta_fast = 32.0f, beta_slow = 1.0f, ext_factor = 1.0f, attn_factor = 1.0f;  // YaRN
  float low_freq_factor = 1.0f, high_freq_factor = 4.0f;                            // Llama-3
};

// theta_i for i = 0 .. n_rot/2 - 1 (pair i of the rotated dims), from theta_i = base^(-2i/n_rot)
// and the scaling. *mscale_out (optional) receives the factor to multiply cos/sin by:
// attn_factor * (1 + 0.1 ln s) for YaRN, attn_factor otherwise. Throws InvalidArgument for an
// odd or zero n_rot, base <= 1 (YaRN/NTK), factor <= 0, or a missing original_ctx.
std::vector<float> rope_freqs(int n_rot, float base, const RopeScaling& scaling, float* mscale_out = nullptr);

}  // namespace tern

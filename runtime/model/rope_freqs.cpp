#include "model/rope_freqs.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "common/error.h"

namespace tern {
namespace {

// Computed in double and rounded once to float, so the table does not depend on the order of
// float operations (llama.cpp builds theta_i by repeated float multiplication, which drifts by
// a few ulp at high i; Hugging Face uses float32 pow).
double base_theta(double base, int i, int n_rot) { return std::pow(base, -2.0 * i / n_rot); }

// YaRN: the pair index at which the rotation count over L0 tokens equals beta turns:
// corr(beta) = d * ln(L0 / (2 pi beta)) / (2 ln base).
double yarn_corr_dim(int n_rot, double original_ctx, double beta, double base) {
  return n_rot * std::log(original_ctx / (2.0 * std::numbers::pi * beta)) / (2.0 * std::log(base));
}

}  // namespace

std::vector<float> rope_freqs(int n_rot, float base, const RopeScaling& sc, float* mscale_out) {
  check(n_rot > 0 && n_rot % 2 == 0, Status::InvalidArgument, "rope_freqs: n_rot must be even and > 0");
  check(base > 1.0f, Status::InvalidArgument, "rope_freqs: freq_base must be > 1");
  if (sc.type != RopeScaling::None)
    check(sc.factor > 0.0f, Status::InvalidArgument, "rope_freqs: scaling factor must be > 0");
  if (sc.type == RopeScaling::Yarn || sc.type == RopeScaling::Llama3)
    check(sc.original_ctx > 0.0f, Status::InvalidArgument, "rope_freqs: original context length missing");

  const int pairs = n_rot / 2;
  const double s = sc.factor;
  std::vector<float> out(pairs);
  double mscale = sc.attn_factor;

  switch (sc.type) {
    case RopeScaling::None:
      for (int i = 0; i < pairs; ++i) out[i] = float(base_theta(base, i, n_rot));
      break;

    case RopeScaling::Linear:  // position interpolation: p / s, i.e. theta / s
      for (int i = 0; i < pairs; ++i) out[i] = float(base_theta(base, i, n_rot) / s);
      break;

    case RopeScaling::Ntk: {  // NTK-aware: base' = base * s^(d/(d-2)), positions unchanged
      // d = n_rot; for n_rot == 2 the exponent is undefined: fall back to the plain base.
      const double b = n_rot > 2 ? base * std::pow(s, double(n_rot) / (n_rot - 2)) : double(base);
      for (int i = 0; i < pairs; ++i) out[i] = float(base_theta(b, i, n_rot));
      break;
    }

    case RopeScaling::Yarn: {
      // lo = floor(corr(beta_fast)), hi = ceil(corr(beta_slow)), clamped to [0, d-1] (the doc,
      // llama.cpp's ggml_rope_yarn_corr_dims and HF's find_correction_range agree).
      const double lo = std::max(0.0, std::floor(yarn_corr_dim(n_rot, sc.original_ctx, sc.beta_fast, base)));
      const double hi =
          std::min(double(n_rot - 1), std::ceil(yarn_corr_dim(n_rot, sc.original_ctx, sc.beta_slow, base)));
      // The doc divides by (hi - lo); llama.cpp uses max(0.001, hi - lo) and HF adds 0.001
      // when hi == lo. We follow llama.cpp so a degenerate range cannot divide by zero.
      const double span = std::max(0.001, hi - lo);
      for (int i = 0; i < pairs; ++i) {
        const double theta = base_theta(base, i, n_rot);
        const double gamma = 1.0 - std::clamp((i - lo) / span, 0.0, 1.0);  // 1: extrapolate (high freq)
        const double mix = gamma * sc.ext_factor;
        out[i] = float((theta / s) * (1.0 - mix) + theta * mix);
      }
      // Doc: attn_factor * (1 + 0.1 ln s), unconditionally. llama.cpp applies the 0.1 ln s
      // term only when ext_factor != 0, and HF's get_mscale returns 1 for s <= 1; we keep the
      // doc's formula for s > 1 and use 1 for s <= 1 (where the doc's would shrink cos/sin).
      if (s > 1.0) mscale *= 1.0 + 0.1 * std::log(s);
      break;
    }

    case RopeScaling::Llama3: {
      // Wavelength 2 pi / theta: longer than L0 / low_freq_factor -> theta / factor; shorter
      // than L0 / high_freq_factor -> unchanged; in between a blend in 1/wavelength with
      // smooth = (L0 / wavelen - low) / (high - low), as in HF _compute_llama3_parameters and
      // llama.cpp's rope_freqs tensor (written by its converter). The doc says the same.
      const double low_wavelen = sc.original_ctx / sc.low_freq_factor;
      const double high_wavelen = sc.original_ctx / sc.high_freq_factor;
      for (int i = 0; i < pairs; ++i) {
        const double theta = base_theta(base, i, n_rot);
        const double wavelen = 2.0 * std::numbers::pi / theta;
        double t;
        if (wavelen < high_wavelen) {
          t = theta;
        } else if (wavelen > low_wavelen) {
          t = theta / s;
        } else {
          check(sc.high_freq_factor != sc.low_freq_factor, Status::InvalidArgument,
                "rope_freqs: llama3 low_freq_factor equals high_freq_factor");
          const double smooth =
              (sc.original_ctx / wavelen - sc.low_freq_factor) / (sc.high_freq_factor - sc.low_freq_factor);
          t = (1.0 - smooth) * theta / s + smooth * theta;
        }
        out[i] = float(t);
      }
      break;
    }

    default:
      throw Error(Status::InvalidArgument, "rope_freqs: unknown scaling type " + std::to_string(int(sc.type)));
  }
  if (mscale_out) *mscale_out = float(mscale);
  return out;
}

}  // namespace tern

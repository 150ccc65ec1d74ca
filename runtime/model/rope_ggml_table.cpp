#include "model/rope_ggml_table.h"

#include <cmath>

#include "common/error.h"

namespace tern {

std::vector<float> rope_ggml_cos_sin(std::span<const int32_t> positions, float base, uint32_t n_rot) {
  check(n_rot > 0 && n_rot % 2 == 0, Status::InvalidArgument, "rope_ggml_cos_sin: n_rot must be even and > 0");
  const uint32_t half = n_rot / 2;
  const float theta_scale = std::pow(base, -2.0f / float(n_rot));  // powf, as ggml
  std::vector<float> cs(positions.size() * half * 2);
  for (size_t t = 0; t < positions.size(); ++t) {
    float theta = float(positions[t]);
    for (uint32_t i = 0; i < half; ++i) {
      cs[(t * half + i) * 2] = std::cos(theta);  // cosf / sinf
      cs[(t * half + i) * 2 + 1] = std::sin(theta);
      theta *= theta_scale;
    }
  }
  return cs;
}

}  // namespace tern

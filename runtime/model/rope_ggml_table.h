// The cos/sin table of llama.cpp's CPU RoPE (normal mode, no scaling), for ops::rope_ggml. ggml
// does not rotate pair i by position * theta_i: it starts from theta = float(position) and
// multiplies by theta_scale = powf(base, -2 / n_rot) once per pair in fp32, so each angle's
// rounding depends on the position, and a per-pair frequency table cannot reproduce it. The
// host computes the table for a step's positions instead (the same float library calls as
// ref::rope_ggml), and the shader only applies it.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tern {

// [positions.size()][n_rot / 2] pairs (cos, sin) of ggml's angles; n_rot even and > 0.
std::vector<float> rope_ggml_cos_sin(std::span<const int32_t> positions, float base, uint32_t n_rot);

}  // namespace tern

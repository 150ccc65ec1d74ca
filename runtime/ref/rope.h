#pragma once
#include <cstddef>
#include <cstdint>

#include "ops/rope_mode.h"

namespace tern::ref {
// CPU reference for ops::rope on x, y [n_rows][n_heads][head_dim]. The angle of pair i is the
// fp32 product float(positions[row]) * freqs[i] (one rounding, as the shader computes it);
// cos/sin of that float are then taken in double (exact range reduction), times attn_factor.
void rope(const float* x, const int32_t* positions, const float* freqs, float* y, size_t n_rows, size_t n_heads,
          size_t head_dim, size_t n_rot, RopeMode mode, float attn_factor = 1.0f);
// llama.cpp's CPU RoPE in normal (interleaved-pair) mode, no scaling, bit for bit as built
// with FMA contraction: theta starts at float(position) and is multiplied by
// powf(base, -2 / n_rot) per pair in fp32; cosf/sinf; y0 = fma(x0, cos, -(x1 * sin)),
// y1 = fma(x0, sin, x1 * cos).
void rope_ggml(const float* x, const int32_t* positions, float base, float* y, size_t n_rows, size_t n_heads,
               size_t head_dim, size_t n_rot);
// The same on f16 bit patterns (converted to float, rotated as above, rounded to nearest even).
void rope_f16(const uint16_t* x, const int32_t* positions, const float* freqs, uint16_t* y, size_t n_rows,
              size_t n_heads, size_t head_dim, size_t n_rot, RopeMode mode, float attn_factor = 1.0f);
// The same from a q8_0 KV cache (rows of x_row_bytes bytes, each n_heads * head_dim elements
// of block_q8_0, dequantised as quant::dequantize_row) to f16 bit patterns.
void rope_f16_from_q8_0(const uint8_t* x, uint64_t x_row_bytes, const int32_t* positions, const float* freqs,
                        uint16_t* y, size_t n_rows, size_t n_heads, size_t head_dim, size_t n_rot, RopeMode mode,
                        float attn_factor = 1.0f);
}  // namespace tern::ref

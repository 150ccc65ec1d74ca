#pragma once
#include <cstddef>
#include <cstdint>

namespace tern::ref {
// CPU reference for ops::quantize_q8_0, the activation quantiser of llama.cpp's CPU Q8_0 product
// (ggml's x86 quantize_row_q8_0): per 32 values d = amax / 127 rounded to f16 and
// q = round_half_even(x * (127 / amax)). x is rows x cols (cols a multiple of 32); the blocks
// are stored split: d[rows * cols / 32] as the f16 value in a float, q[rows * cols] as int8.
void quantize_q8_0(const float* x, size_t rows, size_t cols, float* d, int8_t* q);
}  // namespace tern::ref

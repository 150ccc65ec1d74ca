// CPU quantisers and dequantisers for the GGML weight formats Tern uses. Results match ggml's
// reference code (quantize_row_*_ref / dequantize_row_*) bit for bit, so files Tern writes
// equal what llama.cpp's quantiser writes from the same floats.
#pragma once
#include <cstdint>

#include "quant/ggml_types.h"

namespace tern::quant {

// True when quantize_row supports t (F32, F16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K). BF16 is
// dequantise-only.
bool can_quantize(GgmlType t);
// True when dequantize_row supports t (the above plus BF16).
bool can_dequantize(GgmlType t);

// Quantises n floats into dst (ggml_row_bytes(t, n) bytes). Throws Unsupported for other
// types, InvalidArgument when n is not a multiple of the block size.
void quantize_row(GgmlType t, const float* src, void* dst, int64_t n);

// Expands n elements of type t from src into dst.
void dequantize_row(GgmlType t, const void* src, float* dst, int64_t n);

}  // namespace tern::quant

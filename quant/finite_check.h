// Finds NaN and infinities in tensor data as stored (GGML types), so a model file with broken
// weights is refused at load instead of generating garbage. Quantised types are checked through
// their fp16 scales: the integer quants of a block can only scale a finite d to a finite value.
#pragma once
#include <cstdint>
#include <optional>

#include "quant/ggml_types.h"

namespace tern {

// The index of the first element whose value (F32, F16, BF16) or block scale (Q4_0, Q5_0,
// Q8_0: d; Q4_K: d and dmin; Q6_K: d; the block's first element is reported) is NaN or
// infinite; nullopt when there is none, and for the other types (not checked). n_elements is
// a whole number of blocks.
std::optional<uint64_t> first_non_finite(GgmlType type, const uint8_t* data, uint64_t n_elements);

}  // namespace tern

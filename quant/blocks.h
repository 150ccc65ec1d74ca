// The exact on-disk block layouts of the GGML quantised types Tern reads and writes (as in GGUF
// files). Sizes are checked against the type table; fp16 fields are raw IEEE half bits.
#pragma once
#include <cstdint>

namespace tern::quant {

constexpr int QK4_0 = 32;
constexpr int QK8_0 = 32;
constexpr int QK5_0 = 32;
constexpr int QK_K = 256;
constexpr int K_SCALE_SIZE = 12;

#pragma pack(push, 1)

// 32 weights: x[i] = d * (q[i] - 8); qs[j] low nibble = element j, high nibble = element j + 16.
struct block_q4_0 {
  uint16_t d;
  uint8_t qs[QK4_0 / 2];
};

// 32 weights: x[i] = d * (q[i] - 16), low 4 bits as in Q4_0, bit 4 of element i in qh bit i.
struct block_q5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[QK5_0 / 2];
};

// 32 weights: x[i] = d * qs[i].
struct block_q8_0 {
  uint16_t d;
  int8_t qs[QK8_0];
};

// 256 weights in 8 sub-blocks of 32: x = d * sc[j] * q - dmin * m[j], with 6-bit sc/m packed
// into `scales` (see get_scale_min_k4 in quantize.cpp). qs: per 64 elements, 32 bytes whose low
// nibbles are the first 32 and high nibbles the next 32.
struct block_q4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qs[QK_K / 2];
};

// 256 weights in 16 sub-blocks of 16: x = d * scales[j] * (q - 32) with 6-bit q split into
// 4 low bits (ql) and 2 high bits (qh).
struct block_q6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  uint16_t d;
};

#pragma pack(pop)

static_assert(sizeof(block_q4_0) == 18);
static_assert(sizeof(block_q5_0) == 22);
static_assert(sizeof(block_q8_0) == 34);
static_assert(sizeof(block_q4_K) == 144);
static_assert(sizeof(block_q6_K) == 210);

}  // namespace tern::quant

#pragma once
#include "quant/ggml_types.h"
#include "ops/dispatch_util.h"

namespace tern::ops {
// Writes n_tok rows of f32 keys or values (src: [n_tok][row_elems], row_elems = n_head_kv *
// head_dim) into a per-layer cache of kv_row_bytes(cache_type, row_elems)-byte rows, one per
// slot, at slots first_slot .. first_slot + n_tok - 1. cache_type
//   F16 (default): [n_head_kv][head_dim] packed uint pairs (row_elems even), rounded to nearest
//     even, bit-exact with tern::fp32_to_fp16.
//   F32: a plain copy of the rows.
//   Q8_0: row_elems / 32 GGUF block_q8_0 (f16 d = amax / 127, int8 q = round(x / d)) then zero
//     padding, bit-exact with quant::quantize_row for finite inputs (a block whose amax is below
//     127 * 2^-126 gets d = 0 and q = 0; the reference's q differ there, its dequantised values
//     do not: f16(d) is 0 as well). Blocks ignore head boundaries (as llama.cpp's): element e of
//     a row is int8 byte (e / 32) * 34 + 2 + e % 32, scaled by the f16 at (e / 32) * 34, so with
//     head_dim 8 one block holds four heads and with head_dim 40 heads straddle blocks.
// Only the written slots are bound, so the cache may exceed maxStorageBufferRange.
void kv_store(Recorder& rec, BufferRef src, BufferRef cache, uint32_t first_slot, uint32_t n_tok, uint32_t row_elems,
              GgmlType cache_type = GgmlType::F16);

// Bytes one cache element takes (2 for F16, 4 for F32); throws InvalidArgument for other types.
uint32_t kv_elem_bytes(GgmlType cache_type);

// Bytes one cache row (slot) of row_elems elements takes: row_elems * kv_elem_bytes for F16 / F32;
// for Q8_0, row_elems / 32 blocks of 34 bytes padded to a multiple of 16 so every row starts
// 16-byte aligned. Throws InvalidArgument for other types, an odd F16 row or a Q8_0 row that is
// not a multiple of 32 elements.
uint64_t kv_row_bytes(GgmlType cache_type, uint32_t row_elems);
}  // namespace tern::ops

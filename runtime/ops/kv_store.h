#pragma once
#include "ggml_types.h"
#include "ops/dispatch_util.h"

namespace tern::ops {
// Writes n_tok rows of f32 keys or values (src: [n_tok][row_elems], row_elems = n_head_kv *
// head_dim, even) into a per-layer cache laid out [slot][n_head_kv][head_dim], at slots
// first_slot .. first_slot + n_tok - 1. cache_type F16 (default): packed uint pairs, rounded to
// nearest even, bit-exact with tern::fp32_to_fp16. F32: a plain copy of the rows. Only the
// written slots are bound, so the cache may exceed maxStorageBufferRange.
void kv_store(Recorder& rec, BufferRef src, BufferRef cache, uint32_t first_slot, uint32_t n_tok, uint32_t row_elems,
              GgmlType cache_type = GgmlType::F16);

// Bytes one cache element takes (2 for F16, 4 for F32); throws InvalidArgument for other types.
uint32_t kv_elem_bytes(GgmlType cache_type);
}  // namespace tern::ops

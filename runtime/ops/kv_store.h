#pragma once
#include "ops/dispatch_util.h"

namespace tern::ops {
// Writes n_tok rows of f32 keys or values (src: [n_tok][row_elems], row_elems = n_head_kv *
// head_dim, even) into a per-layer f16 cache laid out [slot][n_head_kv][head_dim] as packed
// uint pairs, at slots first_slot .. first_slot + n_tok - 1. Rounds to nearest even, bit-exact
// with tern::fp32_to_fp16. Only the written slots are bound, so the cache may exceed
// maxStorageBufferRange.
void kv_store(Recorder& rec, BufferRef src, BufferRef cache, uint32_t first_slot, uint32_t n_tok, uint32_t row_elems);
}  // namespace tern::ops

#include "ops/kv_store.h"

#include <algorithm>

#include "common/error.h"

namespace tern::ops {
namespace {
constexpr uint32_t k_q8_block_elems = 32, k_q8_block_bytes = 34;
}  // namespace

uint32_t kv_elem_bytes(GgmlType cache_type) {
  check(cache_type == GgmlType::F16 || cache_type == GgmlType::F32, Status::InvalidArgument, [&] {
    return "KV cache element bytes: type must be f16 or f32, not " + std::string(ggml_type_name(cache_type));
  });
  return cache_type == GgmlType::F32 ? 4 : 2;
}

uint64_t kv_row_bytes(GgmlType cache_type, uint32_t row_elems) {
  if (cache_type == GgmlType::Q8_0) {
    check(row_elems > 0 && row_elems % k_q8_block_elems == 0, Status::InvalidArgument, [&] {
      return "q8_0 KV cache: a row of " + std::to_string(row_elems) +
             " elements (n_head_kv * head_dim) is not a multiple of 32, the q8_0 block size";
    });
    const uint64_t bytes = uint64_t(row_elems / k_q8_block_elems) * k_q8_block_bytes;
    return (bytes + 15) / 16 * 16;
  }
  check(cache_type == GgmlType::F16 || cache_type == GgmlType::F32, Status::InvalidArgument,
        [&] { return "KV cache type must be f16, f32 or q8_0, not " + std::string(ggml_type_name(cache_type)); });
  check(row_elems > 0 && row_elems % 2 == 0, Status::InvalidArgument, "KV cache rows must have an even number of elements");
  return uint64_t(row_elems) * kv_elem_bytes(cache_type);
}

void kv_store(Recorder& rec, BufferRef src, BufferRef cache, uint32_t first_slot, uint32_t n_tok, uint32_t row_elems,
              GgmlType cache_type) {
  const uint64_t row_bytes = kv_row_bytes(cache_type, row_elems);
  if (n_tok == 0) return;
  const uint64_t dst_begin = uint64_t(first_slot) * row_bytes;
  const uint64_t dst_bytes = uint64_t(n_tok) * row_bytes;
  check(dst_begin + dst_bytes <= cache.bytes(), Status::InvalidArgument, [&] {
    return "kv_store: slots " + std::to_string(first_slot) + ".." + std::to_string(uint64_t(first_slot) + n_tok - 1) +
           " lie past the end of the cache";
  });
  check(uint64_t(n_tok) * row_elems * 4 <= src.bytes(), Status::InvalidArgument, "kv_store: source buffer too small");

  if (cache_type == GgmlType::F32) {  // same layout as the source: a transfer copy
    rec.copy(BufferRef(*src.buffer, src.offset, dst_bytes), BufferRef(*cache.buffer, cache.offset + dst_begin, dst_bytes),
             dst_bytes);
    return;
  }

  const uint64_t n_words = dst_bytes / 4;
  check(n_words <= 0xffffffffull, Status::InvalidArgument, "kv_store: too many rows in one call");
  check(cache.offset % 4 == 0, Status::InvalidArgument, "kv_store: the cache must start 4-byte aligned");

  // Bind the cache from an aligned offset at or below the first written word.
  const uint64_t align = std::max<uint64_t>(rec.device().info().min_storage_buffer_offset_alignment, 4);
  const uint64_t abs_begin = cache.offset + dst_begin;
  const uint64_t bind_begin = abs_begin - abs_begin % align;
  const BufferRef dst(*cache.buffer, bind_begin, abs_begin - bind_begin + dst_bytes);
  const BufferRef in(*src.buffer, src.offset, uint64_t(n_tok) * row_elems * 4);
  const uint32_t dst_word0 = uint32_t((abs_begin - bind_begin) / 4);

  if (cache_type == GgmlType::Q8_0) {  // one workgroup per row, one block per invocation
    constexpr uint32_t wg = 64;
    struct {
      uint32_t n_tok, row_blocks, row_words, dst_word0;
    } push{n_tok, row_elems / k_q8_block_elems, uint32_t(row_bytes / 4), dst_word0};
    const Grid g = fold_grid(n_tok);
    static_assert(gpu::declares({ShaderId::kv_store_q8_0}, 2, sizeof(push)));
    rec.dispatch(pipeline(rec, ShaderId::kv_store_q8_0, {wg}), {in, dst}, push, g.x, g.y, 1, "kv_store_q8_0");
    return;
  }

  constexpr uint32_t wg = 256;
  struct {
    uint32_t n_words, dst_word0;
  } push{uint32_t(n_words), dst_word0};
  const Grid g = fold_grid(div_up(n_words, wg));
  static_assert(gpu::declares({ShaderId::kv_store}, 2, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::kv_store, {wg}), {in, dst}, push, g.x, g.y, 1, "kv_store");
}

}  // namespace tern::ops

#include "ops/attention.h"

#include <cmath>

#include "common/error.h"
#include "ops/kv_store.h"
#include "ops/op_checks.h"

namespace tern::ops {
namespace {

constexpr uint32_t k_wg = 128;         // attention_split / attention_tiled (power of two, >= 256 / 2)
constexpr uint32_t k_reduce_wg = 64;
constexpr uint32_t k_max_owned = 16;   // attention_tiled's MAX_OWNED
constexpr uint32_t k_split_max_queries = 8;

struct Push {
  uint32_t n_q, n_kv, n_head, n_head_kv;
  float scale;
  uint32_t q_pos0, has_mask, n_chunks, has_pos, v_row_bytes, window;
};

struct Tiles {
  uint32_t bq, bk;
};

// kv_bytes: bytes of one key element plus one value element as held in shared memory;
// row_floats: per-query floats (3, or 4 for the ggml variant's double-float sums).
uint32_t tiled_shared_bytes(uint32_t hd, uint32_t kv_bytes, uint32_t row_floats, Tiles t) {
  // qs[BQ*HD] + s[BQ*BK] + the per-row floats, and ks,vs holding BK*HD elements each
  return 4 * (t.bq * hd + t.bq * t.bk + row_floats * t.bq) + t.bk * hd * kv_bytes;
}

// Largest tiles that fit the device's shared memory, keeping BQ * HD / 2 <= MAX_OWNED * WG.
Tiles tiled_tiles(uint32_t hd, uint32_t kv_bytes, uint32_t row_floats, uint32_t shared_limit) {
  Tiles t{32, 32};
  while (t.bq * hd / 2 > k_max_owned * k_wg) t.bq /= 2;
  while (tiled_shared_bytes(hd, kv_bytes, row_floats, t) > shared_limit) {
    if (t.bk > 8 && t.bk >= t.bq)
      t.bk /= 2;
    else if (t.bq > 1)
      t.bq /= 2;
    else if (t.bk > 1)
      t.bk /= 2;
    else
      throw Error(Status::Unsupported, "attention: device shared memory too small for head_dim " + std::to_string(hd));
  }
  return t;
}

uint32_t split_chunks(const AttentionParams& p) { return div_up(p.n_kv, k_attention_split_chunk); }

void validate(const AttentionParams& p, bool has_positions) {
  check(p.n_q > 0 && p.n_kv > 0, Status::InvalidArgument, "attention: n_q and n_kv must be > 0");
  check(p.n_head_kv > 0 && p.n_head % p.n_head_kv == 0, Status::InvalidArgument,
        "attention: n_head (" + std::to_string(p.n_head) + ") must be a multiple of n_head_kv (" +
            std::to_string(p.n_head_kv) + ")");
  check(p.head_dim >= 2 && p.head_dim % 2 == 0 && p.head_dim <= k_attention_max_head_dim, Status::InvalidArgument,
        "attention: head_dim " + std::to_string(p.head_dim) + " must be even and at most 256");
  check(has_positions || p.q_pos0 || p.n_kv >= p.n_q, Status::InvalidArgument,
        "attention: n_kv < n_q needs an explicit q_pos0 (queries would see no key)");
  const GgmlType vt = p.v_type.value_or(p.kv_type);
  const bool supported = (p.kv_type == GgmlType::F16 && (vt == GgmlType::F16 || vt == GgmlType::Q8_0)) ||
                         (p.kv_type == GgmlType::F32 && vt == GgmlType::F32);
  check(supported, Status::Unsupported,
        "attention: K/V cache types (" + std::string(ggml_type_name(p.kv_type)) + ", " + std::string(ggml_type_name(vt)) +
            ") unsupported; use (f16, f16), (f32, f32) or (f16, q8_0)");
  check(!p.ggml_numerics || (p.kv_type == GgmlType::F16 && vt == GgmlType::F16), Status::Unsupported,
        "attention: llama.cpp numerics need an f16 K and V cache");
  check(!p.ggml_numerics || p.window == 0, Status::Unsupported,
        "attention: llama.cpp numerics take no sliding window");
  check(vt != GgmlType::Q8_0 || (p.n_head_kv * p.head_dim) % 32 == 0, Status::InvalidArgument,
        "attention: a q8_0 V cache needs n_head_kv * head_dim a multiple of 32 (whole q8_0 blocks per row), not " +
            std::to_string(p.n_head_kv) + " * " + std::to_string(p.head_dim));
}

}  // namespace

AttentionKernel attention_kernel(const AttentionParams& p) {
  if (p.kernel != AttentionKernel::Auto) return p.kernel;
  return p.n_q <= k_split_max_queries ? AttentionKernel::Split : AttentionKernel::Tiled;
}

size_t attention_scratch_bytes(const AttentionParams& p) {
  if (attention_kernel(p) != AttentionKernel::Split || p.ggml_numerics) return 0;
  return size_t(p.n_q) * p.n_head * split_chunks(p) * (p.head_dim + 2) * sizeof(float);
}

void attention(Recorder& rec, const AttentionParams& p, BufferRef q, BufferRef k_cache, BufferRef v_cache,
               BufferRef out, std::optional<BufferRef> mask, BufferRef scratch, const AttentionPositions* positions) {
  validate(p, positions != nullptr);
  check(!(positions && mask), Status::InvalidArgument, "attention: positions cannot be combined with a mask");
  check(!(mask && p.window), Status::InvalidArgument, "attention: a sliding window cannot be combined with a mask");
  check(!p.ggml_numerics || (!positions && !mask), Status::Unsupported,
        "attention: llama.cpp numerics take the causal rule only (no mask, no positions)");
  const uint32_t hd = p.head_dim;
  const uint64_t qo_bytes = uint64_t(p.n_q) * p.n_head * hd * 4;
  const GgmlType vt = p.v_type.value_or(p.kv_type);
  const bool f32 = p.kv_type == GgmlType::F32, q8v = vt == GgmlType::Q8_0;
  const uint64_t v_row_bytes = kv_row_bytes(vt, p.n_head_kv * hd);
  const uint64_t k_bytes = uint64_t(p.n_kv) * kv_row_bytes(p.kv_type, p.n_head_kv * hd);
  const uint64_t v_bytes = uint64_t(p.n_kv) * v_row_bytes;
  check(q.bytes() >= qo_bytes && out.bytes() >= qo_bytes, Status::InvalidArgument,
        "attention: q or out buffer smaller than n_q * n_head * head_dim floats");
  check(k_cache.bytes() >= k_bytes && v_cache.bytes() >= v_bytes, Status::InvalidArgument,
        "attention: K/V cache holds fewer than n_kv slots");
  check(v_bytes <= 0xffffffffull, Status::InvalidArgument, "attention: V cache too large for 32-bit offsets");
  const uint64_t mask_bytes = uint64_t(p.n_q) * p.n_kv * 4;
  check(!mask || mask->bytes() >= mask_bytes, Status::InvalidArgument, "attention: mask smaller than n_q * n_kv floats");

  // Bind only what is read: keys 0..n_kv-1 of the cache (it may be larger than the device's
  // maxStorageBufferRange), and exact ranges elsewhere.
  const BufferRef qb(*q.buffer, q.offset, qo_bytes), ob(*out.buffer, out.offset, qo_bytes);
  const BufferRef kb(*k_cache.buffer, k_cache.offset, k_bytes), vb(*v_cache.buffer, v_cache.offset, v_bytes);
  const BufferRef mb = mask ? BufferRef(*mask->buffer, mask->offset, mask_bytes) : qb;  // placeholder when absent
  if (positions) {
    require_bytes(positions->key_pos, uint64_t(p.n_kv) * 4, "attention", "key_pos");
    require_bytes(positions->query_pos, uint64_t(p.n_q) * 4, "attention", "query_pos");
  }
  const BufferRef kpb = positions ? BufferRef(*positions->key_pos.buffer, positions->key_pos.offset, uint64_t(p.n_kv) * 4) : qb;
  const BufferRef qpb =
      positions ? BufferRef(*positions->query_pos.buffer, positions->query_pos.offset, uint64_t(p.n_q) * 4) : qb;

  Push push{};
  push.n_q = p.n_q;
  push.n_kv = p.n_kv;
  push.n_head = p.n_head;
  push.n_head_kv = p.n_head_kv;
  push.scale = p.scale != 0.f ? p.scale : 1.f / std::sqrt(float(hd));
  push.q_pos0 = p.q_pos0.value_or(p.n_kv - p.n_q);
  push.has_mask = mask ? 1 : 0;
  push.has_pos = positions ? 1 : 0;
  push.v_row_bytes = uint32_t(v_row_bytes);
  push.window = p.window;

  const auto& info = rec.device().info();
  if (p.ggml_numerics && attention_kernel(p) == AttentionKernel::Split) {
    // One workgroup per query row over all its keys, writing the output directly.
    const uint32_t rows = p.n_q * p.n_head;
    check(rows <= info.max_workgroup_count[1], Status::Unsupported, "attention: too many query rows for one dispatch");
    push.n_chunks = 1;
    rec.dispatch(pipeline(rec, "attention_split_ggml", 7, sizeof(push), {k_wg, hd, k_attention_split_chunk}),
                 {qb, kb, vb, mb, ob, kpb, qpb}, push, 1, rows, 1, "attention_split_ggml");
    return;
  }
  if (attention_kernel(p) == AttentionKernel::Split) {
    const uint32_t chunks = split_chunks(p);
    const uint32_t rows = p.n_q * p.n_head;
    const uint64_t part_bytes = attention_scratch_bytes(p);
    check(scratch.buffer && scratch.bytes() >= part_bytes, Status::InvalidArgument,
          "attention: scratch smaller than attention_scratch_bytes() = " + std::to_string(part_bytes));
    check(chunks <= info.max_workgroup_count[0] && rows <= info.max_workgroup_count[1], Status::Unsupported,
          "attention: too many keys or query rows for one split dispatch");
    push.n_chunks = chunks;
    const BufferRef part(*scratch.buffer, scratch.offset, part_bytes);
    // 16-byte K/V loads when every (slot, kv head) row of an f16 cache starts 16-byte aligned;
    // an f32 cache is read a pair of floats at a time.
    // A q8_0 V cache implies f16 keys: v4 key loads and 8-value q8 loads when head_dim % 8 == 0,
    // else pairs of both.
    const bool v4 = !f32 && hd % 8 == 0;
    const char* split = f32   ? "attention_split_f32"
                        : q8v ? (v4 ? "attention_split_q8v" : "attention_split_q8v_pair")
                        : v4  ? "attention_split_v4"
                              : "attention_split";
    rec.dispatch(pipeline(rec, split, 7, sizeof(push), {k_wg, hd, k_attention_split_chunk}),
                 {qb, kb, vb, mb, part, kpb, qpb}, push, chunks, rows, 1, split);
    struct {
      uint32_t n_rows, n_chunks;
    } rpush{rows, chunks};
    const Grid g = fold_grid(rows);
    rec.dispatch(pipeline(rec, "attention_reduce", 2, sizeof(rpush), {k_reduce_wg, hd}), {part, ob}, rpush, g.x, g.y,
                 1, "attention_reduce");
    return;
  }

  const uint32_t k_elem = kv_elem_bytes(p.kv_type), v_elem = q8v ? 4 : k_elem;  // q8 values held as floats
  const Tiles t = tiled_tiles(hd, k_elem + v_elem, p.ggml_numerics ? 4 : 3,
                              std::min<uint32_t>(info.max_shared_memory, 32768));
  const uint32_t blocks = div_up(p.n_q, t.bq);
  check(blocks <= info.max_workgroup_count[0] && p.n_head <= info.max_workgroup_count[1], Status::Unsupported,
        "attention: too many queries or heads for one tiled dispatch");
  const char* name = p.ggml_numerics ? "attention_tiled_ggml"
                     : f32           ? "attention_tiled_f32"
                     : q8v           ? "attention_tiled_q8v"
                                     : "attention_tiled";
  rec.dispatch(pipeline(rec, name, 7, sizeof(push), {k_wg, hd, t.bq, t.bk}), {qb, kb, vb, mb, ob, kpb, qpb}, push,
               blocks, p.n_head, 1, name);
}

}  // namespace tern::ops

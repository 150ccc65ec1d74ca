#include "ops/attention.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "ops/kv_store.h"
#include "ops/op_checks.h"

namespace tern::ops {
namespace {

constexpr uint32_t k_wg = 128;         // attention_split_ggml / attention_tiled (power of two, >= 256 / 2)
constexpr uint32_t k_reduce_wg = 64;
constexpr uint32_t k_max_owned = 16;   // attention_tiled's MAX_OWNED
constexpr uint32_t k_split_max_queries = 8;
constexpr uint32_t k_lanes = 8;        // attention_lanes: one subgroup of 8 lanes per workgroup
constexpr uint32_t k_lanes_max_rows = 8;

// Matches Push in shaders/common/attention.glsl.
struct Push {
  uint32_t n_q, n_kv, n_head, n_head_kv;
  float scale;
  uint32_t q_pos0, n_chunks, has_pos, v_row_bytes, k_row_bytes, window;
  float attn_factor;
};

// What a dispatch binds, in the kernels' binding order: q, k, v, output (or partials),
// key_pos, query_pos, freqs. Absent optional buffers are bound to q (never read).
struct Bindings {
  BufferRef q, k, v, out, key_pos, query_pos, freqs;
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

GgmlType v_type_of(const AttentionParams& p) { return p.v_type.value_or(p.kv_type); }

void validate(const AttentionParams& p, bool has_positions, const AttentionRope* rope) {
  check(p.n_q > 0 && p.n_kv > 0, Status::InvalidArgument, "attention: n_q and n_kv must be > 0");
  check(p.n_head_kv > 0 && p.n_head % p.n_head_kv == 0, Status::InvalidArgument, [&] {
    return "attention: n_head (" + std::to_string(p.n_head) + ") must be a multiple of n_head_kv (" +
           std::to_string(p.n_head_kv) + ")";
  });
  check(p.head_dim >= 2 && p.head_dim % 2 == 0 && p.head_dim <= k_attention_max_head_dim, Status::InvalidArgument,
        [&] { return "attention: head_dim " + std::to_string(p.head_dim) + " must be even and at most 256"; });
  check(has_positions || p.q_pos0 || p.n_kv >= p.n_q, Status::InvalidArgument,
        "attention: n_kv < n_q needs an explicit q_pos0 (queries would see no key)");
  const GgmlType kt = p.kv_type, vt = v_type_of(p);
  const bool supported = (kt == GgmlType::F16 && (vt == GgmlType::F16 || vt == GgmlType::Q8_0)) ||
                         (kt == GgmlType::F32 && vt == GgmlType::F32) ||
                         (kt == GgmlType::Q8_0 && vt == GgmlType::Q8_0);
  check(supported, Status::Unsupported, [&] {
    return "attention: K/V cache types (" + std::string(ggml_type_name(kt)) + ", " + std::string(ggml_type_name(vt)) +
           ") unsupported; use (f16, f16), (f32, f32), (q8_0, q8_0) or (f16, q8_0)";
  });
  check(vt != GgmlType::Q8_0 || (p.n_head_kv * p.head_dim) % 32 == 0, Status::InvalidArgument, [&] {
    return "attention: a q8_0 cache needs n_head_kv * head_dim a multiple of 32 (whole q8_0 blocks per row), not " +
           std::to_string(p.n_head_kv) + " * " + std::to_string(p.head_dim);
  });
  if (rope) {
    check(rope->n_rot >= 2 && rope->n_rot % 2 == 0 && rope->n_rot <= p.head_dim, Status::InvalidArgument,
          [&] { return "attention: n_rot " + std::to_string(rope->n_rot) + " must be even and in [2, head_dim]"; });
    check(rope->mode == RopeMode::Interleaved || rope->mode == RopeMode::Neox, Status::InvalidArgument,
          "attention: unknown RoPE mode");
    require_bytes(rope->freqs, uint64_t(rope->n_rot / 2) * 4, "attention", "rope freqs");
  }
  check(!p.ggml_numerics || (kt == GgmlType::F16 && vt == GgmlType::F16), Status::Unsupported,
        "attention: llama.cpp numerics need an f16 K and V cache");
  check(!p.ggml_numerics || (!has_positions && !p.window && !rope), Status::Unsupported,
        "attention: llama.cpp numerics take the causal rule only (no positions, window or RoPE)");
}

// The lanes kernel needs 8-lane subgroups with shuffles and arithmetic (subgroupMax/Add).
bool lanes_fit(const gpu::DeviceInfo& info) {
  return info.subgroup_size == k_lanes && info.subgroup_shuffle && info.subgroup_arithmetic;
}

bool use_lanes(const gpu::DeviceInfo& info, AttentionSplitImpl impl) {
  if (impl == AttentionSplitImpl::Lanes) {
    check(lanes_fit(info), Status::Unsupported, "attention: the lanes kernel needs 8-lane subgroups with shuffles");
    return true;
  }
  return impl == AttentionSplitImpl::Auto && info.type == gpu::DeviceType::Cpu && lanes_fit(info);
}

// Spec constants 4 and 5 of the lanes and tiled kernels: the RoPE mode of keys cached before
// RoPE (0: rotated already) and n_rot.
uint32_t rope_spec(const AttentionRope* r) {
  return r ? (r->mode == RopeMode::Interleaved ? 1u : 2u) : 0u;
}

// The lanes and tiled kernels per cache type: f16 K and V, f32, q8_0 K and V, f16 K with q8_0 V.
// All bind q, k, v, output, key_pos, query_pos, freqs (the llama.cpp-numerics tiled kernel
// too: it shares the source, never reads freqs); attention_split_ggml the first six.
constexpr ShaderId k_lanes_kernels[] = {ShaderId::attention_lanes, ShaderId::attention_lanes_f32,
                                        ShaderId::attention_lanes_q8, ShaderId::attention_lanes_q8v};
constexpr ShaderId k_tiled_kernels[] = {ShaderId::attention_tiled, ShaderId::attention_tiled_f32,
                                        ShaderId::attention_tiled_q8, ShaderId::attention_tiled_q8v};
static_assert(gpu::declares({ShaderId::attention_lanes, ShaderId::attention_lanes_f32, ShaderId::attention_lanes_q8,
                             ShaderId::attention_lanes_q8v, ShaderId::attention_tiled, ShaderId::attention_tiled_f32,
                             ShaderId::attention_tiled_q8, ShaderId::attention_tiled_q8v,
                             ShaderId::attention_tiled_ggml},
                            7, sizeof(Push)));
static_assert(gpu::declares({ShaderId::attention_split_ggml}, 6, sizeof(Push)));

ShaderId variant(const ShaderId (&kernels)[4], GgmlType kt, GgmlType vt) {
  return kernels[kt == GgmlType::F32 ? 1 : kt == GgmlType::Q8_0 ? 2 : vt == GgmlType::Q8_0 ? 3 : 0];
}

void reduce(Recorder& rec, const AttentionParams& p, BufferRef part, BufferRef out, uint32_t chunks) {
  const uint32_t rows = p.n_q * p.n_head;
  struct {
    uint32_t n_rows, n_chunks;
  } rpush{rows, chunks};
  const Grid g = fold_grid(rows);
  static_assert(gpu::declares({ShaderId::attention_reduce}, 2, sizeof(rpush)));
  rec.dispatch(pipeline(rec, ShaderId::attention_reduce, {k_reduce_wg, p.head_dim}), {part, out}, rpush, g.x, g.y, 1,
               "attention_reduce");
}

// Split kernel, lanes implementation: workgroup (chunk, kv head, row block of up to 8 rows).
void split_lanes(Recorder& rec, const AttentionParams& p, const Bindings& b, Push push, BufferRef scratch,
                 const AttentionRope* rope) {
  const auto& info = rec.device().info();
  const uint32_t chunks = split_chunks(p);
  const uint32_t rows = p.n_q * (p.n_head / p.n_head_kv);
  const uint32_t blocks = div_up(rows, k_lanes_max_rows), rb = div_up(rows, blocks);  // balanced blocks
  check(chunks <= info.max_workgroup_count[0] && p.n_head_kv <= info.max_workgroup_count[1] &&
            blocks <= info.max_workgroup_count[2],
        Status::Unsupported, "attention: too many keys or query rows for one split dispatch");
  push.n_chunks = chunks;
  const BufferRef part = chunks == 1 ? b.out : BufferRef(*scratch.buffer, scratch.offset, attention_scratch_bytes(p));
  const ShaderId kernel = variant(k_lanes_kernels, p.kv_type, v_type_of(p));
  const char* name = gpu::shader_name(kernel).data();
  rec.dispatch(pipeline(rec, kernel,
                        {k_lanes, p.head_dim, k_attention_split_chunk, rb, rope_spec(rope), rope ? rope->n_rot : 2u}),
               {b.q, b.k, b.v, part, b.key_pos, b.query_pos, b.freqs}, push, chunks, p.n_head_kv, blocks, name);
  if (chunks > 1) reduce(rec, p, part, b.out, chunks);
}

// Tiled kernel: workgroup (block of BQ query rows, kv head, key chunk). With chunks > 1 (the
// split kernel's shared-memory implementation) each writes its chunk's partials.
void tiled(Recorder& rec, const AttentionParams& p, const Bindings& b, Push push, BufferRef scratch, uint32_t chunks,
           const AttentionRope* rope) {
  const auto& info = rec.device().info();
  const GgmlType kt = p.kv_type, vt = v_type_of(p);
  // Shared memory holds keys as packed f16 pairs (f16 cache) or floats (f32, q8_0), values
  // likewise (q8_0 values as floats).
  const uint32_t k_elem = kt == GgmlType::F16 ? 2 : 4, v_elem = vt == GgmlType::F16 ? 2 : 4;
  const Tiles t = tiled_tiles(p.head_dim, k_elem + v_elem, p.ggml_numerics ? 4 : 3,
                              std::min<uint32_t>(info.max_shared_memory, 32768));
  const uint32_t rows = p.ggml_numerics ? p.n_q : p.n_q * (p.n_head / p.n_head_kv);
  const uint32_t blocks = div_up(rows, t.bq), heads = p.ggml_numerics ? p.n_head : p.n_head_kv;
  check(blocks <= info.max_workgroup_count[0] && heads <= info.max_workgroup_count[1] &&
            chunks <= info.max_workgroup_count[2],
        Status::Unsupported, "attention: too many queries or heads for one tiled dispatch");
  push.n_chunks = chunks;
  const BufferRef part = chunks == 1 ? b.out : BufferRef(*scratch.buffer, scratch.offset, attention_scratch_bytes(p));
  const ShaderId kernel = p.ggml_numerics ? ShaderId::attention_tiled_ggml : variant(k_tiled_kernels, kt, vt);
  const char* name = gpu::shader_name(kernel).data();
  if (p.ggml_numerics) {
    rec.dispatch(pipeline(rec, kernel, {k_wg, p.head_dim, t.bq, t.bk}),
                 {b.q, b.k, b.v, b.out, b.key_pos, b.query_pos, b.freqs}, push, blocks, heads, 1, name);
    return;
  }
  rec.dispatch(pipeline(rec, kernel,
                        {k_wg, p.head_dim, t.bq, t.bk, rope_spec(rope), rope ? rope->n_rot : 2u,
                         k_attention_split_chunk}),
               {b.q, b.k, b.v, part, b.key_pos, b.query_pos, b.freqs}, push, blocks, heads, chunks, name);
  if (chunks > 1) reduce(rec, p, part, b.out, chunks);
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
               BufferRef out, BufferRef scratch, const AttentionPositions* positions, const AttentionRope* rope) {
  validate(p, positions != nullptr, rope);
  const uint32_t hd = p.head_dim;
  const uint64_t qo_bytes = uint64_t(p.n_q) * p.n_head * hd * 4;
  const GgmlType kt = p.kv_type, vt = v_type_of(p);
  const uint64_t k_row_bytes = kv_row_bytes(kt, p.n_head_kv * hd), v_row_bytes = kv_row_bytes(vt, p.n_head_kv * hd);
  const uint64_t k_bytes = uint64_t(p.n_kv) * k_row_bytes, v_bytes = uint64_t(p.n_kv) * v_row_bytes;
  check(q.bytes() >= qo_bytes && out.bytes() >= qo_bytes, Status::InvalidArgument,
        "attention: q or out buffer smaller than n_q * n_head * head_dim floats");
  check(k_cache.bytes() >= k_bytes && v_cache.bytes() >= v_bytes, Status::InvalidArgument,
        "attention: K/V cache holds fewer than n_kv slots");
  check(k_bytes <= 0xffffffffull && v_bytes <= 0xffffffffull, Status::InvalidArgument,
        "attention: K/V cache too large for 32-bit offsets");
  if (positions) {
    require_bytes(positions->key_pos, uint64_t(p.n_kv) * 4, "attention", "key_pos");
    require_bytes(positions->query_pos, uint64_t(p.n_q) * 4, "attention", "query_pos");
  }

  // Bind only what is read: keys 0..n_kv-1 of the cache (it may be larger than the device's
  // maxStorageBufferRange), and exact ranges elsewhere.
  Bindings b;
  b.q = BufferRef(*q.buffer, q.offset, qo_bytes);
  b.out = BufferRef(*out.buffer, out.offset, qo_bytes);
  b.k = BufferRef(*k_cache.buffer, k_cache.offset, k_bytes);
  b.v = BufferRef(*v_cache.buffer, v_cache.offset, v_bytes);
  b.key_pos = positions ? BufferRef(*positions->key_pos.buffer, positions->key_pos.offset, uint64_t(p.n_kv) * 4) : b.q;
  b.query_pos =
      positions ? BufferRef(*positions->query_pos.buffer, positions->query_pos.offset, uint64_t(p.n_q) * 4) : b.q;
  b.freqs = rope ? BufferRef(*rope->freqs.buffer, rope->freqs.offset, uint64_t(rope->n_rot / 2) * 4) : b.q;

  Push push{};
  push.n_q = p.n_q;
  push.n_kv = p.n_kv;
  push.n_head = p.n_head;
  push.n_head_kv = p.n_head_kv;
  push.scale = p.scale != 0.f ? p.scale : 1.f / std::sqrt(float(hd));
  push.q_pos0 = p.q_pos0.value_or(p.n_kv - p.n_q);
  push.has_pos = positions ? 1 : 0;
  push.v_row_bytes = uint32_t(v_row_bytes);
  push.k_row_bytes = uint32_t(k_row_bytes);
  push.window = p.window;
  push.attn_factor = rope ? rope->attn_factor : 1.f;
  push.n_chunks = 1;

  const auto& info = rec.device().info();
  const AttentionKernel kernel = attention_kernel(p);
  if (p.ggml_numerics && kernel == AttentionKernel::Split) {
    // One workgroup per query row over all its keys, writing the output directly.
    const uint32_t rows = p.n_q * p.n_head;
    check(rows <= info.max_workgroup_count[1], Status::Unsupported, "attention: too many query rows for one dispatch");
    rec.dispatch(pipeline(rec, ShaderId::attention_split_ggml, {k_wg, hd, k_attention_split_chunk}),
                 {b.q, b.k, b.v, b.out, b.key_pos, b.query_pos}, push, 1, rows, 1, "attention_split_ggml");
    return;
  }
  if (kernel == AttentionKernel::Split) {
    const uint64_t part_bytes = attention_scratch_bytes(p);
    check(split_chunks(p) == 1 || (scratch.buffer && scratch.bytes() >= part_bytes), Status::InvalidArgument,
          [&] { return "attention: scratch smaller than attention_scratch_bytes() = " + std::to_string(part_bytes); });
    if (use_lanes(info, p.split_impl))
      split_lanes(rec, p, b, push, scratch, rope);
    else
      tiled(rec, p, b, push, scratch, split_chunks(p), rope);
    return;
  }
  tiled(rec, p, b, push, scratch, 1, rope);
}

}  // namespace tern::ops

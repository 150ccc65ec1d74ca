#include "ops/rope.h"

#include "common/error.h"
#include "ops/kv_store.h"
#include "ops/op_checks.h"

namespace tern::ops {
namespace {

struct RopePush {
  uint32_t pairs, n_heads, head_dim, n_rot, mode;
  float attn_factor;
};

// Validates the shape and buffers; returns the push constants (pairs = elements / 2).
RopePush check_rope(const char* op, const BufferRef& x, const BufferRef& positions, const BufferRef& freqs,
                    const BufferRef& y, uint32_t n_rows, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot,
                    RopeMode mode, float attn_factor, uint32_t elem_bytes, uint64_t x_bytes = 0) {
  check(head_dim % 2 == 0 && head_dim > 0, Status::InvalidArgument,
        [&] { return std::string(op) + ": head_dim must be even and > 0"; });
  check(n_rot % 2 == 0 && n_rot > 0 && n_rot <= head_dim, Status::InvalidArgument,
        [&] { return std::string(op) + ": n_rot must be even, > 0 and <= head_dim"; });
  check(mode == RopeMode::Interleaved || mode == RopeMode::Neox, Status::InvalidArgument,
        [&] { return std::string(op) + ": unknown mode"; });
  const uint64_t elems = uint64_t(n_rows) * n_heads * head_dim;
  require_u32(elems, op);
  require_bytes(x, x_bytes ? x_bytes : elems * elem_bytes, op, "x");
  require_bytes(y, elems * elem_bytes, op, "y");
  require_bytes(positions, uint64_t(n_rows) * 4, op, "positions");
  require_bytes(freqs, uint64_t(n_rot / 2) * 4, op, "freqs");
  return {uint32_t(elems / 2), n_heads, head_dim, n_rot, uint32_t(mode), attn_factor};
}

}  // namespace

void rope(Recorder& rec, BufferRef x, BufferRef positions, BufferRef freqs, BufferRef y, uint32_t n_rows,
          uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode, float attn_factor) {
  if (n_rows == 0 || n_heads == 0) return;
  const RopePush push =
      check_rope("rope", x, positions, freqs, y, n_rows, n_heads, head_dim, n_rot, mode, attn_factor, 4);
  constexpr uint32_t wg = 256;
  const Grid g = fold_grid(div_up(push.pairs, wg));
  static_assert(gpu::declares({ShaderId::rope}, 4, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::rope, {wg}), {x, positions, freqs, y}, push, g.x, g.y, 1, "rope");
}

void rope_f16(Recorder& rec, BufferRef x, BufferRef positions, BufferRef freqs, BufferRef y, uint32_t n_rows,
              uint32_t n_heads, uint32_t head_dim, uint32_t n_rot, RopeMode mode, float attn_factor,
              GgmlType x_type) {
  check(x_type == GgmlType::F16 || x_type == GgmlType::Q8_0, Status::Unsupported,
        [&] { return "rope_f16: x must be f16 or q8_0, not " + std::string(ggml_type_name(x_type)); });
  if (n_rows == 0 || n_heads == 0) return;
  const bool q8 = x_type == GgmlType::Q8_0;
  check(!q8 || (uint64_t(n_heads) * head_dim) % 32 == 0, Status::InvalidArgument, [&] {
    return "rope_f16: a q8_0 x needs n_heads * head_dim a multiple of 32 (whole q8_0 blocks per row), not " +
           std::to_string(n_heads) + " * " + std::to_string(head_dim);
  });
  const uint64_t x_row_bytes = q8 ? kv_row_bytes(GgmlType::Q8_0, n_heads * head_dim) : 0;
  const struct {
    RopePush rope;
    uint32_t x_row_bytes;  // q8_0 x: bytes per (padded) row
  } push{check_rope("rope_f16", x, positions, freqs, y, n_rows, n_heads, head_dim, n_rot, mode, attn_factor, 2,
                    x_row_bytes * n_rows),
         uint32_t(x_row_bytes)};
  const uint32_t pairs = push.rope.pairs;
  const uint64_t x_bytes = q8 ? x_row_bytes * n_rows : uint64_t(pairs) * 4;
  check(!overlaps(x, x_bytes, y, uint64_t(pairs) * 4), Status::InvalidArgument, "rope_f16: y must not overlap x");
  check(!q8 || x.offset % 4 == 0, Status::InvalidArgument, "rope_f16: a q8_0 x must start 4-byte aligned");
  // Bind exactly what is read: a q8_0 cache may be larger than maxStorageBufferRange.
  const BufferRef xb(*x.buffer, x.offset, x_bytes);
  constexpr uint32_t wg = 256;
  const Grid g = fold_grid(div_up(pairs, wg));
  static_assert(gpu::declares({ShaderId::rope_f16, ShaderId::rope_f16_q8}, 4, sizeof(push)));
  const ShaderId shader = q8 ? ShaderId::rope_f16_q8 : ShaderId::rope_f16;
  rec.dispatch(pipeline(rec, shader, {wg}), {xb, positions, freqs, y}, push, g.x, g.y, 1,
               q8 ? "rope_f16_q8" : "rope_f16");
}

void rope_ggml(Recorder& rec, BufferRef x, BufferRef cos_sin, BufferRef y, uint32_t n_rows, uint32_t n_heads,
               uint32_t head_dim, uint32_t n_rot) {
  if (n_rows == 0 || n_heads == 0) return;
  // The table stands in for check_rope's positions and freqs: its own size check below covers both.
  const RopePush push = check_rope("rope_ggml", x, cos_sin, cos_sin, y, n_rows, n_heads, head_dim, n_rot,
                                   RopeMode::Interleaved, 1.0f, 4);
  require_bytes(cos_sin, uint64_t(n_rows) * n_rot * 4, "rope_ggml", "cos_sin");
  constexpr uint32_t wg = 256;
  const Grid g = fold_grid(div_up(push.pairs, wg));
  static_assert(gpu::declares({ShaderId::rope_ggml}, 3, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::rope_ggml, {wg}), {x, cos_sin, y}, push, g.x, g.y, 1, "rope_ggml");
}

}  // namespace tern::ops

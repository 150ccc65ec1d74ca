#include "ops/top_k.h"

#include <algorithm>
#include <bit>

#include "ops/op_checks.h"

namespace tern::ops {
uint32_t top_k_chunk(const gpu::Device& device) { return device.tuning().top_k_chunk; }

uint64_t top_k_scratch_bytes(const gpu::Device& device, uint32_t rows, uint32_t n, uint32_t k, uint32_t chunk) {
  const uint32_t blocks = div_up(n, chunk ? chunk : top_k_chunk(device));
  // Two halves, each pass reading one and writing the other; the first pass writes the most.
  return blocks > 1 ? 2 * uint64_t(rows) * blocks * k * sizeof(TopKEntry) : 0;
}

bool top_k_subgroup_fits(const gpu::Device& device) {
  const auto& info = device.info();
  const uint32_t sg = info.subgroup_size, wg = reduction_workgroup(device);
  // TERN_DISABLE_SUBGROUP clears subgroup_arithmetic: it turns this variant off too.
  return device.features().subgroup_arithmetic && info.subgroup_shuffle && sg > 1 && (sg & (sg - 1)) == 0 &&
         sg <= wg && wg % sg == 0;
}

void top_k(Recorder& rec, BufferRef x, BufferRef out, BufferRef scratch, uint32_t rows, uint32_t n, uint32_t k,
           Reduction variant, uint32_t chunk) {
  if (rows == 0) return;
  check(k >= 1 && k <= k_top_k_max && k <= n, Status::InvalidArgument, [&] {
    return "top_k: k = " + std::to_string(k) + " must be in 1..min(n, " + std::to_string(k_top_k_max) + ")";
  });
  if (!chunk) chunk = top_k_chunk(rec.device());
  check(chunk >= 2 * k, Status::InvalidArgument, "top_k: chunk must hold at least 2k entries");
  const uint64_t total = uint64_t(rows) * n;
  require_u32(total, "top_k");
  require_bytes(x, total * 4, "top_k", "x");
  require_bytes(out, uint64_t(rows) * k * sizeof(TopKEntry), "top_k", "out");
  const auto& info = rec.device().info();
  check(rows <= info.max_workgroup_count[1], Status::InvalidArgument, "top_k: too many rows for one dispatch");
  if (variant == Reduction::Subgroup)
    check(top_k_subgroup_fits(rec.device()), Status::Unsupported, "top_k: the device cannot run the subgroup variant");
  const bool subgroup = variant == Reduction::Subgroup || (variant == Reduction::Auto && top_k_subgroup_fits(rec.device()));
  const uint32_t wg = reduction_workgroup(rec.device());
  // init: entries sorted first (their k-th best is the first bound); sort_at: candidates that
  // trigger a sort, tightening the bound. Measured on lavapipe: 256 and 64 (for k = 40) beat a
  // first sort of all 1024 slots by 1.5-2x at 152064 values.
  struct {
    uint32_t n, n_values, k, chunk, final_out, init, sort_at;
  } push{n, n, k, chunk, 0, std::min(k_top_k_slots, std::max(256u, std::bit_ceil(2 * k))), std::max(64u, k)};
  uint32_t blocks = div_up(n, chunk);
  const uint64_t half = top_k_scratch_bytes(rec.device(), rows, n, k, chunk) / 2;
  if (blocks > 1) {
    require_bytes(scratch, 2 * half, "top_k", "scratch");
    check(!overlaps(scratch, 2 * half, x, total * 4) && !overlaps(scratch, 2 * half, out, rows * k * 8ull),
          Status::InvalidArgument, "top_k: scratch overlaps x or out");
    require_u32(half / 4, "top_k");
    check(blocks <= info.max_workgroup_count[0], Status::InvalidArgument, "top_k: rows too long");
  }
  BufferRef in = x;  // the first pass reads values; its binding 1 is unused
  for (uint32_t pass = 0;; ++pass) {
    push.final_out = blocks == 1;
    const BufferRef dst = push.final_out ? out : BufferRef(*scratch.buffer, scratch.offset + (pass % 2) * half, half);
    static_assert(gpu::declares({ShaderId::top_k, ShaderId::top_k_subgroup, ShaderId::top_k_merge,
                                 ShaderId::top_k_merge_subgroup},
                                3, sizeof(push)));
    const ShaderId shader = pass == 0 ? (subgroup ? ShaderId::top_k_subgroup : ShaderId::top_k)
                                      : (subgroup ? ShaderId::top_k_merge_subgroup : ShaderId::top_k_merge);
    rec.dispatch(pipeline(rec, shader, {wg}), {x, in, dst}, push, blocks, rows, 1, "top_k");
    if (push.final_out) return;
    in = dst;
    push.n = blocks * k;
    blocks = div_up(push.n, chunk);
  }
}

}  // namespace tern::ops

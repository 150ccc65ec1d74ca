#include "ops/argmax.h"

#include "ops/op_checks.h"

namespace tern::ops {

uint64_t argmax_scratch_bytes(uint32_t rows, uint32_t n) {
  const uint32_t blocks = div_up(n, k_argmax_chunk);
  return blocks > 1 ? uint64_t(rows) * blocks * 8 : 0;
}

void argmax(Recorder& rec, BufferRef x, BufferRef ids, BufferRef scratch, uint32_t rows, uint32_t n,
            Reduction reduction) {
  if (rows == 0) return;
  check(n > 0, Status::InvalidArgument, "argmax: empty rows");
  const uint64_t total = uint64_t(rows) * n;
  require_u32(total, "argmax");
  require_bytes(x, total * 4, "argmax", "x");
  require_bytes(ids, uint64_t(rows) * 4, "argmax", "ids");
  const auto& info = rec.device().info();
  check(rows <= info.max_workgroup_count[1], Status::InvalidArgument, "argmax: too many rows for one dispatch");
  const uint32_t blocks = div_up(n, k_argmax_chunk);
  check(blocks <= info.max_workgroup_count[0], Status::InvalidArgument, "argmax: rows too long");
  const uint32_t wg = reduction_workgroup(rec.device());
  struct {
    uint32_t n, chunk, final_out;
  } push{n, k_argmax_chunk, uint32_t(blocks == 1)};
  static_assert(gpu::declares({ShaderId::argmax, ShaderId::argmax_subgroup, ShaderId::argmax_merge,
                               ShaderId::argmax_merge_subgroup},
                              2, sizeof(push)));
  const ShaderId first = reduction_shader(rec.device(), ShaderId::argmax, ShaderId::argmax_subgroup, reduction);
  if (blocks == 1) {
    rec.dispatch(pipeline(rec, first, {wg}), {x, ids}, push, 1, rows, 1, "argmax");
    return;
  }
  require_bytes(scratch, argmax_scratch_bytes(rows, n), "argmax", "scratch");
  check(!overlaps(scratch, argmax_scratch_bytes(rows, n), x, total * 4), Status::InvalidArgument,
        "argmax: scratch overlaps x");
  rec.dispatch(pipeline(rec, first, {wg}), {x, scratch}, push, blocks, rows, 1, "argmax");
  push = {blocks, blocks, 1};
  const ShaderId merge =
      reduction_shader(rec.device(), ShaderId::argmax_merge, ShaderId::argmax_merge_subgroup, reduction);
  rec.dispatch(pipeline(rec, merge, {wg}), {scratch, ids}, push, 1, rows, 1, "argmax");
}

}  // namespace tern::ops

#include "ops/rms_norm.h"

#include "ops/op_checks.h"

namespace tern::ops {

namespace {

void dispatch_rms_norm(Recorder& rec, ShaderId shader, const char* label, BufferRef x, BufferRef w,
                       BufferRef y, uint32_t rows, uint32_t n, float eps) {
  if (rows == 0 || n == 0) return;
  const uint64_t total = uint64_t(rows) * n;
  require_u32(total, "rms_norm");
  require_bytes(x, total * 4, "rms_norm", "x");
  require_bytes(w, uint64_t(n) * 4, "rms_norm", "w");
  require_bytes(y, total * 4, "rms_norm", "y");
  struct {
    uint32_t rows, n;
    float eps;
  } push{rows, n, eps};
  const uint32_t wg = reduction_workgroup(rec.device());
  const Grid g = fold_grid(rows);
  static_assert(gpu::declares({ShaderId::rms_norm, ShaderId::rms_norm_subgroup, ShaderId::rms_norm_add,
                               ShaderId::rms_norm_add_subgroup, ShaderId::rms_norm_ggml},
                              3, sizeof(push)));
  rec.dispatch(pipeline(rec, shader, {wg}), {x, w, y}, push, g.x, g.y, 1, label);
}

}  // namespace

void rms_norm(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
              Reduction reduction) {
  dispatch_rms_norm(rec, reduction_shader(rec.device(), ShaderId::rms_norm, ShaderId::rms_norm_subgroup, reduction),
                    "rms_norm", x, w, y, rows, n, eps);
}

void rms_norm_add(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
                  Reduction reduction) {
  dispatch_rms_norm(rec,
                    reduction_shader(rec.device(), ShaderId::rms_norm_add, ShaderId::rms_norm_add_subgroup, reduction),
                    "rms_norm_add", x, w, y, rows, n, eps);
}

void rms_norm_ggml(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps) {
  dispatch_rms_norm(rec, ShaderId::rms_norm_ggml, "rms_norm_ggml", x, w, y, rows, n, eps);
}

}  // namespace tern::ops

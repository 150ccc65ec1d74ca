#include "ops/rms_norm.h"

#include "ops/op_checks.h"

namespace tern::ops {

namespace {

void dispatch_rms_norm(Recorder& rec, const std::string& shader, const char* label, BufferRef x, BufferRef w,
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
  rec.dispatch(pipeline(rec, shader.c_str(), 3, sizeof(push), {wg}), {x, w, y}, push, g.x, g.y, 1, label);
}

}  // namespace

void rms_norm(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
              Reduction reduction) {
  dispatch_rms_norm(rec, reduction_shader(rec.device(), "rms_norm", reduction), "rms_norm", x, w, y, rows, n, eps);
}

void rms_norm_add(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps,
                  Reduction reduction) {
  dispatch_rms_norm(rec, reduction_shader(rec.device(), "rms_norm_add", reduction), "rms_norm_add", x, w, y, rows, n,
                    eps);
}

void rms_norm_ggml(Recorder& rec, BufferRef x, BufferRef w, BufferRef y, uint32_t rows, uint32_t n, float eps) {
  dispatch_rms_norm(rec, "rms_norm_ggml", "rms_norm_ggml", x, w, y, rows, n, eps);
}

}  // namespace tern::ops

#include "ops/softmax.h"

#include "ops/op_checks.h"

namespace tern::ops {

void softmax(Recorder& rec, BufferRef x, BufferRef y, uint32_t rows, uint32_t n, float scale, Reduction reduction) {
  if (rows == 0 || n == 0) return;
  const uint64_t total = uint64_t(rows) * n;
  require_u32(total, "softmax");
  require_bytes(x, total * 4, "softmax", "x");
  require_bytes(y, total * 4, "softmax", "y");
  struct {
    uint32_t rows, n;
    float scale;
  } push{rows, n, scale};
  const std::string shader = reduction_shader(rec.device(), "softmax", reduction);
  const uint32_t wg = reduction_workgroup(rec.device());
  const Grid g = fold_grid(rows);
  rec.dispatch(pipeline(rec, shader.c_str(), 2, sizeof(push), {wg}), {x, y}, push, g.x, g.y, 1, "softmax");
}

}  // namespace tern::ops

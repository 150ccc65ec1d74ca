#include "ops/bias_add.h"

#include "ops/op_checks.h"

namespace tern::ops {

void bias_add(Recorder& rec, BufferRef x, BufferRef bias, BufferRef y, uint32_t rows, uint32_t n) {
  if (rows == 0 || n == 0) return;
  const uint64_t total = uint64_t(rows) * n;
  require_u32(total, "bias_add");
  require_bytes(x, total * 4, "bias_add", "x");
  require_bytes(bias, uint64_t(n) * 4, "bias_add", "bias");
  require_bytes(y, total * 4, "bias_add", "y");
  constexpr uint32_t wg = 256;
  struct {
    uint32_t total, n;
  } push{uint32_t(total), n};
  const Grid g = fold_grid(div_up(total, wg));
  static_assert(gpu::declares({ShaderId::bias_add}, 3, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::bias_add, {wg}), {x, bias, y}, push, g.x, g.y, 1, "bias_add");
}

}  // namespace tern::ops

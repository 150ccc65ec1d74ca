#include "ops/silu_mul.h"

#include "ops/op_checks.h"

namespace tern::ops {

void silu_mul(Recorder& rec, BufferRef gate, BufferRef up, BufferRef y, uint32_t n) {
  if (n == 0) return;
  require_bytes(gate, uint64_t(n) * 4, "silu_mul", "gate");
  require_bytes(up, uint64_t(n) * 4, "silu_mul", "up");
  require_bytes(y, uint64_t(n) * 4, "silu_mul", "y");
  constexpr uint32_t wg = 256;
  struct {
    uint32_t n;
  } push{n};
  const Grid g = fold_grid(div_up(n, wg));
  rec.dispatch(pipeline(rec, "silu_mul", 3, sizeof(push), {wg}), {gate, up, y}, push, g.x, g.y, 1, "silu_mul");
}

}  // namespace tern::ops

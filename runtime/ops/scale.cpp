#include "ops/scale.h"

#include "ops/op_checks.h"

namespace tern::ops {

void scale(Recorder& rec, BufferRef x, BufferRef y, uint32_t n, float s) {
  if (n == 0) return;
  require_bytes(x, uint64_t(n) * 4, "scale", "x");
  require_bytes(y, uint64_t(n) * 4, "scale", "y");
  constexpr uint32_t wg = 256;
  struct {
    uint32_t n;
    float s;
  } push{n, s};
  const Grid g = fold_grid(div_up(n, wg));
  rec.dispatch(pipeline(rec, "scale", 2, sizeof(push), {wg}), {x, y}, push, g.x, g.y, 1, "scale");
}

}  // namespace tern::ops

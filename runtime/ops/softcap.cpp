#include "ops/softcap.h"

#include <cmath>

#include "common/error.h"
#include "ops/op_checks.h"

namespace tern::ops {

void softcap(Recorder& rec, BufferRef x, BufferRef y, uint32_t n, float cap) {
  check(std::isfinite(cap) && cap > 0.f, Status::InvalidArgument, "softcap: the cap must be a finite number > 0");
  if (n == 0) return;
  require_bytes(x, uint64_t(n) * 4, "softcap", "x");
  require_bytes(y, uint64_t(n) * 4, "softcap", "y");
  constexpr uint32_t wg = 256;
  struct {
    uint32_t n;
    float cap;
  } push{n, cap};
  const Grid g = fold_grid(div_up(n, wg));
  static_assert(gpu::declares({ShaderId::softcap}, 2, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::softcap, {wg}), {x, y}, push, g.x, g.y, 1, "softcap");
}

}  // namespace tern::ops

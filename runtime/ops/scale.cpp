#include "ops/scale.h"

#include <cmath>

#include "common/error.h"
#include "ops/op_checks.h"

namespace tern::ops {
namespace {

// shaders/scale.comp's variant `shader` over n floats with its one float parameter.
void elementwise(Recorder& rec, ShaderId shader, const char* name, BufferRef x, BufferRef y, uint32_t n, float param) {
  if (n == 0) return;
  require_bytes(x, uint64_t(n) * 4, name, "x");
  require_bytes(y, uint64_t(n) * 4, name, "y");
  constexpr uint32_t wg = 256;
  struct {
    uint32_t n;
    float s;
  } push{n, param};
  const Grid g = fold_grid(div_up(n, wg));
  static_assert(gpu::declares({ShaderId::scale, ShaderId::softcap}, 2, sizeof(push)));
  rec.dispatch(pipeline(rec, shader, {wg}), {x, y}, push, g.x, g.y, 1, name);
}

}  // namespace

void scale(Recorder& rec, BufferRef x, BufferRef y, uint32_t n, float s) { elementwise(rec, ShaderId::scale, "scale", x, y, n, s); }

void softcap(Recorder& rec, BufferRef x, BufferRef y, uint32_t n, float cap) {
  check(std::isfinite(cap) && cap > 0.f, Status::InvalidArgument, "softcap: the cap must be a finite number > 0");
  elementwise(rec, ShaderId::softcap, "softcap", x, y, n, cap);
}

}  // namespace tern::ops

#include "ops/add.h"

namespace tern::ops {

void add(Recorder& rec, BufferRef a, BufferRef b, BufferRef y, uint32_t n) {
  constexpr uint32_t wg = 256;
  struct {
    uint32_t n;
  } push{n};
  const Grid g = fold_grid(div_up(n, wg));
  static_assert(gpu::declares({ShaderId::add}, 3, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::add, {wg}), {a, b, y}, push, g.x, g.y, 1, "add");
}

}  // namespace tern::ops

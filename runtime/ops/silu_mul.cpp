#include "ops/silu_mul.h"

#include "ops/op_checks.h"

namespace tern::ops {

void gated_activation(Recorder& rec, GatedActivation act, BufferRef gate, BufferRef up, BufferRef y, uint32_t n) {
  if (n == 0) return;
  const char* name = act == GatedActivation::GeluTanh ? "gelu_mul" : "silu_mul";
  require_bytes(gate, uint64_t(n) * 4, name, "gate");
  require_bytes(up, uint64_t(n) * 4, name, "up");
  require_bytes(y, uint64_t(n) * 4, name, "y");
  constexpr uint32_t wg = 256;
  struct {
    uint32_t n;
  } push{n};
  const Grid g = fold_grid(div_up(n, wg));
  static_assert(gpu::declares({ShaderId::silu_mul, ShaderId::gelu_mul}, 3, sizeof(push)));
  const ShaderId shader = act == GatedActivation::GeluTanh ? ShaderId::gelu_mul : ShaderId::silu_mul;
  rec.dispatch(pipeline(rec, shader, {wg}), {gate, up, y}, push, g.x, g.y, 1, name);
}

void silu_mul(Recorder& rec, BufferRef gate, BufferRef up, BufferRef y, uint32_t n) {
  gated_activation(rec, GatedActivation::Silu, gate, up, y, n);
}

void gelu_mul(Recorder& rec, BufferRef gate, BufferRef up, BufferRef y, uint32_t n) {
  gated_activation(rec, GatedActivation::GeluTanh, gate, up, y, n);
}

}  // namespace tern::ops

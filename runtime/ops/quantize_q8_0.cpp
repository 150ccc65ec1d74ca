#include "ops/quantize_q8_0.h"

#include <algorithm>

#include "common/error.h"
#include "ops/op_checks.h"

namespace tern::ops {

Q8ActLayout q8_act_layout(const gpu::Device& dev, uint32_t rows, uint32_t cols) {
  const uint64_t align = std::max<uint64_t>(dev.info().min_storage_buffer_offset_alignment, 16);
  Q8ActLayout l;
  l.q_bytes = uint64_t(rows) * cols;
  l.d_offset = (l.q_bytes + align - 1) / align * align;
  l.d_bytes = uint64_t(rows) * (cols / 32) * 4;
  return l;
}

namespace {

// up bound: x is a gate of the activation act (the shader's GLU specialization); unbound,
// binding 3 is x again.
void quantize(Recorder& rec, BufferRef x, BufferRef up, BufferRef q, BufferRef d, uint32_t rows, uint32_t cols,
              GatedActivation act) {
  check(cols % 32 == 0, Status::InvalidArgument, [&] {
    return "quantize_q8_0: cols (" + std::to_string(cols) + ") must be a multiple of 32, the q8_0 block size";
  });
  if (rows == 0 || cols == 0) return;
  const uint64_t elems = uint64_t(rows) * cols, blocks = elems / 32;
  require_u32(elems, "quantize_q8_0");
  require_bytes(x, elems * 4, "quantize_q8_0", "x");
  const bool swiglu = up.buffer != nullptr;
  if (swiglu) require_bytes(up, elems * 4, "quantize_q8_0", "up");
  require_bytes(q, elems, "quantize_q8_0", "q");
  require_bytes(d, blocks * 4, "quantize_q8_0", "d");
  const BufferRef xb(*x.buffer, x.offset, elems * 4), qb(*q.buffer, q.offset, elems);
  const BufferRef db(*d.buffer, d.offset, blocks * 4);
  const BufferRef ub = swiglu ? BufferRef(*up.buffer, up.offset, elems * 4) : xb;
  constexpr uint32_t wg = 64;
  const struct {
    uint32_t blocks;
  } push{uint32_t(blocks)};
  const Grid g = fold_grid(div_up(blocks, wg));
  const uint32_t glu = swiglu ? uint32_t(act) : 0u;
  const char* label = !swiglu ? "quantize_q8_0" : act == GatedActivation::GeluTanh ? "quantize_q8_0_geglu"
                                                                                   : "quantize_q8_0_swiglu";
  static_assert(gpu::declares({ShaderId::quantize_q8_0}, 4, sizeof(push)));
  rec.dispatch(pipeline(rec, ShaderId::quantize_q8_0, {wg, glu}), {xb, qb, db, ub}, push, g.x, g.y, 1, label);
}

}  // namespace

void quantize_q8_0(Recorder& rec, BufferRef x, BufferRef q, BufferRef d, uint32_t rows, uint32_t cols) {
  quantize(rec, x, {}, q, d, rows, cols, GatedActivation::Silu);
}

void quantize_q8_0_swiglu(Recorder& rec, BufferRef gate, BufferRef up, BufferRef q, BufferRef d, uint32_t rows,
                          uint32_t cols, GatedActivation act) {
  check(up.buffer != nullptr, Status::InvalidArgument, "quantize_q8_0_swiglu: up is not bound");
  quantize(rec, gate, up, q, d, rows, cols, act);
}

}  // namespace tern::ops

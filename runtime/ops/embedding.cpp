#include "ops/embedding.h"

#include <bit>
#include <string>

#include "common/error.h"

namespace tern::ops {
namespace {
struct EmbeddingPush {
  uint32_t n_ids, cols, row_bytes, w_skip, row0, chunk_rows, total_rows;
};
constexpr WeightShaders k_embedding{"embedding_", "", 3, sizeof(EmbeddingPush)};
}  // namespace

void embedding(Recorder& rec, const WeightView& table, BufferRef ids, BufferRef y, uint32_t n_ids, float scale,
               uint64_t max_binding) {
  if (n_ids == 0) return;
  check(ids.bytes() >= uint64_t(n_ids) * 4, Status::InvalidArgument, "embedding: ids buffer too small");
  check(y.bytes() >= uint64_t(n_ids) * table.cols * 4, Status::InvalidArgument, "embedding: y too small");
  const auto chunks = split_weight_rows(rec.device(), table, max_binding);
  constexpr uint32_t wg = 64;
  const uint32_t row_bytes = weight_row_bytes(table);  // throws for a type without kernels
  const ShaderId shader = k_embedding(table.type);
  const auto& pipe = pipeline(rec, shader, {wg, std::bit_cast<uint32_t>(scale)});
  const uint64_t threads = uint64_t(n_ids) * div_up(table.cols, 8);
  const Grid g = fold_grid(div_up(threads, wg), rec.device().info().max_workgroup_count[0]);
  for (const auto& c : chunks) {
    const EmbeddingPush push{n_ids, table.cols, row_bytes, c.skip, c.row0, c.rows, table.rows};
    rec.dispatch(pipe, {c.ref, ids, y}, push, g.x, g.y, 1, gpu::shader_name(shader).data());
  }
}

}  // namespace tern::ops

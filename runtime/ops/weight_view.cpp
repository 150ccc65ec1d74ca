#include "ops/weight_view.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace tern::ops {

uint32_t weight_row_bytes(const WeightView& w) {
  check(!kernel_type_name(w.type).empty(), Status::Unsupported,
        [&] { return "no GPU kernel for weight type " + std::string(ggml_type_name(w.type)); });
  const uint64_t rb = ggml_row_bytes(w.type, w.cols);
  check(w.cols > 0 && rb > 0, Status::InvalidArgument, [&] {
    return "weight of " + std::to_string(w.cols) + " columns is not a whole number of " +
           std::string(ggml_type_name(w.type)) + " blocks";
  });
  check(rb < (1ull << 31), Status::Unsupported, "weight rows too wide");
  return uint32_t(rb);
}

std::vector<WeightChunk> split_weight_rows(gpu::Device& dev, const WeightView& w, uint64_t max_binding) {
  check(w.buf.buffer != nullptr, Status::Internal, "weight view without a buffer");
  check(w.rows > 0, Status::InvalidArgument, "weight with no rows");
  const uint64_t row_bytes = weight_row_bytes(w);
  const uint64_t base = w.buf.offset;
  check(base % 2 == 0, Status::InvalidArgument, "weight data must start at an even byte offset");
  check(w.buf.bytes() >= row_bytes * w.rows, Status::InvalidArgument, [&] {
    return "weight buffer range holds " + std::to_string(w.buf.bytes()) + " bytes, the weight needs " +
           std::to_string(row_bytes * w.rows);
  });
  const uint64_t buffer_size = w.buf.buffer->size();
  const auto& info = dev.info();
  const uint64_t align = std::max<uint64_t>(4, info.min_storage_buffer_offset_alignment);
  uint64_t limit = info.max_storage_buffer_range;
  if (max_binding) limit = std::min(limit, max_binding);
  // A chunk's binding = alignment slack + rows + up to 3 bytes of word rounding.
  check(limit > align + 4 && (limit - align - 4) / row_bytes >= 1, Status::Unsupported, [&] {
    return "one weight row of " + std::to_string(row_bytes) + " bytes does not fit a storage buffer binding";
  });
  // Keep byte offsets inside a chunk below 2^32 (the shaders index with uint).
  const uint64_t per_chunk = std::min<uint64_t>((limit - align - 4) / row_bytes, (1ull << 31) / row_bytes);

  std::vector<WeightChunk> chunks;
  for (uint64_t r0 = 0; r0 < w.rows; r0 += per_chunk) {
    const uint64_t n = std::min<uint64_t>(per_chunk, w.rows - r0);
    const uint64_t start = base + r0 * row_bytes;
    const uint64_t bind_start = start / align * align;
    const uint64_t bind_end = (start + n * row_bytes + 3) / 4 * 4;
    check(bind_end <= buffer_size, Status::InvalidArgument,
          "weight buffer must extend to a multiple of 4 bytes past the weight's last row (kernels read uint words)");
    WeightChunk c;
    c.ref = BufferRef(*w.buf.buffer, bind_start, bind_end - bind_start);
    c.row0 = uint32_t(r0);
    c.rows = uint32_t(n);
    c.skip = uint32_t(start - bind_start);
    chunks.push_back(c);
  }
  return chunks;
}

}  // namespace tern::ops

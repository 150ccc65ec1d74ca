// A GGML weight matrix on the device, and its split into row ranges that each fit one storage
// buffer binding (maxStorageBufferRange, 128 MiB on lavapipe, is smaller than big weights).
#pragma once
#include <cstdint>
#include <vector>

#include "quant/ggml_types.h"
#include "ops/dispatch_util.h"

namespace tern::ops {

// rows x cols weights of `type`, stored row after row in GGML's block layout starting at
// buf.offset (an even byte offset). The bytes up to the next multiple of 4 past the last row
// must lie inside the buffer: kernels read whole uint words.
struct WeightView {
  BufferRef buf;
  GgmlType type = GgmlType::F32;
  uint32_t rows = 0, cols = 0;
};

// One binding's worth of rows: rows [row0, row0 + rows) start `skip` bytes into `ref`.
struct WeightChunk {
  BufferRef ref;
  uint32_t row0 = 0, rows = 0, skip = 0;
};

// Bytes per row; throws InvalidArgument when the type has no GPU kernel or cols is not a
// multiple of its block size.
uint32_t weight_row_bytes(const WeightView& w);

// Splits w into row ranges whose bindings are at most max_binding bytes (0: the device's
// maxStorageBufferRange) and start at offsets aligned as the device requires.
std::vector<WeightChunk> split_weight_rows(gpu::Device& dev, const WeightView& w, uint64_t max_binding = 0);

// Lower-case variant suffix of a type's shaders ("q4_0", "q4_k", ...).
const char* weight_shader_suffix(GgmlType t);

}  // namespace tern::ops

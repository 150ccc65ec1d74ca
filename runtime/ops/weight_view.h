// A GGML weight matrix on the device, and its split into row ranges that each fit one storage
// buffer binding (maxStorageBufferRange, 128 MiB on lavapipe, is smaller than big weights).
#pragma once
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

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

// The weight types with GPU kernels, and each one's part of its shaders' names ("q4_0"; empty
// for a type without kernels).
inline constexpr GgmlType k_kernel_types[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::Q8_0,
                                              GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K};
constexpr std::string_view kernel_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "f32";
    case GgmlType::F16: return "f16";
    case GgmlType::Q8_0: return "q8_0";
    case GgmlType::Q4_0: return "q4_0";
    case GgmlType::Q4_K: return "q4_k";
    case GgmlType::Q6_K: return "q6_k";
    default: return {};
  }
}

// A family of shaders, one per weight type: PREFIX + type name + SUFFIX ("matvec_" "q4_0"
// "_lane"), for every kernel type or the ones listed. Built as a constexpr variable, it fails
// the build when a listed variant is missing or does not declare `buffers` storage buffers and
// `push_bytes` of push constants (gpu/shader_id.h).
class WeightShaders {
 public:
  constexpr WeightShaders(std::string_view prefix, std::string_view suffix, uint32_t buffers, uint32_t push_bytes,
                          std::initializer_list<GgmlType> types = {})
      : prefix_(prefix), suffix_(suffix) {
    for (size_t i = 0; i < std::size(k_kernel_types); ++i) {
      const GgmlType t = k_kernel_types[i];
      if (types.size() && std::find(types.begin(), types.end(), t) == types.end()) continue;
      const ShaderId id = gpu::shader_id(prefix, kernel_type_name(t), suffix);
      if (!gpu::declares({id}, buffers, push_bytes))
        throw Error(Status::Internal, std::string(gpu::shader_name(id)) + " differs from its family's interface");
      ids_[i] = uint16_t(uint32_t(id) + 1);
    }
  }
  // Whether the family has a kernel for t.
  constexpr bool has(GgmlType t) const { return slot(t) < std::size(ids_) && ids_[slot(t)]; }
  // Its kernel for t; throws Unsupported when there is none.
  ShaderId operator()(GgmlType t) const {
    check(has(t), Status::Unsupported, [&] {
      return "no GPU kernel " + std::string(prefix_) + "*" + std::string(suffix_) + " for weight type " +
             std::string(ggml_type_name(t));
    });
    return ShaderId(ids_[slot(t)] - 1);
  }

 private:
  static constexpr size_t slot(GgmlType t) {
    return size_t(std::find(std::begin(k_kernel_types), std::end(k_kernel_types), t) - std::begin(k_kernel_types));
  }
  std::string_view prefix_, suffix_;
  uint16_t ids_[std::size(k_kernel_types)] = {};  // ShaderId + 1, 0: none
};

}  // namespace tern::ops

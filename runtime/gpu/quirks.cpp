#include "gpu/quirks.h"

#include <algorithm>

namespace tern::gpu {
namespace {

constexpr uint32_t k_vendor_qualcomm = 0x5143;
constexpr uint32_t k_vendor_arm = 0x13b5;

}  // namespace

DeviceFeatures apply_quirks(const DeviceInfo& info, const DeviceFeatures& disable) {
  DeviceFeatures f;
  f.fp16 = info.fp16_arithmetic;
  f.storage_16bit = info.storage_16bit;
  f.storage_8bit = info.storage_8bit;
  f.subgroup_arithmetic = info.subgroup_arithmetic && info.subgroup_size >= 4;
  f.cooperative_matrix = info.cooperative_matrix;

  // Subgroup-reduction kernels have been reported wrong on some Adreno drivers; Mali has
  // reported subgroupSize 0. Use the shared-memory reductions there.
  if (info.vendor_id == k_vendor_qualcomm || (info.vendor_id == k_vendor_arm && info.subgroup_size == 0))
    f.subgroup_arithmetic = false;
  // Cooperative matrices stay off until a kernel variant for them exists and is validated.
  f.cooperative_matrix = false;

  f.fp16 = f.fp16 && !disable.fp16;
  f.storage_16bit = f.storage_16bit && !disable.storage_16bit;
  f.storage_8bit = f.storage_8bit && !disable.storage_8bit;
  f.subgroup_arithmetic = f.subgroup_arithmetic && !disable.subgroup_arithmetic;
  f.cooperative_matrix = f.cooperative_matrix && !disable.cooperative_matrix;
  return f;
}

DeviceTuning device_tuning(const DeviceInfo& info, const DeviceFeatures& f) {
  const bool cpu = info.type == DeviceType::Cpu;
  DeviceTuning t;
  // The fused RMSNorm sums x's squares again in every workgroup of a product: on lavapipe that
  // costs more than the dispatch it saves on a TinyLlama-size model (BENCHMARKS.md, RMSNorm
  // fusion A/B: stories260K -9% wall, TinyLlama +8%), so CPU devices keep the separate norm.
  t.norm_fusion = !cpu;
  // A CPU device's "workgroup" is a loop on one thread: fewer, larger top-k chunks merge less.
  t.top_k_chunk = cpu ? 16384 : 4096;
  // On a CPU driver one subgroup per workgroup avoids barriers; GPUs want more invocations.
  t.matvec_workgroup = cpu ? std::max<uint32_t>(info.subgroup_size, 4) : 64;
  // lavapipe's 8-lane register-tile kernels beat the split-k matvec and the shared-memory tiles
  // where they fit (tools/bench --ops; ops/matmul.cpp says where they do).
  t.lanes_kernel = cpu;
  // lavapipe's subgroupAdd is a loop over the lanes, first to last, from 0 (Mesa's gallivm
  // emit_reduce); checked bit for bit by tests/ops/matmul_rms_norm_test.cpp.
  t.in_order_subgroup_add = f.subgroup_arithmetic && info.subgroup_size > 0 && info.driver_name == "llvmpipe";
  return t;
}

}  // namespace tern::gpu

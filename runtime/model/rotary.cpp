#include "model/rotary.h"

#include "common/error.h"
#include "gpu/device.h"
#include "ops/rope.h"
#include "model/rope_ggml_table.h"

namespace tern {

Rotary::Rotary(gpu::Device& device, const ModelConfig& config, const Table& table, bool ggml, uint32_t max_rows)
    : device_(device),
      config_(config),
      ggml_(ggml),
      mode_(config.rope_neox ? RopeMode::Neox : RopeMode::Interleaved),
      attn_factor_(table.attn_factor) {
  check(table.freqs.size() == config.n_rot / 2, Status::Internal, "RoPE table of the wrong size");
  auto& alloc = device.allocator();
  freqs_ = alloc.create(table.freqs.size() * 4, gpu::MemoryUse::Device, "rope frequencies");
  alloc.write(freqs_, 0, table.freqs.data(), table.freqs.size() * 4);
  if (ggml_) cos_sin_ = alloc.create(uint64_t(max_rows) * config.n_rot * 4, gpu::MemoryUse::Device, "rope cos/sin");
}

void Rotary::upload(std::span<const int32_t> positions) {
  if (!ggml_) return;
  const auto table = tern::rope_ggml_cos_sin(positions, config_.rope_base, config_.n_rot);
  device_.allocator().write(cos_sin_, 0, table.data(), table.size() * 4);
}

void Rotary::rotate(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
                    uint32_t heads) const {
  const ModelConfig& c = config_;
  if (ggml_)
    ops::rope_ggml(rec, x, cos_sin_, y, n, heads, c.head_dim, c.n_rot);
  else
    ops::rope(rec, x, positions, freqs_, y, n, heads, c.head_dim, c.n_rot, mode_, attn_factor_);
}

void Rotary::rotate_f16(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
                        uint32_t heads, GgmlType x_type) const {
  check(!ggml_, Status::Internal, "llama.cpp's RoPE has no f16 variant");
  const ModelConfig& c = config_;
  ops::rope_f16(rec, x, positions, freqs_, y, n, heads, c.head_dim, c.n_rot, mode_, attn_factor_, x_type);
}

void Rotary::turn(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
                  uint32_t heads) const {
  check(!ggml_, Status::Internal, "llama.cpp's RoPE does not turn cached keys");
  const ModelConfig& c = config_;
  ops::rope(rec, x, positions, freqs_, y, n, heads, c.head_dim, c.n_rot, mode_, 1.f);
}

void Rotary::turn_f16(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
                      uint32_t heads) const {
  check(!ggml_, Status::Internal, "llama.cpp's RoPE does not turn cached keys");
  const ModelConfig& c = config_;
  ops::rope_f16(rec, x, positions, freqs_, y, n, heads, c.head_dim, c.n_rot, mode_, 1.f, GgmlType::F16);
}

ops::AttentionRope Rotary::at_load() const {
  check(!ggml_, Status::Internal, "llama.cpp's RoPE is not applied at load");
  return ops::AttentionRope{freqs_, config_.n_rot, mode_, attn_factor_};
}

}  // namespace tern

// RoPE as one forward pass applies it, fixed when the Forward is made: a theta table (the
// model's, or a context's override) that ops::rope and ops::rope_f16 apply at any positions, or
// llama.cpp's recurrence, whose cos/sin table depends on the step's positions
// (tern::rope_ggml_cos_sin, uploaded with each step) and which ops::rope_ggml applies.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "quant/ggml_types.h"
#include "gpu/buffer.h"
#include "gpu/recorder.h"
#include "model/model_config.h"
#include "ops/attention.h"
#include "ops/rope_mode.h"

namespace tern {

class Rotary {
 public:
  // theta_i for each rotated pair (n_rot / 2, scalings folded in) and the cos/sin factor.
  struct Table {
    std::vector<float> freqs;
    float attn_factor = 1.f;
  };
  // ggml: llama.cpp's RoPE (unscaled, interleaved; the table's freqs are unused), for steps of
  // up to max_rows rows.
  Rotary(gpu::Device& device, const ModelConfig& config, const Table& table, bool ggml, uint32_t max_rows);

  // The step's row positions: ggml's cos/sin table is computed from them here.
  void upload(std::span<const int32_t> positions);
  // y = rope(x) for n rows of `heads` heads (f32; y may alias x) at positions (int32 per row).
  // ggml: the rows must be the step's rows 0..n-1 (its table is per step row).
  void rotate(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
              uint32_t heads) const;
  // The same from f16 (or q8_0, x_type) cache rows to f16 rows, fp32 arithmetic; theta table only.
  void rotate_f16(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
                  uint32_t heads, GgmlType x_type = GgmlType::F16) const;

  // rotate / rotate_f16 without the cos/sin factor: a pure rotation, turning keys stored rotated
  // to other positions (a Shifted cache's re-base). turn may write in place, turn_f16 may not.
  void turn(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
            uint32_t heads) const;
  void turn_f16(gpu::Recorder& rec, gpu::BufferRef x, gpu::BufferRef positions, gpu::BufferRef y, uint32_t n,
                uint32_t heads) const;

  // The same rotation applied by attention to keys cached before RoPE as it loads them (with
  // rope_f16's arithmetic and roundings); theta table only.
  ops::AttentionRope at_load() const;

  bool ggml() const { return ggml_; }
  uint64_t device_bytes() const { return freqs_.size() + cos_sin_.size(); }

 private:
  gpu::Device& device_;
  const ModelConfig& config_;
  bool ggml_;
  RopeMode mode_;
  float attn_factor_;
  gpu::Buffer freqs_;    // theta table
  gpu::Buffer cos_sin_;  // ggml: the step's table, [row][n_rot / 2][cos, sin]
};

}  // namespace tern

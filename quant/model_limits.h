// The ranges a model's hyper-parameters must lie in: one place for the GGUF loader, the C API's
// overrides and tern-quantize's readers (llama2.c, Hugging Face), so a file one accepts the
// others accept too, and no value can make Tern allocate without bound or compute garbage.
// Header-only, in quant/ (below the runtime) because tern-quantize's readers use it too.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tern::limits {

// Integer hyper-parameters (inclusive upper bounds; every one must also be at least 1).
constexpr uint32_t k_max_embd = 65536;
constexpr uint32_t k_max_layers = 1024;
constexpr uint32_t k_max_heads = 1024;
constexpr uint32_t k_max_ff = 1u << 20;
constexpr uint32_t k_max_head_dim = 256;
// Largest vocabulary a model may have (Gemma's 256K and Qwen2's 152K fit 8 times over): the
// count is checked against token_embd's rows before any string is copied.
constexpr uint32_t k_max_vocab = 1u << 21;
// Longest training context a model file may declare (Llama 4 Scout's 10M fits).
constexpr uint32_t k_max_ctx = 1u << 24;

// The floating-point hyper-parameters, each with its valid range. NaN and infinities are
// never valid.
enum class ModelFloat {
  RmsEps,           // RMSNorm epsilon: 0 < eps <= 1 (models use 1e-6 .. 1e-5)
  RopeFreqBase,     // RoPE base frequency: 1 < base <= 1e12 (models use 1e4 .. 1e7)
  RopeScaleFactor,  // RoPE scaling factor (context extension): 1/1024 <= s <= 1024
  RopeFreqFactor,   // a Llama 3 rope_freqs.weight divisor: 1/1024 <= f <= 1e6
};

struct FloatRange {
  double lo, hi;
  bool lo_open;  // lo itself is outside the range
};

constexpr FloatRange range_of(ModelFloat f) {
  switch (f) {
    case ModelFloat::RmsEps: return {0.0, 1.0, true};
    case ModelFloat::RopeFreqBase: return {1.0, 1e12, true};
    case ModelFloat::RopeScaleFactor: return {1.0 / 1024, 1024.0, false};
    case ModelFloat::RopeFreqFactor: return {1.0 / 1024, 1e6, false};
  }
  return {0.0, 0.0, false};
}

inline bool in_range(ModelFloat f, double v) {
  const FloatRange r = range_of(f);
  return std::isfinite(v) && (r.lo_open ? v > r.lo : v >= r.lo) && v <= r.hi;
}

// "rms epsilon 'llama.attention.layer_norm_rms_epsilon' is nan: it must be a finite number
// in (0, 1]". Throws Error(status) when v is out of f's range; name says where v came from.
inline void check_float(ModelFloat f, double v, Status status, std::string_view name) {
  if (in_range(f, v)) return;
  const FloatRange r = range_of(f);
  char value[32], range[64];
  std::snprintf(value, sizeof value, "%g", v);
  std::snprintf(range, sizeof range, "%c%g, %g]", r.lo_open ? '(' : '[', r.lo, r.hi);
  throw Error(status, std::string(name) + " is " + value + ": it must be a finite number in " + range);
}

// Every entry of a rope_freqs.weight table (Llama 3 per-pair divisors).
inline void check_freq_factors(std::span<const float> factors, Status status, std::string_view name) {
  for (size_t i = 0; i < factors.size(); ++i)
    check_float(ModelFloat::RopeFreqFactor, factors[i], status, std::string(name) + "[" + std::to_string(i) + "]");
}

// A RoPE frequency table and its cos/sin multiplier as tern::rope_freqs made them from settings
// that each passed: their combination (a huge base with a tiny factor) must still be finite.
inline void check_rope_table(std::span<const float> freqs, float mscale, Status status, std::string_view what) {
  for (float f : freqs)
    if (!std::isfinite(f) || !(f > 0.f))
      throw Error(status, std::string(what) + " give a RoPE frequency of " + std::to_string(f) + ": it must be finite and positive");
  if (!std::isfinite(mscale) || !(mscale > 0.f))
    throw Error(status, std::string(what) + " give a RoPE attention factor of " + std::to_string(mscale));
}

// An integer in [1, hi].
inline void check_count(uint64_t v, uint64_t hi, Status status, std::string_view name) {
  if (v >= 1 && v <= hi) return;
  throw Error(status, std::string(name) + " is " + std::to_string(v) + ": it must be between 1 and " + std::to_string(hi));
}

}  // namespace tern::limits

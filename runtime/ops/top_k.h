#pragma once
#include <cstdint>

#include "ops/dispatch_util.h"
#include "ops/reduction.h"

namespace tern::ops {

// Shared-memory slots of a workgroup (shaders/top_k.comp's S) and the largest k top_k() takes.
constexpr uint32_t k_top_k_slots = 1024;
constexpr uint32_t k_top_k_max = k_top_k_slots / 4;

// One entry of top_k()'s output, as the shader writes it.
struct TopKEntry {
  int32_t id;
  float logit;
};

// Entries one workgroup selects from (longer rows take merge dispatches): the device's tuning
// (gpu/quirks.cpp: 16384 on CPU devices such as lavapipe, where fewer, longer workgroups
// measured faster, 4096 elsewhere, with more workgroups in flight on a GPU).
uint32_t top_k_chunk(const gpu::Device& device);

// Scratch top_k() needs for rows x n (0 when a row fits one chunk).
uint64_t top_k_scratch_bytes(const gpu::Device& device, uint32_t rows, uint32_t n, uint32_t k, uint32_t chunk = 0);

// out[r] = the k best entries of x[r][0..n-1] as TopKEntry (index, value), best first: the larger
// value first, the lower index among equal values (-0 and +0 are equal), NaN after every number.
// That is the order the CPU sampler's top-k keeps (sampling/sampler.h), so its first entry is
// argmax()'s. The value is the logit's bits. 1 <= k <= min(n, k_top_k_max). chunk: entries per
// workgroup (0: top_k_chunk(); tests pick others); a row longer than one chunk takes more
// dispatches, each cutting it to k entries per chunk (152064 values, k = 40, chunk 4096: 2).
// Subgroup: shuffles for the short-distance sort steps (needs subgroup arithmetic left on,
// shuffles, and a workgroup made of whole power-of-two subgroups).
void top_k(Recorder& rec, BufferRef x, BufferRef out, BufferRef scratch, uint32_t rows, uint32_t n, uint32_t k,
           Reduction variant = Reduction::Auto, uint32_t chunk = 0);

// Whether the device can run the Subgroup variant.
bool top_k_subgroup_fits(const gpu::Device& device);

}  // namespace tern::ops

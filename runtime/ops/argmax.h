#pragma once
#include "ops/dispatch_util.h"
#include "ops/reduction.h"

namespace tern::ops {

// Values a first-pass workgroup reduces; rows longer than this take a second (merge) dispatch,
// so a 152K-entry row is spread over 38 workgroups instead of one.
constexpr uint32_t k_argmax_chunk = 4096;

// Scratch argmax() needs for rows x n (0 when each row fits one chunk).
uint64_t argmax_scratch_bytes(uint32_t rows, uint32_t n);

// ids[r] = the index of the largest of x[r][0..n-1], the lowest index among equal values (-0 and
// +0 are equal), never a NaN: what the CPU sampler's greedy path picks (sampling/sampler.h). A row
// of nothing but NaN gives -1 (0xffffffff), which the sampler turns into an error. x: rows x n floats; ids: rows uint32; scratch:
// argmax_scratch_bytes(rows, n) bytes (may be unbound when that is 0).
void argmax(Recorder& rec, BufferRef x, BufferRef ids, BufferRef scratch, uint32_t rows, uint32_t n,
            Reduction reduction = Reduction::Auto);

}  // namespace tern::ops

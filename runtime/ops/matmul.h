#pragma once
#include "ops/weight_view.h"

namespace tern::ops {

// How a matvec spreads work: rows split over a workgroup's invocations along k (the default:
// fastest on lavapipe too, measured), or one row per invocation (uniform x loads, no reduction;
// kept selectable for drivers where that wins).
enum class MatvecLayout { Auto, SplitK, RowPerInvocation };

// Which matrix-matrix kernel runs batches > 1: shared-memory tiles (GPUs), or register tiles
// ("lanes": no shared memory, x shared by subgroup shuffles) for CPU drivers with 8-lane
// subgroups. Auto picks lanes on CPU devices where it fits (cols % 32 == 0).
enum class MatmulKernel { Auto, Tiled, Lanes };

// Tuning and test hooks; the defaults pick what suits the device.
struct MatmulOptions {
  MatvecLayout layout = MatvecLayout::Auto;
  uint64_t max_weight_binding = 0;  // bind weights in ranges of at most this many bytes (0: device limit)
  bool shared_reduction = false;    // matvec: shared-memory reduction even when subgroup ops exist
  uint32_t matvec_workgroup = 0;    // matvec invocations per workgroup (power of two), 0: auto
  uint32_t matvec_rows = 0;         // matvec rows per workgroup, 0: auto
  bool word_loads = false;          // matvec: the uint-word kernel even where a uvec4 variant fits
  MatmulKernel kernel = MatmulKernel::Auto;
  uint32_t lanes_rows = 0, lanes_cols = 0;  // lanes kernel's register tile per invocation, 0: auto
};

// y[b][r] = sum_k W[r][k] * x[b][k]; x is batch x cols f32, y is batch x rows f32.
// batch 1 runs the matrix-vector kernels, larger batches the tiled matrix-matrix kernels.
void matmul(Recorder& rec, const WeightView& w, BufferRef x, BufferRef y, uint32_t batch,
            const MatmulOptions& opt = {});

}  // namespace tern::ops

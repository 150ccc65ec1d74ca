// The matmul kernel families a test can force through ops::MatmulTuning, shared by the product
// tests that check a fusion in every family (matmul_fused_test, matmul_rms_norm_test).
#pragma once
#include "gpu/buffer.h"
#include "ops/matmul.h"

namespace tern::test {

enum class Kernel { Auto, Gpu, Words, Shmem, RowPerInvocation, Lanes, LanesSmall, F16Math, Q8Act };

const char* kernel_name(Kernel k);

// The tuning selecting kernel k; split binds the weight in many row ranges.
ops::MatmulTuning kernel_tuning(Kernel k, bool split);
// The options kernel k needs, without fusions: Q8Act's q8_0 activations in q8_scratch.
ops::MatmulOptions kernel_options(Kernel k, const gpu::Buffer* q8_scratch = nullptr);

}  // namespace tern::test

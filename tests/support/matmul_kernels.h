// The matmul kernel families a test can force through ops::MatmulOptions, shared by the product
// tests that check a fusion in every family (matmul_fused_test, matmul_rms_norm_test).
#pragma once
#include "gpu/buffer.h"
#include "ops/matmul.h"

namespace tern::test {

enum class Kernel { Auto, Gpu, Words, Shmem, RowPerInvocation, Lanes, LanesSmall, F16Math, Q8Act };

const char* kernel_name(Kernel k);

// The options selecting kernel k, without fusions. split binds the weight in many row ranges;
// q8_scratch is the q8_0 activation scratch Q8Act needs (unused otherwise).
ops::MatmulOptions kernel_options(Kernel k, bool split, const gpu::Buffer* q8_scratch = nullptr);

}  // namespace tern::test

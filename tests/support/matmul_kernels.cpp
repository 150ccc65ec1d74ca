#include "support/matmul_kernels.h"

namespace tern::test {

const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::Auto: return "auto";
    case Kernel::Gpu: return "gpu";
    case Kernel::Words: return "words";
    case Kernel::Shmem: return "shmem";
    case Kernel::RowPerInvocation: return "rowlane";
    case Kernel::Lanes: return "lanes";
    case Kernel::LanesSmall: return "lanes2x3";
    case Kernel::F16Math: return "f16math";
    case Kernel::Q8Act: return "q8act";
  }
  return "?";
}

ops::MatmulTuning kernel_tuning(Kernel k, bool split) {
  ops::MatmulTuning opt;
  if (split) opt.max_weight_binding = 4096;
  switch (k) {
    case Kernel::Auto:
    case Kernel::Q8Act: break;
    case Kernel::Gpu: opt.kernel = ops::MatmulKernel::Gpu; break;
    case Kernel::Words: opt.kernel = ops::MatmulKernel::Gpu, opt.word_loads = true; break;
    case Kernel::Shmem: opt.kernel = ops::MatmulKernel::Gpu, opt.shared_reduction = true, opt.matvec_workgroup = 32; break;
    case Kernel::RowPerInvocation: opt.kernel = ops::MatmulKernel::Gpu, opt.layout = ops::MatvecLayout::RowPerInvocation; break;
    case Kernel::Lanes: opt.kernel = ops::MatmulKernel::Lanes; break;
    case Kernel::LanesSmall: opt.kernel = ops::MatmulKernel::Lanes, opt.lanes_rows = 2, opt.lanes_cols = 3; break;
    case Kernel::F16Math: opt.kernel = ops::MatmulKernel::Gpu, opt.fp16_math = true; break;
  }
  return opt;
}

ops::MatmulOptions kernel_options(Kernel k, const gpu::Buffer* q8_scratch) {
  ops::MatmulOptions opt;
  if (k == Kernel::Q8Act) {
    opt.q8_activations = true;
    if (q8_scratch) opt.q8_scratch = *q8_scratch;
  }
  return opt;
}

}  // namespace tern::test

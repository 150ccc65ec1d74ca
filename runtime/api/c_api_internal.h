// What tests reach behind the C API (not exported from the shared library).
#pragma once
#include <memory>

#include "tern.h"

namespace tern {
class Model;
namespace gpu {
class Device;
}

namespace internal {

// tern_model_load onto an existing device, so a test that loads many models compiles the
// shaders once (a device's pipelines stay with it).
tern_status model_load_on_device(const char* path, std::shared_ptr<gpu::Device> device, tern_model** out);
// The C++ model behind a live handle.
Model& model_of(const tern_model* m);

}  // namespace internal
}  // namespace tern

// Test models converted from ../shared sources with Tern's own converter, cached under the
// build tree (written to a temporary name and renamed, so parallel test processes are safe).
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "quant/ggml_types.h"

namespace tern {
class Model;
}

namespace tern::test {

// Loads a GGUF model onto the shared test device (validation layers on when installed).
std::shared_ptr<Model> load_test_model(const std::filesystem::path& path);

// stories260K.bin + tok512.bin converted to `type`; empty path when the sources are absent.
std::filesystem::path stories260k_gguf(GgmlType type);
// The tinystories-656K Hugging Face folder converted to `type`; empty when absent.
std::filesystem::path tinystories656k_hf_gguf(GgmlType type);
// llama.cpp's TinyStories-656K-Q8_0.gguf re-quantised to `type`; empty when absent.
std::filesystem::path tinystories656k_gguf(GgmlType type);

// A random-weight model at one of tern-quantize's synthetic shapes ("test-tiny", ...).
std::filesystem::path synthetic_gguf(const std::string& name, GgmlType type);

}  // namespace tern::test

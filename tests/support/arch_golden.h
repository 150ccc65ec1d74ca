// The cases of ../shared/golden/llamacpp-archs (its README): small random-weight qwen3 and gemma3
// models written by llama.cpp's GGUF writer, the tokens fed, and three logit sets for them:
// llama.cpp's in one batch, llama.cpp's one token per call, and an exact float64 computation.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tern::test {

struct ArchGolden {
  std::string name, arch;
  std::filesystem::path gguf;
  std::vector<int32_t> tokens;
  uint32_t n_vocab = 0, window = 0;  // window: the sliding window (0: none)
  std::vector<float> prefill, decode, exact;  // [tokens][n_vocab] each
  std::span<const float> row(const std::vector<float>& set, uint32_t r) const {
    return {set.data() + size_t(r) * n_vocab, n_vocab};
  }
};

// The named cases present in ../shared/golden/llamacpp-archs ("qwen3-tiny", "gemma3-tiny", ...).
std::vector<ArchGolden> load_arch_goldens();

}  // namespace tern::test

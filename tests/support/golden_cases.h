// The golden outputs in ../shared/golden/<dir>/caseN.json + caseN.logits.f32 (layout in
// shared/README.md): row r of the logits = logits after feeding tokens[r] at position r.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tern::test {

struct GoldenCase {
  std::string name, prompt;
  std::vector<int32_t> prompt_tokens, tokens;
  uint32_t steps = 0, vocab = 0;
  std::vector<float> logits;  // [steps][vocab]
  std::span<const float> row(uint32_t r) const { return {logits.data() + size_t(r) * vocab, vocab}; }
};

// case1..case3 of golden/<dir> that are present and complete.
std::vector<GoldenCase> load_cases(const std::string& dir);

}  // namespace tern::test

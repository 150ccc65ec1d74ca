#include "perplexity/passkey_prompt.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>

namespace tern::ppl {

const char* const k_passkey_intro =
    "There is a pass key hidden inside a lot of unimportant text. Find it and remember it. "
    "I will ask you about the pass key later. ";
const char* const k_passkey_fillers[5] = {"The grass is green. ", "The sky is blue. ", "The sun is yellow. ",
                                          "Here we go. ", "There and back again. "};
const char* const k_passkey_question = "What is the pass key? The pass key is";

std::string passkey_sentence(uint32_t key) {
  const std::string k = std::to_string(key);
  return "The pass key is " + k + ". Remember it. " + k + " is the pass key. ";
}

uint32_t passkey_insert_index(double depth, uint32_t n_filler) {
  const double d = std::clamp(std::isfinite(depth) ? depth : 0.0, 0.0, 1.0);
  return std::min<uint32_t>(n_filler, uint32_t(std::lround(d * n_filler)));
}

std::string passkey_prompt(uint32_t n_filler, double depth, uint32_t key) {
  const uint32_t at = passkey_insert_index(depth, n_filler);
  std::string p = k_passkey_intro;
  for (uint32_t i = 0; i <= n_filler; ++i) {
    if (i == at) p += passkey_sentence(key);
    if (i < n_filler) p += k_passkey_fillers[i % 5];
  }
  return p + k_passkey_question;
}

uint32_t passkey_from_seed(uint64_t seed) {
  std::mt19937_64 rng(seed);
  return uint32_t(std::uniform_int_distribution<uint32_t>(10000, 99999)(rng));
}

bool answer_has_key(const std::string& answer, uint32_t key) {
  const std::string k = std::to_string(key);
  auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(answer[i])) != 0; };
  for (size_t at = answer.find(k); at != std::string::npos; at = answer.find(k, at + 1)) {
    const bool before = at > 0 && digit(at - 1);
    const bool after = at + k.size() < answer.size() && digit(at + k.size());
    if (!before && !after) return true;
  }
  return false;
}

}  // namespace tern::ppl

#include "support/golden_cases.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/test_env.h"

namespace tern::test {

std::vector<GoldenCase> load_cases(const std::string& dir) {
  std::vector<GoldenCase> out;
  for (int i = 1; i <= 3; ++i) {
    auto json_path = shared_file("golden/" + dir + "/case" + std::to_string(i) + ".json");
    if (json_path.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
    GoldenCase c;
    c.name = dir + "/case" + std::to_string(i);
    c.prompt = j["prompt"];
    c.prompt_tokens = j["prompt_tokens"].get<std::vector<int32_t>>();
    c.tokens = j["tokens"].get<std::vector<int32_t>>();
    c.steps = j["steps"];
    c.vocab = j["vocab_size"];
    c.logits.resize(size_t(c.steps) * c.vocab);
    std::ifstream lf(json_path.parent_path() / j["logits_file"].get<std::string>(), std::ios::binary);
    lf.read(reinterpret_cast<char*>(c.logits.data()), std::streamsize(c.logits.size() * 4));
    if (!lf) continue;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tern::test

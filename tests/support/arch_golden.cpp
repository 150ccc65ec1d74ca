#include "support/arch_golden.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/test_env.h"

namespace tern::test {
namespace {

constexpr const char* k_cases[] = {"qwen3-tiny", "qwen3-tiny-untied", "gemma3-tiny", "gemma3-tiny-scaled"};

bool read_logits(const std::filesystem::path& path, size_t count, std::vector<float>& out) {
  out.resize(count);
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(out.data()), std::streamsize(count * 4));
  return bool(f) && f.peek() == std::char_traits<char>::eof();
}

}  // namespace

std::vector<ArchGolden> load_arch_goldens() {
  std::vector<ArchGolden> out;
  for (const char* name : k_cases) {
    const auto json_path = shared_file(std::string("golden/llamacpp-archs/") + name + ".json");
    if (json_path.empty()) continue;
    const auto dir = json_path.parent_path();
    const nlohmann::json j = nlohmann::json::parse(std::ifstream(json_path));
    ArchGolden g;
    g.name = name;
    g.arch = j.at("arch");
    g.gguf = dir / (g.name + ".gguf");
    g.tokens = j.at("tokens").get<std::vector<int32_t>>();
    g.n_vocab = j.at("n_vocab");
    g.window = j.value("swa", 0u);
    const size_t count = g.tokens.size() * g.n_vocab;
    if (!std::filesystem::exists(g.gguf) || !read_logits(dir / (g.name + ".prefill.logits.f32"), count, g.prefill) ||
        !read_logits(dir / (g.name + ".decode.logits.f32"), count, g.decode) ||
        !read_logits(dir / (g.name + ".exact.logits.f32"), count, g.exact))
      continue;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace tern::test

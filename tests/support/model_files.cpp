#include "support/model_files.h"

#include <sstream>

#include "quant/convert.h"
#include "quant/model_source.h"
#include "model/model.h"
#include "platform/file_io.h"
#include "support/gpu_fixture.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

std::filesystem::path cached(const std::string& name, GgmlType type,
                             const std::function<std::unique_ptr<quant::ModelSource>()>& open) {
  const auto dir = std::filesystem::path(TERN_BINARY_DIR) / "test-models";
  const auto out = dir / (name + "-" + std::string(ggml_type_name(type)) + ".gguf");
  if (std::filesystem::exists(out)) return out;
  std::filesystem::create_directories(dir);
  const auto tmp = dir / (out.filename().string() + ".tmp" + std::to_string(platform::process_id()));
  quant::ConvertOptions opt;
  opt.target = type;
  opt.progress = false;
  std::ostringstream log;
  quant::convert_to_gguf(*open(), tmp, opt, log);
  std::filesystem::rename(tmp, out);
  return out;
}

}  // namespace

std::shared_ptr<Model> load_test_model(const std::filesystem::path& path) {
  ModelLoadOptions o;
  o.use_device = std::shared_ptr<gpu::Device>(&test_device(), [](gpu::Device*) {});  // not owned
  return Model::load(path.string(), o);
}

std::filesystem::path stories260k_gguf(GgmlType type) {
  auto bin = shared_file("models/stories260K.bin");
  auto tok = shared_file("models/tok512.bin");
  if (bin.empty() || tok.empty()) return {};
  return cached("stories260K", type, [&] { return quant::open_llama2c(bin, tok); });
}

std::filesystem::path tinystories656k_hf_gguf(GgmlType type) {
  auto dir = shared_file("models/tinystories-656K-hf");
  if (dir.empty()) return {};
  return cached("tinystories-656K-hf", type, [&] { return quant::open_hf_dir(dir); });
}

std::filesystem::path tinystories656k_gguf(GgmlType type) {
  auto file = shared_file("models/TinyStories-656K-Q8_0.gguf");
  if (file.empty()) return {};
  return cached("tinystories-656K-gguf", type, [&] { return quant::open_gguf(file); });
}

std::filesystem::path synthetic_gguf(const std::string& name, GgmlType type) {
  return cached("synthetic-" + name, type, [&] { return quant::make_synthetic(name, {}); });
}

}  // namespace tern::test

// tern-quantize's Hugging Face import of qwen3 and gemma3. Each golden model of
// ../shared/golden/llamacpp-archs (written by llama.cpp's own GGUF writer) is turned back into a
// Hugging Face folder here, the way transformers saves one (HF tensor names; Gemma's norm weights
// w - 1, since Gemma computes x * (1 + w) and llama.cpp's converter stores 1 + w; config.json
// keys; the TinyStories tokenizer.json its vocabulary came from), then imported again: every
// tensor must come back byte for byte, the architecture keys with llama.cpp's values, and the
// reference forward pass on the import must give the golden logits.
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "quant/convert.h"
#include "quant/gguf_reader.h"
#include "model/model_config.h"
#include "quant/model_source.h"
#include "ref/llama_forward.h"
#include "support/arch_golden.h"
#include "support/gpu_fixture.h"
#include "support/test_env.h"

namespace tern::quant {
namespace {

using nlohmann::json;

// A float32 safetensors file of the named tensors (name -> (PyTorch shape, values)).
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, std::pair<std::vector<uint64_t>, std::vector<float>>>& tensors) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", "F32"}, {"shape", t.first}, {"data_offsets", {offset, offset + t.second.size() * 4}}};
    offset += t.second.size() * 4;
  }
  std::string h = header.dump();
  h.resize((h.size() + 7) / 8 * 8, ' ');
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out.write(h.data(), std::streamsize(h.size()));
  for (const auto& [name, t] : tensors) out.write(reinterpret_cast<const char*>(t.second.data()), std::streamsize(t.second.size() * 4));
}

// transformers' name of a GGUF tensor, for the layouts below (the inverse of llama.cpp's names).
std::string hf_name(const std::string& gguf, bool gemma, const std::string& prefix) {
  static const std::map<std::string, std::string> common = {
      {"attn_norm", "input_layernorm"},     {"attn_q", "self_attn.q_proj"},   {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},       {"attn_output", "self_attn.o_proj"}, {"attn_q_norm", "self_attn.q_norm"},
      {"attn_k_norm", "self_attn.k_norm"},  {"ffn_gate", "mlp.gate_proj"},    {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"}};
  if (gguf == "token_embd.weight") return prefix + "embed_tokens.weight";
  if (gguf == "output_norm.weight") return prefix + "norm.weight";
  if (gguf == "output.weight") return "lm_head.weight";
  const size_t dot = gguf.find('.', 4), last = gguf.rfind('.');
  const std::string part = gguf.substr(dot + 1, last - dot - 1);
  std::string hf;
  if (part == "ffn_norm") hf = gemma ? "pre_feedforward_layernorm" : "post_attention_layernorm";
  else if (part == "post_attention_norm") hf = "post_attention_layernorm";
  else if (part == "post_ffw_norm") hf = "post_feedforward_layernorm";
  else hf = common.at(part);
  return prefix + "layers." + gguf.substr(4, dot - 4) + "." + hf + gguf.substr(last);
}

double num(const GgufFile& g, const std::string& key) {
  const GgufValue* v = g.find(key);
  return v && v->as_f64() ? *v->as_f64() : -1;
}

// Writes the golden model as a Hugging Face folder; `nested`: Gemma3ForConditionalGeneration's
// layout (text_config, "language_model.model." tensors).
std::filesystem::path write_hf_dir(const test::ArchGolden& g, const GgufFile& f, bool nested) {
  const bool gemma = g.arch == "gemma3";
  const auto dir = test::scratch_dir("hf-" + g.name + (nested ? "-nested" : ""));
  const auto tok = test::shared_file("models/tinystories-656K-hf/tokenizer.json");
  std::filesystem::copy_file(tok, dir / "tokenizer.json");
  std::filesystem::copy_file(tok.parent_path() / "tokenizer_config.json", dir / "tokenizer_config.json");
  std::map<std::string, std::pair<std::vector<uint64_t>, std::vector<float>>> tensors;
  for (const auto& t : f.tensors()) {
    const auto* p = reinterpret_cast<const float*>(f.tensor_data(t));
    std::vector<float> v(p, p + t.n_elements);
    if (gemma && t.name.ends_with("norm.weight"))
      for (float& x : v) x -= 1.f;  // exact: the weights lie in [0.5, 2]
    tensors[hf_name(t.name, gemma, nested ? "language_model.model." : "model.")] = {
        std::vector<uint64_t>(t.dims.rbegin(), t.dims.rend()), std::move(v)};
  }
  write_safetensors(dir / "model.safetensors", tensors);
  const std::string a = g.arch + ".";
  json c = {{"hidden_size", num(f, a + "embedding_length")},
            {"num_hidden_layers", num(f, a + "block_count")},
            {"num_attention_heads", num(f, a + "attention.head_count")},
            {"num_key_value_heads", num(f, a + "attention.head_count_kv")},
            {"head_dim", num(f, a + "attention.key_length")},
            {"intermediate_size", num(f, a + "feed_forward_length")},
            {"vocab_size", g.n_vocab},
            {"max_position_embeddings", num(f, a + "context_length")},
            {"rope_theta", num(f, a + "rope.freq_base")},
            {"rms_norm_eps", *f.get_f32(a + "attention.layer_norm_rms_epsilon")},
            {"tie_word_embeddings", f.tensor("output.weight") == nullptr}};
  for (const char* k : {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
                        "intermediate_size", "max_position_embeddings"})
    c[k] = c[k].get<uint32_t>();
  if (gemma) {
    c["sliding_window"] = g.window;
    c["query_pre_attn_scalar"] = c["head_dim"];
    c["hidden_activation"] = "gelu_pytorch_tanh";
    c["rope_local_base_freq"] = 10000.0;
    if (f.find(a + "rope.scaling.type")) c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", num(f, a + "rope.scaling.factor")}};
  }
  json root = c;
  root["model_type"] = gemma ? "gemma3_text" : "qwen3";
  if (nested) {
    c["model_type"] = "gemma3_text";
    root = {{"model_type", "gemma3"}, {"text_config", c}};
  }
  std::ofstream(dir / "config.json") << root.dump(1);
  return dir;
}

std::filesystem::path convert_f32(const ModelSource& src, const std::string& name) {
  const auto out = test::scratch_dir("hf-archs-out-" + name) / (name + ".gguf");
  ConvertOptions o;
  o.target = GgmlType::F32;
  o.progress = false;
  std::ostringstream log;
  convert_to_gguf(src, out, o, log);
  return out;
}

void check_import(const test::ArchGolden& g, bool nested) {
  const auto golden = GgufFile::open(g.gguf.string());
  const auto dir = write_hf_dir(g, *golden, nested);
  const auto out = convert_f32(*open_hf_dir(dir), g.name + (nested ? "-nested" : ""));
  const auto got = GgufFile::open(out.string());
  EXPECT_EQ(got->get_string("general.architecture").value_or(""), g.arch);
  ASSERT_EQ(got->tensors().size(), golden->tensors().size()) << g.name;
  for (const auto& t : golden->tensors()) {
    const GgufTensorInfo* u = got->tensor(t.name);
    ASSERT_NE(u, nullptr) << g.name << ": " << t.name;
    EXPECT_EQ(u->dims, t.dims) << t.name;
    ASSERT_EQ(u->type, GgmlType::F32) << t.name;
    EXPECT_EQ(std::memcmp(got->tensor_data(*u), golden->tensor_data(t), t.bytes), 0) << g.name << ": " << t.name;
  }
  const std::string a = g.arch + ".";
  for (const std::string k : {"embedding_length", "block_count", "feed_forward_length", "attention.head_count",
                              "attention.head_count_kv", "attention.key_length", "attention.value_length",
                              "context_length", "rope.freq_base", "attention.layer_norm_rms_epsilon",
                              "attention.sliding_window", "rope.scaling.factor"})
    EXPECT_EQ(num(*got, a + k), num(*golden, a + k)) << g.name << ": " << k;
  EXPECT_EQ(got->get_string_array("tokenizer.ggml.tokens"), golden->get_string_array("tokenizer.ggml.tokens"));
  // The import runs as the golden model does.
  ref::LlamaForward cpu(*got, uint32_t(g.tokens.size()), GgmlType::F32);
  const auto logits = cpu.eval(g.tokens);
  double worst = 0;
  for (uint32_t r = 0; r < g.tokens.size(); ++r)
    worst = std::max(worst, test::rel_l2(g.row(g.exact, r), {logits.data() + size_t(r) * g.n_vocab, g.n_vocab}));
  EXPECT_LT(worst, 1e-4) << g.name;
}

TEST(HfArchs, ImportGivesLlamaCppsFiles) {
  const auto cases = test::load_arch_goldens();
  if (cases.empty() || test::shared_file("models/tinystories-656K-hf/tokenizer.json").empty())
    GTEST_SKIP() << "../shared golden/llamacpp-archs or models/tinystories-656K-hf absent";
  for (const auto& g : cases) check_import(g, false);
}

// Gemma3ForConditionalGeneration (4B and up): the text model nested in config.json and its
// tensors under "language_model.model.".
TEST(HfArchs, GemmaMultimodalLayout) {
  for (const auto& g : test::load_arch_goldens())
    if (g.name == "gemma3-tiny-scaled" && !test::shared_file("models/tinystories-656K-hf/tokenizer.json").empty())
      return check_import(g, true);
  GTEST_SKIP() << "../shared golden/llamacpp-archs or models/tinystories-656K-hf absent";
}

// The synthetic presets at the real checkpoints' shapes: their parameter counts are the published
// ones (Qwen3-0.6B 596,049,920; Gemma-3-1B 999,885,952; the text models of the others).
TEST(SyntheticArchs, RealShapes) {
  const std::map<std::string, uint64_t> params = {{"qwen3-0.6b", 596049920ull},
                                                  {"qwen3-1.7b", 1720574976ull},
                                                  {"gemma3-1b", 999885952ull},
                                                  {"gemma3-4b", 3880263168ull}};
  for (const auto& [name, want] : params) {
    const auto src = make_synthetic(name, {});
    uint64_t n = 0;
    for (const auto& t : src->tensors) n += t.elements();
    EXPECT_EQ(n, want) << name;
  }
  const auto g = make_synthetic("gemma3-1b", {});
  EXPECT_EQ(g->hparams.sliding_window, 512u);
  EXPECT_EQ(g->hparams.head_dim, 256u);
  EXPECT_FALSE(g->vocab.add_space_prefix);
}

// The small presets convert and run in the reference forward pass; gemma3's read back with its
// window, pattern and scaling.
TEST(SyntheticArchs, TinyPresetsRun) {
  for (const std::string name : {"test-tiny-qwen3", "test-tiny-gemma3"}) {
    const auto path = convert_f32(*make_synthetic(name, {}), name);
    const auto f = GgufFile::open(path.string());
    ref::LlamaForward cpu(*f, 40, GgmlType::F32);
    const ModelConfig& c = cpu.config();
    EXPECT_EQ(c.head_dim, name == "test-tiny-qwen3" ? 96u : 64u);
    if (name == "test-tiny-gemma3") {
      EXPECT_EQ(c.swa_window, 16u);
      EXPECT_EQ(c.n_sliding_layers(), 6u);  // 7 layers, layer 5 global
      EXPECT_EQ(c.rope_scaling.type, tern::RopeScaling::Linear);
    }
    std::vector<int32_t> tokens(40);
    for (int32_t i = 0; i < 40; ++i) tokens[i] = (i * 37 + 5) % 300;
    for (float x : cpu.eval(tokens)) ASSERT_TRUE(std::isfinite(x)) << name;
  }
}

}  // namespace
}  // namespace tern::quant

// Released Activation Beacon checkpoints (FlagEmbedding's layout): small synthetic ones written
// here in exactly that layout (safetensors + config.json with the beacon_* keys), for the Qwen2
// variant (Q/K/V biases, beacon q/k/v with biases, no beacon O) and the Llama variant (no
// biases, beacon q/k/v/o). tern-quantize's importer must carry every beacon tensor under Tern's
// GGUF names (Llama Q/K un-permuted like the base ones) and the settings as beacon.* keys; a
// context uses the file's settings by default, matches the CPU reference, refuses ratios the
// model was not trained for, and refuses modes Tern does not implement by name.
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/context.h"
#include "common/error.h"
#include "quant/convert.h"
#include "quant/gguf_reader.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "quant/model_source.h"
#include "ref/kv_streaming.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

struct Variant {
  std::string arch;  // "qwen2": biases, no beacon O; "llama": no biases, beacon O
  std::string attn = "full-coverage", pos = "interleave";
};

Status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return Status::Ok;
}

constexpr uint32_t E = 64, L = 2, H = 4, HKV = 2, FF = 96, V = 512, HD = E / H;

// Writes a checkpoint folder; returns the HF tensors by name (PyTorch shapes, row-major).
std::map<std::string, std::vector<float>> write_checkpoint(const std::filesystem::path& dir, const Variant& v) {
  std::filesystem::create_directories(dir);
  std::map<std::string, std::pair<std::vector<uint64_t>, std::vector<float>>> t;
  uint32_t seed = 1;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape, float scale = 0.1f, float offset = 0.f) {
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    auto data = random_floats(n, seed++, -scale, scale);
    for (float& x : data) x += offset;
    t[name] = {shape, data};
  };
  const bool bias = v.arch == "qwen2";
  add("model.embed_tokens.weight", {V, E}, 0.5f);
  add("model.norm.weight", {E}, 0.1f, 1.f);
  add("lm_head.weight", {V, E});
  add("model.beacon_embed_tokens.weight", {1, E}, 0.5f);
  for (uint32_t l = 0; l < L; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {E}, 0.1f, 1.f);
    add(p + "post_attention_layernorm.weight", {E}, 0.1f, 1.f);
    for (const std::string pre : {"", "beacon_"}) {
      add(p + "self_attn." + pre + "q_proj.weight", {H * HD, E});
      add(p + "self_attn." + pre + "k_proj.weight", {HKV * HD, E});
      add(p + "self_attn." + pre + "v_proj.weight", {HKV * HD, E});
      if (bias) {
        add(p + "self_attn." + pre + "q_proj.bias", {H * HD});
        add(p + "self_attn." + pre + "k_proj.bias", {HKV * HD});
        add(p + "self_attn." + pre + "v_proj.bias", {HKV * HD});
      }
    }
    add(p + "self_attn.o_proj.weight", {E, H * HD});
    if (!bias) add(p + "self_attn.beacon_o_proj.weight", {E, H * HD});
    add(p + "mlp.gate_proj.weight", {FF, E});
    add(p + "mlp.up_proj.weight", {FF, E});
    add(p + "mlp.down_proj.weight", {E, FF});
  }
  nlohmann::json header = nlohmann::json::object();
  std::string blob;
  for (const auto& [name, sd] : t) {
    const size_t at = blob.size();
    blob.append(reinterpret_cast<const char*>(sd.second.data()), sd.second.size() * 4);
    header[name] = {{"dtype", "F32"}, {"shape", sd.first}, {"data_offsets", {at, blob.size()}}};
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');
  std::ofstream st(dir / "model.safetensors", std::ios::binary);
  const uint64_t n = h.size();
  st.write(reinterpret_cast<const char*>(&n), 8);
  st << h << blob;
  nlohmann::json cfg = {{"model_type", v.arch},
                        {"architectures", {bias ? "BeaconQwen2ForCausalLM" : "BeaconLlamaForCausalLM"}},
                        {"hidden_size", E},
                        {"num_hidden_layers", L},
                        {"num_attention_heads", H},
                        {"num_key_value_heads", HKV},
                        {"intermediate_size", FF},
                        {"vocab_size", V},
                        {"max_position_embeddings", 512},
                        {"rms_norm_eps", 1e-6},
                        {"rope_theta", 10000.0},
                        {"tie_word_embeddings", false},
                        {"beacon_window", 16},
                        {"beacon_stride", 16},
                        {"beacon_attn", v.attn},
                        {"beacon_ratio", {2, 4, 8}},
                        {"beacon_ratio_mix", "adapt-1024"},
                        {"beacon_param", bias ? nlohmann::json({"q", "k", "v"}) : nlohmann::json({"q", "k", "v", "o"})},
                        {"beacon_embed_init", "eos"},
                        {"beacon_sink_size", 0},
                        {"beacon_attend_prev", true},
                        {"beacon_pos", v.pos},
                        {"beacon_parallel_window", 1}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  std::filesystem::copy_file(shared_file("models/tok512.model"), dir / "tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
  std::map<std::string, std::vector<float>> out;
  for (auto& [name, sd] : t) out[name] = std::move(sd.second);
  return out;
}

std::filesystem::path convert_checkpoint(const std::string& name, const Variant& v,
                                         std::map<std::string, std::vector<float>>* hf = nullptr) {
  const auto dir = scratch_dir("beacon-import-" + name);
  auto tensors = write_checkpoint(dir / "hf", v);
  if (hf) *hf = std::move(tensors);
  quant::ConvertOptions o;
  o.target = GgmlType::F32;
  o.progress = false;
  std::ostringstream log;
  quant::convert_to_gguf(*quant::open_hf_dir(dir / "hf"), dir / "model.gguf", o, log);
  return dir / "model.gguf";
}

class BeaconImport : public GpuTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(BeaconImport, ConvertsLoadsWithItsSettingsAndRuns) {
  if (shared_file("models/tok512.model").empty()) GTEST_SKIP() << "tok512.model not in shared/";
  const Variant v{GetParam()};
  const bool qwen = v.arch == "qwen2";
  std::map<std::string, std::vector<float>> hf;
  const auto path = convert_checkpoint(v.arch, v, &hf);
  auto file = GgufFile::open(path.string());
  // Tensors under Tern's names; biases only for Qwen2, beacon O only for Llama.
  for (uint32_t l = 0; l < L; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const char* t : {"attn_q_beacon.weight", "attn_k_beacon.weight", "attn_v_beacon.weight"})
      EXPECT_NE(file->tensor(p + t), nullptr) << p + t;
    for (const char* t : {"attn_q_beacon.bias", "attn_k_beacon.bias", "attn_v_beacon.bias"})
      EXPECT_EQ(file->tensor(p + t) != nullptr, qwen) << p + t;
    EXPECT_EQ(file->tensor(p + "attn_output_beacon.weight") != nullptr, !qwen);
  }
  const GgufTensorInfo* emb = file->tensor("beacon_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dims, std::vector<uint64_t>{E});
  EXPECT_EQ(std::memcmp(file->tensor_data(*emb), hf["model.beacon_embed_tokens.weight"].data(), E * 4), 0);
  // Llama's beacon Q rows are un-permuted like the base Q: GGUF row h*hd + 2i + s is HF row
  // h*hd + s*hd/2 + i; Qwen2's are copied as they are.
  const GgufTensorInfo* bq = file->tensor("blk.1.attn_q_beacon.weight");
  const auto* got = reinterpret_cast<const float*>(file->tensor_data(*bq));
  const auto& want = hf["model.layers.1.self_attn.beacon_q_proj.weight"];
  for (uint32_t h = 0; h < H; ++h)
    for (uint32_t i = 0; i < HD / 2; ++i)
      for (uint32_t s = 0; s < 2; ++s) {
        const uint32_t dst = h * HD + 2 * i + s, src = qwen ? dst : h * HD + s * HD / 2 + i;
        ASSERT_EQ(got[size_t(dst) * E + 3], want[size_t(src) * E + 3]) << "row " << dst;
      }
  // Settings as beacon.* metadata.
  const BeaconSettings bs = read_beacon_settings(*file);
  EXPECT_TRUE(bs.present);
  EXPECT_EQ(bs.window, 16u);
  EXPECT_EQ(bs.stride, 16u);
  EXPECT_EQ(bs.ratios, (std::vector<uint32_t>{2, 4, 8}));
  EXPECT_EQ(bs.ratio_mix, "adapt-1024");
  EXPECT_EQ(bs.attention, "full-coverage");
  EXPECT_EQ(bs.position, "interleave");
  EXPECT_EQ(bs.params.size(), qwen ? 3u : 4u);
  EXPECT_EQ(bs.embed_init, "eos");

  // Loaded: the file's window and a ratio from its list by default; the CPU reference agrees.
  auto model = load_test_model(path);
  ASSERT_TRUE(model->has_beacon_projections());
  EXPECT_EQ(model->beacon_settings().describe().rfind("full-coverage, interleave, window 16", 0), 0u);
  ContextParams p;
  p.kv.kind = KvPolicyKind::Beacon;
  p.kv_type = GgmlType::F32;
  p.kv.budget_bytes = 96 * KvCache::slot_bytes(L, HKV * HD, GgmlType::F32);
  p.n_batch = 11;
  Context ctx(model, p);
  EXPECT_EQ(ctx.kv_config().beacon_window, 16u) << "the file's chunk";
  EXPECT_EQ(ctx.kv_config().beacon_ratio, 8u) << "adapt with no expected length: 8, one of the file's ratios";
  EXPECT_EQ(ctx.kv_config().sinks, 0u);
  ref::LlamaForward cpu(*file, 0, GgmlType::F32);
  ref::KvStreaming want_ref(cpu, ctx.kv_config());
  std::vector<int32_t> tokens(50);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = int32_t(3 + (i * 37) % (V - 3));
  const auto all = want_ref.feed(tokens);
  ctx.eval(tokens);
  const std::vector<float> last(all.end() - V, all.end());
  EXPECT_LT(rel_l2(last, std::vector<float>(ctx.logits().begin(), ctx.logits().end())), 1e-4);
  // The adapt rule over the file's ratios: 60 expected tokens fit 96 slots at r = 2.
  p.kv.n_ctx = 60;
  EXPECT_EQ(Context(model, p).kv_config().beacon_ratio, 2u);
  p.kv.n_ctx = 0;
  // Another trained ratio may be chosen, an untrained one not; a smaller window, not a larger.
  p.kv.beacon_ratio = 4;
  EXPECT_EQ(Context(model, p).kv_config().beacon_ratio, 4u);
  p.kv.beacon_ratio = 16;
  EXPECT_EQ(status_of([&] { Context(model, p); }), Status::InvalidArgument);
  p.kv.beacon_ratio = 0;
  p.kv.beacon_window = 8;
  EXPECT_EQ(Context(model, p).kv_config().beacon_window, 8u);
  p.kv.beacon_window = 32;
  EXPECT_EQ(status_of([&] { Context(model, p); }), Status::InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Variants, BeaconImport, ::testing::Values("qwen2", "llama"),
                         [](const auto& param_info) { return std::string(param_info.param); });

class BeaconImportModes : public GpuTest {};

TEST_F(BeaconImportModes, UnsupportedModesAreRefusedByName) {
  if (shared_file("models/tok512.model").empty()) GTEST_SKIP() << "tok512.model not in shared/";
  for (const auto& [attn, pos, word] : {std::tuple<const char*, const char*, const char*>{"step-expansion", "interleave", "step-expansion"},
                                        {"segmentation", "interleave", "segmentation"},
                                        {"full-coverage", "append", "append"}}) {
    const auto path = convert_checkpoint(std::string(attn) + "-" + pos, Variant{"qwen2", attn, pos});
    auto model = load_test_model(path);
    for (KvPolicyKind kind : {KvPolicyKind::Beacon, KvPolicyKind::BeaconSliding}) {
      ContextParams p;
      p.kv.kind = kind;
      p.kv.budget_bytes = 96 * KvCache::slot_bytes(L, HKV * HD, GgmlType::F16);
      try {
        Context c(model, p);
        ADD_FAILURE() << word << ": no error";
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), Status::Unsupported);
        EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
      }
    }
    ContextParams dense;  // the base model still runs
    dense.kv.n_ctx = 64;
    Context c(model, dense);
    c.eval(std::vector<int32_t>{1, 5, 9});
  }
}

}  // namespace
}  // namespace tern::test

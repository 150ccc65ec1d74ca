// qwen3 and gemma3 files as llama.cpp writes them (../shared/golden/llamacpp-archs), read into a
// ModelConfig, and broken ones (a key changed or a tensor left out, the rest copied byte for
// byte) refused with an error naming the key or tensor.
#include <cmath>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "model/model.h"
#include "model/model_config.h"
#include "support/arch_golden.h"
#include "support/gpu_fixture.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

const ArchGolden* golden(const std::string& name) {
  static const std::vector<ArchGolden> cases = load_arch_goldens();
  for (const auto& g : cases)
    if (g.name == name) return &g;
  return nullptr;
}

// A copy of the golden file with `edit` applied to its metadata and tensors `drop` left out.
std::vector<uint8_t> edited(const ArchGolden& g, const std::function<void(GgufWriter&)>& edit,
                            const std::string& drop = "") {
  const auto f = GgufFile::open(g.gguf.string());
  GgufWriter w;
  for (const auto& kv : f->kvs()) w.set_raw(std::string(kv.key), kv.value.type(), kv.value.encoded());
  edit(w);
  for (const auto& t : f->tensors())
    if (t.name != drop) w.add_tensor(t.name, t.type, t.dims, f->tensor_data(t), t.bytes);
  return w.to_bytes();
}

ModelConfig config_of(const std::vector<uint8_t>& bytes) {
  return read_model_config(*GgufFile::from_memory(bytes.data(), bytes.size()));
}

// The error a config read throws: its status and whether its message names `what`.
void expect_error(const std::function<void()>& f, Status status, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << "no error (expected one naming " << what << ")";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(ArchConfig, ReadsQwen3AndGemma3AsLlamaCppDoes) {
  const ArchGolden *q = golden("qwen3-tiny"), *g = golden("gemma3-tiny"), *s = golden("gemma3-tiny-scaled");
  if (!q || !g || !s) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  const ModelConfig qc = read_model_config(*GgufFile::open(q->gguf.string()));
  EXPECT_EQ(qc.arch, Arch::Qwen3);
  EXPECT_EQ(qc.head_dim, 64u);  // key_length, not n_embd / n_head (32)
  EXPECT_TRUE(qc.qk_norm && qc.rope_neox && !qc.qkv_bias && !qc.post_norms);
  EXPECT_FALSE(qc.has_sliding_layers());
  const ModelConfig gc = read_model_config(*GgufFile::open(g->gguf.string()));
  EXPECT_EQ(gc.arch, Arch::Gemma3);
  EXPECT_EQ(gc.swa_window, 16u);
  // No pattern key: llama.cpp's default, layer l slides iff l % 6 < 5 (7 layers: 5 is global).
  for (uint32_t l = 0; l < 7; ++l) EXPECT_EQ(gc.sliding(l), l != 5) << l;
  EXPECT_FLOAT_EQ(gc.embd_scale, std::sqrt(128.f));
  EXPECT_FLOAT_EQ(gc.attention_scale(), 1.f / 8.f);
  EXPECT_FLOAT_EQ(gc.rope_base_swa, 10000.f);
  EXPECT_EQ(gc.ffn_act, FfnActivation::GeluTanh);
  EXPECT_EQ(gc.final_logit_softcap, 0.f);
  const ModelConfig sc = read_model_config(*GgufFile::open(s->gguf.string()));
  EXPECT_EQ(sc.rope_scaling.type, tern::RopeScaling::Linear);
  EXPECT_FLOAT_EQ(sc.rope_scaling.factor, 8.f);
}

TEST(ArchConfig, PatternKeyAndOptionalKeys) {
  const ArchGolden* g = golden("gemma3-tiny");
  if (!g) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  // A period of 2: layers 0, 2, 4, 6 slide.
  ModelConfig c = config_of(edited(*g, [](GgufWriter& w) { w.set_u32("gemma3.attention.sliding_window_pattern", 2); }));
  for (uint32_t l = 0; l < 7; ++l) EXPECT_EQ(c.sliding(l), l % 2 == 0) << l;
  // One flag per layer.
  const std::vector<uint8_t> flags = {0, 1, 1, 0, 0, 0, 1};
  c = config_of(edited(*g, [&](GgufWriter& w) {
    w.set_array_raw("gemma3.attention.sliding_window_pattern", GgufType::Bool, flags.size(), flags);
  }));
  for (uint32_t l = 0; l < 7; ++l) EXPECT_EQ(c.sliding(l), flags[l] != 0) << l;
  c = config_of(edited(*g, [](GgufWriter& w) {
    w.set_f32("gemma3.final_logit_softcapping", 30.f);
    w.set_f32("gemma3.rope.freq_base_swa", 20000.f);
  }));
  EXPECT_EQ(c.final_logit_softcap, 30.f);
  EXPECT_EQ(c.rope_base_swa, 20000.f);
  // Pattern 1: no layer slides, so no window either.
  c = config_of(edited(*g, [](GgufWriter& w) { w.set_u32("gemma3.attention.sliding_window_pattern", 1); }));
  EXPECT_FALSE(c.has_sliding_layers());
  EXPECT_EQ(c.swa_window, 0u);
}

TEST(ArchConfig, BadKeysAreNamed) {
  const ArchGolden* g = golden("gemma3-tiny");
  if (!g) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  const std::string window = "gemma3.attention.sliding_window", pattern = "gemma3.attention.sliding_window_pattern";
  expect_error([&] { config_of(edited(*g, [&](GgufWriter& w) { w.set_u32(window, 0); })); }, Status::BadModel, window);
  expect_error([&] { config_of(edited(*g, [&](GgufWriter& w) { w.set_u32(window, 5000); })); }, Status::BadModel,
               window);
  const std::vector<uint8_t> six(6, 1);
  expect_error(
      [&] { config_of(edited(*g, [&](GgufWriter& w) { w.set_array_raw(pattern, GgufType::Bool, 6, six); })); },
      Status::BadModel, pattern);
  expect_error([&] { config_of(edited(*g, [](GgufWriter& w) { w.set_u32("gemma3.attention.value_length", 32); })); },
               Status::Unsupported, "gemma3.attention.value_length");
  expect_error([&] { config_of(edited(*g, [](GgufWriter& w) { w.set_u32("gemma3.attention.key_length", 512); })); },
               Status::Unsupported, "gemma3.attention.key_length");
  expect_error([&] { config_of(edited(*g, [](GgufWriter& w) { w.set_string("general.architecture", "gemma2"); })); },
               Status::Unsupported, "'gemma2'");
}

class ArchLoad : public GpuTest {
 protected:
  void expect_load_error(const std::vector<uint8_t>& bytes, Status status, const std::string& what) {
    const auto path = scratch_dir("arch-load") / "model.gguf";
    {
      std::ofstream out(path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    ModelLoadOptions o;
    o.use_device = std::shared_ptr<gpu::Device>(&test_device(), [](gpu::Device*) {});
    expect_error([&] { Model::load(path.string(), o); }, status, what);
  }
};

// A missing tensor or a head size the tensors do not have: the tensor is named.
TEST_F(ArchLoad, BadTensorsAreNamed) {
  const ArchGolden *g = golden("gemma3-tiny"), *q = golden("qwen3-tiny");
  if (!g || !q) GTEST_SKIP() << "../shared/golden/llamacpp-archs is absent";
  const auto keep = [](GgufWriter&) {};
  expect_load_error(edited(*g, keep, "blk.3.post_ffw_norm.weight"), Status::BadModel, "blk.3.post_ffw_norm.weight");
  expect_load_error(edited(*g, keep, "blk.0.post_attention_norm.weight"), Status::BadModel,
                    "blk.0.post_attention_norm.weight");
  expect_load_error(edited(*q, keep, "blk.1.attn_k_norm.weight"), Status::BadModel, "blk.1.attn_k_norm.weight");
  expect_load_error(edited(*q,
                           [](GgufWriter& w) {
                             w.set_u32("qwen3.attention.key_length", 32);
                             w.set_u32("qwen3.attention.value_length", 32);
                           }),
                    Status::BadModel, "blk.0.attn_q.weight");
}

}  // namespace tern::test

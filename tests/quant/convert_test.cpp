// tern-quantize's library: llama2.c and Hugging Face import, GGUF output, type policy, errors.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "quant/convert.h"
#include "quant/gguf_reader.h"
#include "quant/model_source.h"
#include "quant/quantize.h"
#include "support/test_env.h"

namespace tern::quant {
namespace {

// A numeric metadata value as double (integers and floats alike); nullopt when absent.
std::optional<double> num(const GgufFile& g, std::string_view key) {
  const GgufValue* v = g.find(key);
  return v ? v->as_f64() : std::nullopt;
}

std::vector<std::string_view> tokens_of(const GgufFile& g) {
  return g.get_string_array("tokenizer.ggml.tokens").value_or(std::vector<std::string_view>{});
}

std::filesystem::path convert(const ModelSource& src, GgmlType t, const std::string& name,
                              std::vector<TensorReport>* reports = nullptr) {
  // One scratch folder per output: scratch_dir empties its folder, and ctest runs the test
  // cases of this file in parallel processes.
  const auto out = test::scratch_dir("convert-" + name) / name;
  ConvertOptions o;
  o.target = t;
  std::ostringstream log;
  auto r = convert_to_gguf(src, out, o, log);
  if (reports) *reports = r;
  return out;
}

TEST(ConvertLlama2c, F32RoundTripIsExact) {
  const auto bin = test::shared_file("models/stories260K.bin");
  const auto tok = test::shared_file("models/tok512.bin");
  if (bin.empty() || tok.empty()) GTEST_SKIP() << "stories260K.bin / tok512.bin not in shared/";
  auto src = open_llama2c(bin, tok);
  const auto path = convert(*src, GgmlType::F32, "stories260K-f32.gguf");
  const auto file = GgufFile::open(path);
  const GgufFile& g = *file;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_u32("llama.embedding_length"), 64u);
  EXPECT_EQ(g.get_u32("llama.feed_forward_length"), 172u);
  EXPECT_EQ(g.get_u32("llama.block_count"), 5u);
  EXPECT_EQ(g.get_u32("llama.attention.head_count"), 8u);
  EXPECT_EQ(g.get_u32("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(g.get_u32("llama.context_length"), 512u);
  EXPECT_EQ(g.get_u32("llama.rope.dimension_count"), 8u);
  EXPECT_FLOAT_EQ(*g.get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  EXPECT_EQ(g.get_u32("general.file_type"), 0u);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "llama");
  const auto toks = tokens_of(g);
  const auto types = *g.get_i32_array("tokenizer.ggml.token_type");
  ASSERT_EQ(toks.size(), 512u);
  EXPECT_EQ(toks[0], "<unk>");
  EXPECT_EQ(types[0], 2);
  EXPECT_EQ(toks[1], "<s>");
  EXPECT_EQ(types[1], 3);
  EXPECT_EQ(toks[2], "</s>");
  EXPECT_EQ(toks[3], "<0x00>");
  EXPECT_EQ(types[3], 6);
  EXPECT_EQ(toks[259], "\xE2\x96\x81t");  // " t" with sentencepiece's space
  EXPECT_EQ(types[259], 1);
  EXPECT_EQ((*g.get_f32_array("tokenizer.ggml.scores"))[261], -2.0f);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(g.get_u32("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(g.tensors().size(), 2u + 5u * 9u);  // tied: no output.weight
  EXPECT_EQ(g.tensor("output.weight"), nullptr);
  // blk.1.attn_q.weight straight from the checkpoint: header, embeddings, 5 rms_att, wq[0].
  std::ifstream f(bin, std::ios::binary);
  const uint64_t off = 28 + (512 * 64 + 5 * 64 + 64 * 64) * 4;
  std::vector<float> want(64 * 64);
  f.seekg(off);
  f.read(reinterpret_cast<char*>(want.data()), want.size() * 4);
  const GgufTensorInfo* t = g.tensor("blk.1.attn_q.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<uint64_t>{64, 64}));
  EXPECT_EQ(t->type, GgmlType::F32);
  EXPECT_EQ(std::memcmp(g.tensor_data(*t), want.data(), want.size() * 4), 0);
  const GgufTensorInfo* ffn_down = g.tensor("blk.4.ffn_down.weight");
  ASSERT_NE(ffn_down, nullptr);
  EXPECT_EQ(ffn_down->dims, (std::vector<uint64_t>{172, 64}));
}

TEST(ConvertLlama2c, Q4KFallsBackForSmallRows) {
  const auto bin = test::shared_file("models/stories260K.bin");
  const auto tok = test::shared_file("models/tok512.bin");
  if (bin.empty() || tok.empty()) GTEST_SKIP() << "stories260K.bin / tok512.bin not in shared/";
  auto src = open_llama2c(bin, tok);
  std::vector<TensorReport> reports;
  const auto path = convert(*src, GgmlType::Q4_K, "stories260K-q4k.gguf", &reports);
  const auto g = GgufFile::open(path);
  // Rows of 64 cannot hold a 256-block: Q8_0; ffn_down rows of 172 are not even a multiple of 32: F16.
  EXPECT_EQ(g->tensor("blk.0.attn_q.weight")->type, GgmlType::Q8_0);
  EXPECT_EQ(g->tensor("blk.0.ffn_down.weight")->type, GgmlType::F16);
  EXPECT_EQ(g->tensor("blk.0.attn_norm.weight")->type, GgmlType::F32);
  EXPECT_EQ(g->get_u32("general.file_type"), 15u);
  for (const auto& r : reports) {
    EXPECT_LT(r.rms_rel_error, r.type == GgmlType::Q8_0 ? 0.008 : 3e-4) << r.name;
    if (r.type == GgmlType::F16) { EXPECT_NE(r.why.find("172"), std::string::npos); }
  }
}

// The HF export of TinyStories-656K converted to Q8_0 must reproduce llama.cpp's own Q8_0 GGUF
// of the same model byte for byte: this checks the quantiser, the renaming and the q/k
// un-permutation together.
TEST(ConvertHf, MatchesLlamaCppQ8_0Gguf) {
  const auto dir = test::shared_file("models/tinystories-656K-hf");
  const auto ref = test::shared_file("models/TinyStories-656K-Q8_0.gguf");
  if (dir.empty() || ref.empty()) GTEST_SKIP() << "tinystories-656K files not in shared/";
  auto src = open_hf_dir(dir);
  const auto path = convert(*src, GgmlType::Q8_0, "656K-q8_0.gguf");
  const auto got = GgufFile::open(path), want = GgufFile::open(ref);
  ASSERT_EQ(got->tensors().size(), want->tensors().size());
  for (const auto& t : want->tensors()) {
    const GgufTensorInfo* u = got->tensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(u->dims, t.dims) << t.name;
    ASSERT_EQ(u->type, t.type) << t.name;
    EXPECT_EQ(std::memcmp(got->tensor_data(*u), want->tensor_data(t), t.bytes), 0) << t.name << " differs";
  }
  EXPECT_EQ(tokens_of(*got), tokens_of(*want));
  for (const char* k : {"llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                        "llama.attention.head_count", "llama.attention.head_count_kv", "llama.context_length",
                        "llama.rope.dimension_count", "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon",
                        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "general.file_type"})
    EXPECT_EQ(num(*got, k), num(*want, k)) << k;
}

// Re-quantising llama.cpp's Q8_0 GGUF: every metadata entry copied byte for byte except
// general.file_type, tensors in the same order and shapes with the policy's types, and the data
// equal to the dequantised Q8_0 weights (F32) or to their re-quantisation (Q4_0).
TEST(ConvertGguf, RequantizesLlamaCppQ8_0) {
  const auto ref = test::shared_file("models/TinyStories-656K-Q8_0.gguf");
  if (ref.empty()) GTEST_SKIP() << "TinyStories-656K-Q8_0.gguf not in shared/";
  const auto src = open_gguf(ref);
  const auto want = GgufFile::open(ref);
  EXPECT_EQ(src->hparams.n_layer, 2u);
  EXPECT_TRUE(src->hparams.tied_output);
  for (const GgmlType target : {GgmlType::F32, GgmlType::Q4_0}) {
    SCOPED_TRACE(ggml_type_name(target));
    const auto path = convert(*src, target, "656K-from-gguf-" + std::string(ggml_type_name(target)) + ".gguf");
    const auto got = GgufFile::open(path);
    ASSERT_NE(want->find("general.quantization_version"), nullptr);  // so no key is added
    EXPECT_EQ(got->kv_count(), want->kv_count());
    for (const auto& kv : want->kvs()) {
      const GgufValue* v = got->find(kv.key);
      ASSERT_NE(v, nullptr) << kv.key;
      if (kv.key == "general.file_type") continue;
      EXPECT_EQ(v->type(), kv.value.type()) << kv.key;
      const auto a = v->encoded(), b = kv.value.encoded();
      EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << kv.key << " differs";
    }
    EXPECT_EQ(got->get_u32("general.file_type"), ftype_of(target));
    EXPECT_EQ(tokens_of(*got).size(), 2048u);
    EXPECT_EQ(tokens_of(*got), tokens_of(*want));
    EXPECT_EQ(num(*got, "llama.rope.dimension_count"), num(*want, "llama.rope.dimension_count"));

    ASSERT_EQ(got->tensors().size(), want->tensors().size());
    for (size_t i = 0; i < want->tensors().size(); ++i) {
      const GgufTensorInfo& t = want->tensors()[i];
      const GgufTensorInfo& u = got->tensors()[i];
      EXPECT_EQ(u.name, t.name);
      EXPECT_EQ(u.dims, t.dims) << t.name;
      ASSERT_EQ(u.type, t.dims.size() < 2 ? GgmlType::F32 : target) << t.name;
      std::vector<float> w(t.n_elements);
      dequantize_row(t.type, want->tensor_data(t), w.data(), int64_t(w.size()));
      std::vector<uint8_t> expect(u.bytes);
      quantize_row(u.type, w.data(), expect.data(), int64_t(w.size()));
      EXPECT_EQ(std::memcmp(got->tensor_data(u), expect.data(), u.bytes), 0) << t.name << " differs";
    }
  }
}

TEST(TypePolicy, Q4KMediumMix) {
  auto src = make_synthetic("tinyllama-1.1b", {});
  ConvertOptions o;
  o.target = GgmlType::Q4_K;
  const auto& hp = src->hparams;  // 22 layers: more bits for layers 0, 1, 4, 7, ..., 19, 20, 21
  auto type_of = [&](const std::string& n) {
    for (const auto& t : src->tensors)
      if (t.name == n) return choose_tensor_type(t, hp, o);
    throw std::runtime_error("no " + n);
  };
  EXPECT_EQ(type_of("output.weight"), GgmlType::Q6_K);
  EXPECT_EQ(type_of("token_embd.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type_of("output_norm.weight"), GgmlType::F32);
  for (int l : {0, 1, 4, 7, 19, 20, 21}) {
    EXPECT_EQ(type_of("blk." + std::to_string(l) + ".attn_v.weight"), GgmlType::Q6_K) << l;
    EXPECT_EQ(type_of("blk." + std::to_string(l) + ".ffn_down.weight"), GgmlType::Q6_K) << l;
  }
  for (int l : {2, 3, 5, 6, 18}) {
    EXPECT_EQ(type_of("blk." + std::to_string(l) + ".attn_v.weight"), GgmlType::Q4_K) << l;
    EXPECT_EQ(type_of("blk." + std::to_string(l) + ".ffn_down.weight"), GgmlType::Q4_K) << l;
  }
  EXPECT_EQ(type_of("blk.3.attn_q.weight"), GgmlType::Q4_K);
  EXPECT_EQ(type_of("blk.3.ffn_up.weight"), GgmlType::Q4_K);
  // Qwen2.5-0.5B: rows of 896 do not fill 256-blocks -> fallback; tied head -> Q6_K -> Q8_0.
  auto qwen = make_synthetic("qwen2.5-0.5b", {});
  for (const auto& t : qwen->tensors) {
    const GgmlType ty = choose_tensor_type(t, qwen->hparams, o);
    if (t.name == "token_embd.weight") { EXPECT_EQ(ty, GgmlType::Q8_0); }
    if (t.name == "blk.0.attn_q.weight") { EXPECT_EQ(ty, GgmlType::Q8_0); }
    if (t.name == "blk.0.attn_q.bias") { EXPECT_EQ(ty, GgmlType::F32); }
    if (t.name == "blk.3.ffn_down.weight") { EXPECT_EQ(ty, GgmlType::Q4_K); }
    if (t.name == "blk.2.ffn_down.weight") { EXPECT_EQ(ty, GgmlType::Q6_K); }  // rows of 4864 = 19 * 256
  }
}

TEST(ConvertSynthetic, StreamsAndReportsErrors) {
  auto src = make_synthetic("test-tiny", {}, 7);
  std::vector<TensorReport> reports;
  const auto path = convert(*src, GgmlType::Q4_K, "tiny-q4k.gguf", &reports);
  const auto g = GgufFile::open(path);
  EXPECT_EQ(g->tensors().size(), src->tensors.size());
  EXPECT_EQ(tokens_of(*g).size(), 300u);
  for (const auto& r : reports) {
    if (r.type == GgmlType::Q4_K) { EXPECT_LT(r.rms_rel_error, 0.08) << r.name; }
    if (r.type == GgmlType::Q6_K) { EXPECT_LT(r.rms_rel_error, 0.02) << r.name; }
  }
  // Same seed, same tensor.
  auto again = make_synthetic("test-tiny", {}, 7);
  EXPECT_EQ(src->load(3), again->load(3));
  EXPECT_THROW(make_synthetic("no-such-model", {}), Error);
}

Status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    std::printf("  error: %s\n", e.what());
    return e.status();
  }
  return Status::Ok;
}

TEST(ConvertErrors, BadInputsGiveClearErrors) {
  const auto bin = test::shared_file("models/stories260K.bin");
  const auto tok = test::shared_file("models/tok512.bin");
  if (bin.empty() || tok.empty()) GTEST_SKIP() << "stories260K.bin / tok512.bin not in shared/";
  const auto dir = test::scratch_dir("convert-bad");
  std::ifstream in(bin, std::ios::binary);
  std::vector<char> all((std::istreambuf_iterator<char>(in)), {});
  {
    std::ofstream o(dir / "truncated.bin", std::ios::binary);
    o.write(all.data(), 100000);
  }
  EXPECT_EQ(status_of([&] { open_llama2c(dir / "truncated.bin", tok); }), Status::BadModel);
  {
    std::ofstream o(dir / "short.bin", std::ios::binary);
    o.write(all.data(), 10);
  }
  EXPECT_EQ(status_of([&] { open_llama2c(dir / "short.bin", tok); }), Status::BadModel);
  {
    auto bad = all;
    const int32_t neg = -64;
    std::memcpy(bad.data(), &neg, 4);  // dim
    std::ofstream o(dir / "badheader.bin", std::ios::binary);
    o.write(bad.data(), std::streamsize(bad.size()));
  }
  EXPECT_EQ(status_of([&] { open_llama2c(dir / "badheader.bin", tok); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { open_llama2c(dir / "missing.bin", tok); }), Status::Io);
  EXPECT_EQ(status_of([&] { open_llama2c(bin, dir / "missing-tok.bin"); }), Status::Io);
  std::filesystem::create_directories(dir / "emptyhf");
  EXPECT_EQ(status_of([&] { open_hf_dir(dir / "emptyhf"); }), Status::BadModel);
  // A safetensors header claiming more bytes than the file has.
  std::filesystem::create_directories(dir / "badst");
  {
    std::ofstream o(dir / "badst/config.json");
    o << R"({"model_type":"llama","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":8,
            "intermediate_size":128,"vocab_size":32})";
  }
  {
    std::ofstream o(dir / "badst/model.safetensors", std::ios::binary);
    const uint64_t n = 1ull << 40;
    o.write(reinterpret_cast<const char*>(&n), 8);
    o << "{}";
  }
  EXPECT_EQ(status_of([&] { open_hf_dir(dir / "badst"); }), Status::BadModel);
}

}  // namespace
}  // namespace tern::quant

// Writes a seed corpus for the GGUF fuzzer into a folder: small valid files covering every
// value type, nested arrays, alignments and versions, plus damaged copies (truncated, patched
// counts, flipped bytes). Usage: gguf_fuzz_corpus <folder>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "quant/gguf_writer.h"

namespace {

using tern::GgmlType;
using tern::GgufType;
using tern::GgufWriter;
using Bytes = std::vector<uint8_t>;

void save(const std::filesystem::path& dir, const std::string& name, const Bytes& b) {
  std::FILE* f = std::fopen((dir / name).c_str(), "wb");
  if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size()) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
  std::fclose(f);
}

void add_metadata(GgufWriter& w, int n_tokens) {
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.embedding_length", 32);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u8("t.u8", 7);
  w.set_i8("t.i8", -7);
  w.set_u16("t.u16", 700);
  w.set_i16("t.i16", -700);
  w.set_i32("t.i32", -70000);
  w.set_u64("t.u64", 1ull << 40);
  w.set_i64("t.i64", -(1ll << 40));
  w.set_f64("t.f64", 0.125);
  w.set_bool("t.bool", true);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int i = 0; i < n_tokens; ++i) {
    tokens.push_back(i < 3 ? std::string(i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>") : "tok" + std::to_string(i));
    scores.push_back(-float(i));
    types.push_back(i < 3 ? 3 : 1);
  }
  w.set_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.scores", scores);
  w.set_array("tokenizer.ggml.token_type", types);
  w.set_array("t.u32s", std::vector<uint32_t>{1, 2, 3});
  Bytes nested;  // [[1,2],[3]] of u8
  for (Bytes inner : {Bytes{1, 2}, Bytes{3}}) {
    const uint32_t t = static_cast<uint32_t>(GgufType::U8);
    const uint64_t n = inner.size();
    nested.insert(nested.end(), reinterpret_cast<const uint8_t*>(&t), reinterpret_cast<const uint8_t*>(&t) + 4);
    nested.insert(nested.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 8);
    nested.insert(nested.end(), inner.begin(), inner.end());
  }
  w.set_array_raw("t.nested", GgufType::Array, 2, nested);
}

void add_tensors(GgufWriter& w) {
  Bytes data(2048);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 31 + 7);
  w.add_tensor("token_embd.weight", GgmlType::Q8_0, {32, 8}, data.data(), 8 * 34);
  w.add_tensor("blk.0.attn_norm.weight", GgmlType::F32, {32}, data.data(), 128);
  w.add_tensor("blk.0.attn_q.weight", GgmlType::Q4_0, {32, 32}, data.data(), 32 * 18);
  w.add_tensor("blk.0.ffn_down.weight", GgmlType::Q4_K, {256, 1}, data.data(), 144);
  w.add_tensor("output_norm.weight", GgmlType::F16, {32}, data.data(), 64);
}

Bytes model(uint32_t alignment = 32, int n_tokens = 16) {
  GgufWriter w;
  if (alignment != 32) w.set_alignment(alignment);
  add_metadata(w, n_tokens);
  add_tensors(w);
  return w.to_bytes();
}

void put64(Bytes& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  try {
    const Bytes base = model();
    save(dir, "valid.gguf", base);
    save(dir, "valid_align1.gguf", model(1));
    save(dir, "valid_align256.gguf", model(256));
    save(dir, "valid_vocab200.gguf", model(32, 200));
    Bytes v2 = base;
    v2[4] = 2;
    save(dir, "valid_v2.gguf", v2);
    GgufWriter meta;
    add_metadata(meta, 4);
    save(dir, "valid_metadata_only.gguf", meta.to_bytes());

    // Damaged copies of the base file.
    save(dir, "bad_truncated_header.gguf", Bytes(base.begin(), base.begin() + base.size() / 3));
    save(dir, "bad_truncated_data.gguf", Bytes(base.begin(), base.end() - 100));
    Bytes b = base;
    put64(b, 8, 1ull << 60);
    save(dir, "bad_tensor_count.gguf", b);
    b = base;
    put64(b, 16, 1ull << 60);
    save(dir, "bad_kv_count.gguf", b);
    b = base;
    put64(b, 24, 1ull << 63);
    save(dir, "bad_key_length.gguf", b);
    b = base;
    b[4] = 1;
    save(dir, "bad_version1.gguf", b);
    for (size_t at : {40u, 97u, 300u, 777u}) {
      if (at >= base.size()) continue;
      b = base;
      b[at] ^= 0xff;
      save(dir, "bad_flip_" + std::to_string(at) + ".gguf", b);
    }
  } catch (const tern::Error& e) {
    std::fprintf(stderr, "corpus: %s\n", e.what());
    return 1;
  }
  return 0;
}

// GGUF reader: the real llama.cpp-written model, a writer -> reader round trip of every value
// type, and one test per class of broken or hostile file (each must throw BadModel, never crash).
#include "quant/gguf_reader.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>

#include "gguf_test_util.h"
#include "platform/file_io.h"
#include "quant/gguf_writer.h"
#include "support/test_env.h"

namespace tern {
namespace {

using test::GgufBytes;
using test::try_parse;

constexpr uint32_t kF32 = 0, kQ8_0 = 8;

#define EXPECT_BAD(bytes, needle)                                      \
  do {                                                                 \
    const auto r_ = try_parse(bytes);                                  \
    EXPECT_EQ(r_.status, Status::BadModel) << r_.message;              \
    EXPECT_NE(r_.message.find(needle), std::string::npos) << r_.message; \
  } while (0)

// ---- the real model ----

TEST(GgufReader, TinyStoriesQ8_0) {
  const auto path = test::shared_file("models/TinyStories-656K-Q8_0.gguf");
  if (path.empty()) GTEST_SKIP() << "models/TinyStories-656K-Q8_0.gguf not in the shared folder";
  auto f = GgufFile::open(path.string());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->file_size(), std::filesystem::file_size(path));
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_u32("llama.block_count"), 2u);
  EXPECT_EQ(f->get_u32("llama.embedding_length"), 128u);
  EXPECT_EQ(f->get_u32("llama.feed_forward_length"), 384u);
  EXPECT_EQ(f->get_u32("llama.attention.head_count"), 8u);
  EXPECT_EQ(f->get_u32("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(f->get_u32("llama.context_length"), 512u);
  ASSERT_TRUE(f->get_f32("llama.attention.layer_norm_rms_epsilon").has_value());
  const auto tokens = f->get_string_array("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(tokens->size(), 2048u);
  EXPECT_EQ((*tokens)[1], "<|start_story|>");
  EXPECT_EQ((*tokens)[2], "<|end_story|>");
  const auto scores = f->get_f32_array("tokenizer.ggml.scores");
  ASSERT_TRUE(scores.has_value());
  EXPECT_EQ(scores->size(), 2048u);
  const auto types = f->get_i32_array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.has_value());
  EXPECT_EQ(types->size(), 2048u);
  EXPECT_EQ(f->get_u32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(f->get_u32("tokenizer.ggml.eos_token_id"), 2u);

  const GgufTensorInfo* emb = f->tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, GgmlType::Q8_0);
  EXPECT_EQ(emb->dims, (std::vector<uint64_t>{128, 2048}));
  EXPECT_EQ(emb->bytes, 2048u * 128 / 32 * 34);
  const GgufTensorInfo* norm = f->tensor("blk.0.attn_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, GgmlType::F32);
  EXPECT_EQ(norm->dims, (std::vector<uint64_t>{128}));
  const GgufTensorInfo* wq = f->tensor("blk.1.attn_q.weight");
  ASSERT_NE(wq, nullptr);
  EXPECT_EQ(wq->type, GgmlType::Q8_0);
  EXPECT_EQ(f->tensor("output.weight"), nullptr);  // tied to token_embd
  // 2 layers x 9 tensors + token_embd + output_norm
  EXPECT_EQ(f->tensors().size(), 20u);
  for (const auto& t : f->tensors()) {
    EXPECT_TRUE(t.type == GgmlType::F32 || t.type == GgmlType::Q8_0) << t.name;
    EXPECT_EQ(t.file_offset % f->alignment(), 0u) << t.name;
    EXPECT_LE(t.file_offset + t.bytes, f->file_size()) << t.name;
  }
  // The norm weights are plain floats near 1-ish, finite.
  float first;
  std::memcpy(&first, f->tensor_data(*norm), 4);
  EXPECT_TRUE(std::isfinite(first));
}

// ---- round trip ----

GgufWriter every_type_writer() {
  GgufWriter w;
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -100);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -30000);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 18000000000000000000ull);
  w.set_i64("t.i64", -9000000000000000000ll);
  w.set_f32("t.f32", 1.5f);
  w.set_f64("t.f64", -2.25e300);
  w.set_bool("t.bool", true);
  w.set_bool("t.false", false);
  w.set_string("t.string", "h\xC3\xA9llo");
  w.set_string("t.empty", "");
  w.set_array("t.strings", std::vector<std::string>{"a", "", "ccc"});
  w.set_array("t.floats", std::vector<float>{0.5f, -1.f, 3.25f});
  w.set_array("t.ints", std::vector<int32_t>{-1, 0, 7});
  w.set_array("t.uints", std::vector<uint32_t>{1, 2, 4000000000u});
  w.set_array("t.noints", std::vector<int32_t>{});
  // Array of two arrays of u8: [[1, 2], [3]].
  std::vector<uint8_t> nested;
  auto inner = [&](std::vector<uint8_t> xs) {
    GgufBytes b;
    b.u32(static_cast<uint32_t>(GgufType::U8)).u64(xs.size());
    nested.insert(nested.end(), b.b.begin(), b.b.end());
    nested.insert(nested.end(), xs.begin(), xs.end());
  };
  inner({1, 2});
  inner({3});
  w.set_array_raw("t.nested", GgufType::Array, 2, nested);
  return w;
}

std::vector<float> iota_floats(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(i) * 0.25f - 3.f;
  return v;
}

void add_tensors(GgufWriter& w) {
  const auto a = iota_floats(13 * 3);
  w.add_tensor("a.f32", GgmlType::F32, {13, 3}, a.data(), a.size() * 4);
  std::vector<uint8_t> q(64 / 32 * 34 * 2);
  for (size_t i = 0; i < q.size(); ++i) q[i] = uint8_t(i * 7);
  w.add_tensor("b.q8_0", GgmlType::Q8_0, {64, 2}, q.data(), q.size());
  std::vector<uint8_t> k(144);
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(255 - i);
  w.add_tensor("c.q4_k", GgmlType::Q4_K, {256, 1, 1, 1}, k.data(), k.size());
  const std::vector<uint16_t> h{0x3c00, 0xc000, 0x0001};
  w.add_tensor("d.f16", GgmlType::F16, {3}, h.data(), 6);
}

void check_every_type(const GgufFile& f) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.kv_count(), 20u);
  EXPECT_EQ(f.find("t.u8")->type(), GgufType::U8);
  EXPECT_EQ(f.find("t.u8")->as_u64(), 200u);
  EXPECT_EQ(f.find("t.i8")->type(), GgufType::I8);
  EXPECT_EQ(f.find("t.i8")->as_i64(), -100);
  EXPECT_EQ(f.find("t.u16")->as_u64(), 60000u);
  EXPECT_EQ(f.find("t.i16")->as_i64(), -30000);
  EXPECT_EQ(f.get_u32("t.u32"), 4000000000u);
  EXPECT_EQ(f.get_i32("t.i32"), -2000000000);
  EXPECT_EQ(f.get_u64("t.u64"), 18000000000000000000ull);
  EXPECT_EQ(f.get_i64("t.i64"), -9000000000000000000ll);
  EXPECT_EQ(f.get_f32("t.f32"), 1.5f);
  EXPECT_EQ(f.get_f64("t.f64"), -2.25e300);
  EXPECT_EQ(f.get_bool("t.bool"), true);
  EXPECT_EQ(f.get_bool("t.false"), false);
  EXPECT_EQ(f.get_string("t.string"), "h\xC3\xA9llo");
  EXPECT_EQ(f.get_string("t.empty"), "");
  EXPECT_EQ(*f.get_string_array("t.strings"), (std::vector<std::string_view>{"a", "", "ccc"}));
  EXPECT_EQ(*f.get_f32_array("t.floats"), (std::vector<float>{0.5f, -1.f, 3.25f}));
  EXPECT_EQ(*f.get_i32_array("t.ints"), (std::vector<int32_t>{-1, 0, 7}));
  EXPECT_EQ(f.find("t.uints")->array_type(), GgufType::U32);
  EXPECT_EQ(f.find("t.uints")->at(2).as_u64(), 4000000000u);
  EXPECT_TRUE(f.get_i32_array("t.noints")->empty());
  const GgufValue* n = f.find("t.nested");
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->array_type(), GgufType::Array);
  ASSERT_EQ(n->array_size(), 2u);
  EXPECT_EQ(n->at(0).array_size(), 2u);
  EXPECT_EQ(n->at(0).at(1).as_u64(), 2u);
  EXPECT_EQ(n->at(1).array_size(), 1u);
  EXPECT_EQ(n->at(1).at(0).as_u64(), 3u);
  // Order is kept.
  EXPECT_EQ(f.kvs().front().key, "t.u8");
  EXPECT_EQ(f.kvs().back().key, "t.nested");

  ASSERT_EQ(f.tensors().size(), 4u);
  const auto* a = f.tensor("a.f32");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, GgmlType::F32);
  EXPECT_EQ(a->dims, (std::vector<uint64_t>{13, 3}));
  EXPECT_EQ(a->n_elements, 39u);
  EXPECT_EQ(a->bytes, 156u);
  EXPECT_EQ(0, std::memcmp(f.tensor_data(*a), iota_floats(39).data(), 156));
  const auto* b = f.tensor("b.q8_0");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, GgmlType::Q8_0);
  EXPECT_EQ(b->bytes, 136u);
  EXPECT_EQ(f.tensor_data(*b)[5], uint8_t(35));
  const auto* c = f.tensor("c.q4_k");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->dims.size(), 4u);
  EXPECT_EQ(c->bytes, 144u);
  EXPECT_EQ(f.tensor_data(*c)[0], 255);
  const auto* d = f.tensor("d.f16");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->bytes, 6u);
  for (const auto& t : f.tensors()) EXPECT_EQ(t.file_offset % f.alignment(), 0u);
  EXPECT_EQ(f.tensor("nope"), nullptr);
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(GgufReader, RoundTripFromMemory) {
  GgufWriter w = every_type_writer();
  add_tensors(w);
  const auto bytes = w.to_bytes();
  EXPECT_EQ(bytes.size(), w.file_size());
  EXPECT_EQ(bytes.size() % 32, 0u);
  auto f = GgufFile::from_memory(bytes.data(), bytes.size());
  check_every_type(*f);
  EXPECT_EQ(f->data_offset(), w.header_size());
}

TEST(GgufReader, RoundTripThroughFile) {
  GgufWriter w = every_type_writer();
  add_tensors(w);
  const auto path = test::scratch_dir("gguf_round_trip") / "m.gguf";
  w.write(path.string());
  auto f = GgufFile::open(path.string());
  check_every_type(*f);
  EXPECT_EQ(f->file_size(), w.file_size());
}

// File names are UTF-8 on every platform (tern.h): on Windows the writer and the mapping must
// use the wide (UTF-16) calls, or a name outside the ANSI code page would not be found.
TEST(GgufReader, RoundTripThroughNonAsciiPath) {
  GgufWriter w = every_type_writer();
  add_tensors(w);
  const std::string dir = platform::path_to_utf8(test::scratch_dir("gguf_utf8"));
  const std::string path = dir + "/mod\xC3\xA8le \xE6\xA8\xA1\xE5\x9E\x8B \xF0\x9F\xA6\x99.gguf";  // "modèle 模型 🦙"
  w.write(path);
  EXPECT_TRUE(std::filesystem::is_regular_file(platform::path_from_utf8(path)));
  auto f = GgufFile::open(path);
  check_every_type(*f);
  try {
    GgufFile::open(dir + "/\xC3\xA9" "absent.gguf");
    FAIL() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Io);
    EXPECT_NE(std::string(e.what()).find("\xC3\xA9" "absent.gguf"), std::string::npos) << e.what();
  }
}

TEST(GgufReader, CustomAlignment) {
  for (uint32_t align : {1u, 8u, 64u, 4096u}) {
    GgufWriter w;
    w.set_alignment(align);
    add_tensors(w);
    const auto bytes = w.to_bytes();
    auto f = GgufFile::from_memory(bytes.data(), bytes.size());
    EXPECT_EQ(f->alignment(), align);
    EXPECT_EQ(f->get_u32("general.alignment"), align);
    for (const auto& t : f->tensors()) EXPECT_EQ(t.file_offset % align, 0u) << align;
  }
}

TEST(GgufReader, Version2) {
  GgufWriter w;
  w.set_u32("x", 7);
  add_tensors(w);
  auto bytes = w.to_bytes();
  bytes[4] = 2;
  auto f = GgufFile::from_memory(bytes.data(), bytes.size());
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->get_u32("x"), 7u);
}

TEST(GgufReader, TypedGetters) {
  GgufWriter w = every_type_writer();
  const auto bytes = w.to_bytes();
  auto f = GgufFile::from_memory(bytes.data(), bytes.size());
  EXPECT_FALSE(f->get_u32("absent").has_value());
  EXPECT_FALSE(f->get_string_array("absent").has_value());
  EXPECT_EQ(f->get_u32("t.u8"), 200u);       // widening
  EXPECT_EQ(f->get_i32("t.u16"), 60000);     // unsigned -> signed when it fits
  EXPECT_EQ(f->get_u64("t.u32"), 4000000000u);
  EXPECT_EQ(f->get_f32("t.u8"), 200.f);      // integers read as floats
  auto status_of = [](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.status();
    }
    return Status::Ok;
  };
  EXPECT_EQ(status_of([&] { (void)f->get_u32("t.i8"); }), Status::BadModel);    // negative
  EXPECT_EQ(status_of([&] { (void)f->get_u32("t.u64"); }), Status::BadModel);   // too big
  EXPECT_EQ(status_of([&] { (void)f->get_i32("t.u32"); }), Status::BadModel);   // too big
  EXPECT_EQ(status_of([&] { (void)f->get_u32("t.string"); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { (void)f->get_u32("t.f32"); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { (void)f->get_string("t.u32"); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { (void)f->get_bool("t.u8"); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { (void)f->get_string_array("t.floats"); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { (void)f->get_f32_array("t.strings"); }), Status::BadModel);
  EXPECT_EQ(status_of([&] { (void)f->get_i32_array("t.uints"); }), Status::BadModel);  // 4e9
  EXPECT_EQ(status_of([&] { (void)f->get_string_array("t.u32"); }), Status::BadModel);
  try {
    (void)f->get_u32("t.string");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'t.string'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("is string"), std::string::npos) << e.what();
  }
}

// ---- files that must not open ----

TEST(GgufReader, MissingFileIsIoError) {
  try {
    GgufFile::open("/nonexistent/dir/model.gguf");
    FAIL() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Io);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
  }
  try {
    GgufFile::open(test::scratch_dir("gguf_dir").string());
    FAIL() << "opened a directory";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::Io);
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  const auto empty = test::scratch_dir("gguf_empty") / "empty.gguf";
  std::ofstream(empty).close();
  try {
    GgufFile::open(empty.string());
    FAIL() << "opened an empty file";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::BadModel);
  }
}

std::vector<uint8_t> valid_file() {
  GgufWriter w = every_type_writer();
  add_tensors(w);
  return w.to_bytes();
}

TEST(GgufReader, TruncatedAtEveryHeaderByte) {
  GgufWriter w = every_type_writer();
  add_tensors(w);
  const auto bytes = w.to_bytes();
  const uint64_t header = w.header_size();
  for (size_t n = 0; n < header; ++n) {
    const auto r = try_parse(bytes, n);
    ASSERT_EQ(r.status, Status::BadModel) << "truncated to " << n << " bytes: " << r.message;
  }
  // Inside tensor data (the last tensor's trailing padding is not needed).
  const uint64_t end_of_last = header + w.tensor_offset("d.f16") + 6;
  for (uint64_t n : {header, header + 1, header + 100, header + w.tensor_offset("c.q4_k") + 143,
                     end_of_last - 1}) {
    const auto r = try_parse(bytes, n);
    ASSERT_EQ(r.status, Status::BadModel) << "truncated to " << n << " bytes: " << r.message;
    EXPECT_NE(r.message.find("runs past the end of the file"), std::string::npos) << r.message;
  }
  EXPECT_EQ(try_parse(bytes, end_of_last).status, Status::Ok);
}

TEST(GgufReader, WrongMagic) {
  auto bytes = valid_file();
  bytes[0] = 'X';
  EXPECT_BAD(bytes, "not a GGUF file");
}

TEST(GgufReader, WrongVersion) {
  auto bytes = valid_file();
  bytes[4] = 0;
  EXPECT_BAD(bytes, "invalid version 0");
  bytes[4] = 1;
  EXPECT_EQ(try_parse(bytes).status, Status::Unsupported);
  bytes[4] = 4;
  const auto r = try_parse(bytes);
  EXPECT_EQ(r.status, Status::Unsupported);
  EXPECT_NE(r.message.find("version 4"), std::string::npos) << r.message;
  bytes[4] = 0;
  bytes[7] = 3;  // big-endian 3
  EXPECT_EQ(try_parse(bytes).status, Status::Unsupported);
  bytes[4] = 0x55;
  bytes[7] = 0x77;
  EXPECT_BAD(bytes, "invalid version");
}

TEST(GgufReader, AbsurdKvCount) {
  GgufBytes b;
  b.header(0, uint64_t(1) << 60).str("a").u32(4).u32(1);
  EXPECT_BAD(b.b, "metadata count at byte 16");
}

TEST(GgufReader, AbsurdTensorCount) {
  GgufBytes b;
  b.header(uint64_t(1) << 60, 0).tensor("t", {4}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(b.b, "tensor count at byte 8");
}

TEST(GgufReader, AbsurdStringLength) {
  GgufBytes key;  // key length 2^63
  key.header(0, 1).u64(uint64_t(1) << 63).u32(4).u32(1);
  EXPECT_BAD(key.b, "metadata key #0 at byte 24");
  GgufBytes value;  // string value length 2^63
  value.header(0, 1).str("s").u32(8).u64(uint64_t(1) << 63).zeros(16);
  EXPECT_BAD(value.b, "exceeds the limit");
  GgufBytes fits_cap;  // under the cap but past the end of the file
  fits_cap.header(0, 1).str("s").u32(8).u64(1000).zeros(16);
  EXPECT_BAD(fits_cap.b, "needs 1000 bytes but only 16 are left");
  GgufBytes name;
  name.header(1, 0).u64(uint64_t(1) << 63).zeros(64);
  EXPECT_BAD(name.b, "tensor #0 name");
}

TEST(GgufReader, AbsurdArrayLength) {
  for (uint32_t elem : {0u, 4u, 8u, 9u, 12u}) {
    GgufBytes b;
    b.header(0, 1).str("arr").u32(9).u32(elem).u64(uint64_t(1) << 62).zeros(64);
    EXPECT_BAD(b.b, "cannot fit in the 64 bytes left");
  }
  GgufBytes ok;  // the same layout with a length that fits parses
  ok.header(0, 1).str("arr").u32(9).u32(0).u64(64).zeros(64);
  EXPECT_EQ(try_parse(ok.b).status, Status::Ok);
}

TEST(GgufReader, AbsurdDims) {
  GgufBytes big;  // a dim above INT64_MAX
  big.header(1, 0).tensor("t", {uint64_t(1) << 63}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(big.b, "dimension 0 is 9223372036854775808");
  GgufBytes overflow;  // each dim fine, product overflows
  overflow.header(1, 0).tensor("t", {uint64_t(1) << 32, uint64_t(1) << 32}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(overflow.b, "element count overflows");
  GgufBytes bytes_overflow;  // element count fits int64, bytes (x4) do not fit u64
  bytes_overflow.header(1, 0).tensor("t", {uint64_t(1) << 31, uint64_t(1) << 31}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(bytes_overflow.b, "byte size overflows");
  GgufBytes zero;
  zero.header(1, 0).tensor("t", {4, 0}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(zero.b, "dimension 1 is 0");
  GgufBytes block;  // Q8_0 needs ne0 % 32 == 0
  block.header(1, 0).tensor("t", {33}, kQ8_0, 0).pad().zeros(64);
  EXPECT_BAD(block.b, "not a multiple of the q8_0 block size 32");
}

TEST(GgufReader, TooManyDims) {
  GgufBytes b;
  b.header(1, 0).tensor("t", {1, 1, 1, 1, 4}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(b.b, "n_dims 5 is not in 1..4");
  GgufBytes none;
  none.header(1, 0).tensor("t", {}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(none.b, "n_dims 0");
}

TEST(GgufReader, MisalignedTensorOffset) {
  GgufBytes b;
  b.header(1, 0).tensor("t", {4}, kF32, 4).pad().zeros(64);
  EXPECT_BAD(b.b, "data offset 4 is not a multiple of the alignment 32");
}

TEST(GgufReader, TensorPastEndOfFile) {
  GgufBytes b;
  b.header(2, 0).tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 32).pad().zeros(40);
  EXPECT_BAD(b.b, "tensor 'b' data [offset 32");
  GgufBytes huge_offset;  // offset near 2^64: data start + offset overflows
  huge_offset.header(1, 0).tensor("a", {8}, kF32, ~uint64_t(31)).pad().zeros(32);
  EXPECT_BAD(huge_offset.b, "runs past the end of the file");
}

TEST(GgufReader, OverlappingTensors) {
  GgufBytes b;
  b.header(2, 0).tensor("a", {16}, kF32, 0).tensor("b", {8}, kF32, 32).pad().zeros(96);
  EXPECT_BAD(b.b, "tensor 'a' data [file offset");
  EXPECT_BAD(b.b, "overlaps tensor 'b'");
  GgufBytes same;
  same.header(2, 0).tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 0).pad().zeros(32);
  EXPECT_BAD(same.b, "overlaps");
  GgufBytes ok;  // adjacent is fine
  ok.header(2, 0).tensor("a", {8}, kF32, 0).tensor("b", {8}, kF32, 32).pad().zeros(64);
  EXPECT_EQ(try_parse(ok.b).status, Status::Ok);
}

TEST(GgufReader, UnknownTypeIds) {
  GgufBytes tensor;
  tensor.header(1, 0).tensor("t", {4}, 99, 0).pad().zeros(32);
  EXPECT_BAD(tensor.b, "unknown tensor type id 99");
  GgufBytes removed;  // ids 4 and 5 (old Q4_2/Q4_3) are not defined any more
  removed.header(1, 0).tensor("t", {32}, 4, 0).pad().zeros(32);
  EXPECT_BAD(removed.b, "unknown tensor type id 4");
  GgufBytes value;
  value.header(0, 1).str("k").u32(99).u32(0);
  EXPECT_BAD(value.b, "unknown value type id 99");
  GgufBytes elem;
  elem.header(0, 1).str("k").u32(9).u32(13).u64(0);
  EXPECT_BAD(elem.b, "unknown value type id 13");
}

TEST(GgufReader, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u, 1u << 21}) {
    GgufBytes b;
    b.header(0, 1).str("general.alignment").u32(4).u32(a);
    EXPECT_BAD(b.b, "alignment " + std::to_string(a) + " is not a power of two");
  }
  GgufBytes wrong_type;
  wrong_type.header(0, 1).str("general.alignment").u32(5).u32(32);
  EXPECT_BAD(wrong_type.b, "has type i32, expected u32");
}

TEST(GgufReader, DuplicateKeysAndTensors) {
  GgufBytes keys;
  keys.header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2);
  EXPECT_BAD(keys.b, "metadata 'k' at byte 41: duplicate key");
  GgufBytes tensors;
  tensors.header(2, 0).tensor("t", {8}, kF32, 0).tensor("t", {8}, kF32, 32).pad().zeros(64);
  EXPECT_BAD(tensors.b, "duplicate tensor name");
}

TEST(GgufReader, NestingDepthAndBools) {
  // Arrays nested 8 deep parse; 9 deep do not.
  auto nested = [](int depth) {
    GgufBytes b;
    b.header(0, 1).str("n").u32(9);
    for (int i = 1; i < depth; ++i) b.u32(9).u64(1);
    return b.u32(0).u64(1).put<uint8_t>(7);
  };
  EXPECT_EQ(try_parse(nested(8).b).status, Status::Ok);
  EXPECT_BAD(nested(9).b, "arrays nest deeper than 8");
  GgufBytes bad_bool;
  bad_bool.header(0, 1).str("b").u32(7).put<uint8_t>(2);
  EXPECT_BAD(bad_bool.b, "bool value 2 is not 0 or 1");
  GgufBytes bad_bool_in_array;
  bad_bool_in_array.header(0, 1).str("b").u32(9).u32(7).u64(2).put<uint8_t>(1).put<uint8_t>(9);
  EXPECT_BAD(bad_bool_in_array.b, "bool value 9");
}

TEST(GgufReader, NoTensorsNoPadding) {
  GgufBytes b;  // a metadata-only file need not be padded
  b.header(0, 1).str("k").u32(8).str("v");
  const auto r = try_parse(b.b);
  EXPECT_EQ(r.status, Status::Ok) << r.message;
}

}  // namespace
}  // namespace tern

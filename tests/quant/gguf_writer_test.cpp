// GGUF writer: the streaming path writes the same bytes as the in-memory path, the layout
// follows llama.cpp (aligned offsets, every tensor padded), and misuse is refused.
#include "quant/gguf_writer.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "support/test_env.h"

namespace tern {
namespace {

std::vector<uint8_t> read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct T {
  std::string name;
  GgmlType type;
  std::vector<uint64_t> dims;
  std::vector<uint8_t> data;
};

std::vector<T> sample_tensors() {
  std::vector<T> ts = {{"x", GgmlType::F32, {5}, {}},
                       {"y", GgmlType::Q8_0, {32, 3}, {}},
                       {"z", GgmlType::Q4_0, {64}, {}}};
  for (auto& t : ts) {
    t.data.resize(*gguf_tensor_bytes(t.type, t.dims));
    for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = uint8_t(i * 13 + t.name[0]);
  }
  return ts;
}

TEST(GgufWriter, StreamingMatchesInMemory) {
  const auto ts = sample_tensors();
  GgufWriter mem;
  mem.set_string("general.architecture", "llama");
  mem.set_array("v", std::vector<std::string>{"a", "b"});
  for (const auto& t : ts) mem.add_tensor(t.name, t.type, t.dims, t.data.data(), t.data.size());
  const auto expect = mem.to_bytes();

  GgufWriter st;
  st.set_string("general.architecture", "llama");
  st.set_array("v", std::vector<std::string>{"a", "b"});
  for (const auto& t : ts) st.add_tensor_info(t.name, t.type, t.dims);
  const auto path = test::scratch_dir("gguf_writer") / "s.gguf";
  st.write_header(path.string());
  for (const auto& t : ts) st.write_tensor_data(t.name, t.data.data(), t.data.size());
  st.finish();
  EXPECT_EQ(read_all(path), expect);
  EXPECT_EQ(st.file_size(), expect.size());
}

TEST(GgufWriter, LayoutIsAlignedAndPadded) {
  const auto ts = sample_tensors();
  GgufWriter w;
  for (const auto& t : ts) w.add_tensor(t.name, t.type, t.dims, t.data.data(), t.data.size());
  EXPECT_EQ(w.tensor_offset("x"), 0u);
  EXPECT_EQ(w.tensor_offset("y"), 32u);   // 20 bytes padded to 32
  EXPECT_EQ(w.tensor_offset("z"), 32u + 128u);  // 102 bytes padded to 128
  const auto bytes = w.to_bytes();
  EXPECT_EQ(bytes.size(), w.header_size() + 32 + 128 + 64);  // the last tensor is padded too
  EXPECT_EQ(w.header_size() % 32, 0u);
  EXPECT_FALSE(w.has_key("general.alignment"));  // default alignment is implied
}

TEST(GgufWriter, ReplacingAKeyKeepsItsPlace) {
  GgufWriter w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_string("a", "now a string");
  const auto bytes = w.to_bytes();
  auto f = GgufFile::from_memory(bytes.data(), bytes.size());
  ASSERT_EQ(f->kv_count(), 2u);
  EXPECT_EQ(f->kvs()[0].key, "a");
  EXPECT_EQ(f->get_string("a"), "now a string");
}

Status status_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.status();
  }
  return Status::Ok;
}

TEST(GgufWriter, RefusesMisuse) {
  std::vector<uint8_t> buf(1024);
  GgufWriter w;
  EXPECT_EQ(status_of([&] { w.add_tensor("q", GgmlType::Q8_0, {33}, buf.data(), 34); }),
            Status::InvalidArgument);  // ne0 not a block multiple
  EXPECT_EQ(status_of([&] { w.add_tensor("f", GgmlType::F32, {4}, buf.data(), 15); }),
            Status::InvalidArgument);  // wrong byte count
  EXPECT_EQ(status_of([&] { w.add_tensor("f", GgmlType::F32, {4, 0}, buf.data(), 0); }),
            Status::InvalidArgument);  // zero dim
  EXPECT_EQ(status_of([&] { w.add_tensor("f", GgmlType::F32, {1, 1, 1, 1, 1}, buf.data(), 4); }),
            Status::InvalidArgument);  // 5 dims
  EXPECT_EQ(status_of([&] { w.add_tensor(std::string(64, 'n'), GgmlType::F32, {1}, buf.data(), 4); }),
            Status::InvalidArgument);  // name too long for llama.cpp
  EXPECT_EQ(status_of([&] { w.set_alignment(3); }), Status::InvalidArgument);
  w.add_tensor("ok", GgmlType::F32, {4}, buf.data(), 16);
  EXPECT_EQ(status_of([&] { w.add_tensor("ok", GgmlType::F32, {4}, buf.data(), 16); }),
            Status::InvalidArgument);  // duplicate
  EXPECT_EQ(status_of([&] { w.set_alignment(64); }), Status::InvalidArgument);  // after tensors

  GgufWriter s;
  s.add_tensor_info("a", GgmlType::F32, {4});
  s.add_tensor_info("b", GgmlType::F32, {4});
  EXPECT_EQ(status_of([&] { s.to_bytes(); }), Status::InvalidArgument);  // no data
  EXPECT_EQ(status_of([&] { s.write_tensor_data("a", buf.data(), 16); }), Status::InvalidArgument);
  const auto path = test::scratch_dir("gguf_writer_misuse") / "s.gguf";
  s.write_header(path.string());
  EXPECT_EQ(status_of([&] { s.set_u32("late", 1); }), Status::InvalidArgument);
  EXPECT_EQ(status_of([&] { s.write_tensor_data("b", buf.data(), 16); }), Status::InvalidArgument);
  EXPECT_EQ(status_of([&] { s.write_tensor_data("a", buf.data(), 8); }), Status::InvalidArgument);
  s.write_tensor_data("a", buf.data(), 16);
  EXPECT_EQ(status_of([&] { s.finish(); }), Status::InvalidArgument);  // "b" missing

  GgufWriter io;
  EXPECT_EQ(status_of([&] { io.write("/nonexistent/dir/x.gguf"); }), Status::Io);
}

}  // namespace
}  // namespace tern

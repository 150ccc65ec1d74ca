#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "common/error.h"
#include "ops/kv_store.h"
#include "ref/kv_store.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct KvStoreCase {
  uint32_t row_elems, first_slot, n_tok;
  uint32_t ref_offset;  // byte offset of the layer's cache inside the buffer
};

// Values over the whole f16 range and beyond: normals, subnormals, exact ties, overflow,
// infinities and NaN, so the shader's rounding is checked bit for bit.
std::vector<float> tricky_floats(size_t n, uint32_t seed) {
  std::vector<float> v = {0.f, -0.f, 1.f, 65504.f, 65519.f, 65520.f, 1e6f, -1e6f,
                          std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(), 5.96e-8f, 2.98e-8f, 2.99e-8f, 1e-9f, 6.1e-5f,
                          1.f + 1.f / 2048.f, 1.f + 3.f / 2048.f, 6.0975552e-05f, -3.0e-6f};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> expo(-28.f, 17.f), mant(1.f, 2.f);
  std::uniform_int_distribution<int> sign(0, 1);
  while (v.size() < n) v.push_back((sign(rng) ? -1.f : 1.f) * mant(rng) * std::exp2(expo(rng)));
  v.resize(n);
  return v;
}

}  // namespace

class KvStoreTest : public GpuTest, public ::testing::WithParamInterface<KvStoreCase> {};

TEST_P(KvStoreTest, BitExactAndTouchesOnlyItsSlots) {
  const KvStoreCase c = GetParam();
  const uint32_t slots = c.first_slot + c.n_tok + 3;  // poisoned slots after the written ones
  const size_t cache_elems = size_t(slots) * c.row_elems;
  auto src = tricky_floats(size_t(c.n_tok) * c.row_elems, c.row_elems * 31 + c.n_tok);

  std::vector<uint16_t> want(cache_elems, 0xffff);
  ref::kv_store(src.data(), want.data(), c.first_slot, c.n_tok, c.row_elems);

  auto gsrc = upload(src);
  auto gcache = poisoned(c.ref_offset + cache_elems * 2);
  rec().begin();
  ops::kv_store(rec(), gsrc, gpu::BufferRef(gcache, c.ref_offset, cache_elems * 2), c.first_slot, c.n_tok,
                c.row_elems);
  rec().submit_and_wait();
  auto all = download<uint16_t>(gcache, (c.ref_offset + cache_elems * 2) / 2);
  for (uint32_t i = 0; i < c.ref_offset / 2; ++i) ASSERT_EQ(all[i], 0xffff) << "wrote before the cache at " << i;
  size_t mismatches = 0;
  for (size_t i = 0; i < cache_elems; ++i) {
    const uint16_t got = all[c.ref_offset / 2 + i];
    if (got != want[i] && mismatches++ < 10)
      ADD_FAILURE() << "element " << i << " (slot " << i / c.row_elems << "): got 0x" << std::hex << got
                    << " want 0x" << want[i];
  }
  EXPECT_EQ(mismatches, 0u);
  record_error("kv_store", double(mismatches));
}

// An f32 cache holds the rows unchanged: every bit, NaN and subnormals included.
TEST_P(KvStoreTest, F32CacheCopiesBitsAndTouchesOnlyItsSlots) {
  const KvStoreCase c = GetParam();
  const uint32_t slots = c.first_slot + c.n_tok + 3;
  const size_t cache_elems = size_t(slots) * c.row_elems;
  auto src = tricky_floats(size_t(c.n_tok) * c.row_elems, c.row_elems * 37 + c.n_tok);

  std::vector<float> want(cache_elems);
  std::memset(want.data(), 0xff, want.size() * 4);  // the fixture's poison pattern
  ref::kv_store(src.data(), want.data(), c.first_slot, c.n_tok, c.row_elems);

  auto gsrc = upload(src);
  auto gcache = poisoned(c.ref_offset + cache_elems * 4);
  rec().begin();
  ops::kv_store(rec(), gsrc, gpu::BufferRef(gcache, c.ref_offset, cache_elems * 4), c.first_slot, c.n_tok,
                c.row_elems, GgmlType::F32);
  rec().submit_and_wait();
  auto all = download<uint32_t>(gcache, (c.ref_offset + cache_elems * 4) / 4);
  for (uint32_t i = 0; i < c.ref_offset / 4; ++i) ASSERT_EQ(all[i], 0xffffffffu) << "wrote before the cache at " << i;
  size_t mismatches = 0;
  for (size_t i = 0; i < cache_elems; ++i) {
    uint32_t w;
    std::memcpy(&w, &want[i], 4);
    const uint32_t got = all[c.ref_offset / 4 + i];
    if (got != w && mismatches++ < 10)
      ADD_FAILURE() << "element " << i << " (slot " << i / c.row_elems << "): got 0x" << std::hex << got << " want 0x"
                    << w;
  }
  EXPECT_EQ(mismatches, 0u);
  record_error("kv_store/f32", double(mismatches));
}

// Finite values for q8_0: each block at its own scale (2^-20 .. 2^10), plus blocks that hit
// rounding ties (amax 127 so d = 1 and x.5 values), an all-zero block and a one-hot block.
std::vector<float> q8_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f), expo(-20.f, 10.f);
  std::vector<float> v(n);
  for (size_t b = 0; b < n / 32; ++b) {
    float* x = v.data() + b * 32;
    switch (b % 7) {
      case 3:  // ties: d = 1, x * id lands on k + 0.5
        for (int j = 0; j < 32; ++j) x[j] = float(j % 2 ? -1 : 1) * (float(j) + 0.5f);
        x[31] = 127.f;
        break;
      case 5:
        for (int j = 0; j < 32; ++j) x[j] = 0.f;
        break;
      case 6:
        for (int j = 0; j < 32; ++j) x[j] = 0.f;
        x[b % 32] = -3.25f;
        break;
      default: {
        const float scale = std::exp2(expo(rng));
        for (int j = 0; j < 32; ++j) x[j] = u(rng) * scale;
      }
    }
  }
  return v;
}

// A q8_0 cache: rows of ops::kv_row_bytes (blocks then zero padding), bit-exact with the
// reference quantizer, other slots and bytes before the cache untouched.
TEST_P(KvStoreTest, Q8CacheBitExactAndTouchesOnlyItsSlots) {
  const KvStoreCase c = GetParam();
  const uint32_t row_elems = (c.row_elems + 31) / 32 * 32;
  const uint64_t row_bytes = ops::kv_row_bytes(GgmlType::Q8_0, row_elems);
  ASSERT_EQ(row_bytes % 16, 0u);
  const uint32_t slots = c.first_slot + c.n_tok + 3;
  const size_t cache_bytes = slots * row_bytes;
  auto src = q8_floats(size_t(c.n_tok) * row_elems, row_elems * 41 + c.n_tok);

  std::vector<uint8_t> want(cache_bytes, 0xff);
  ref::kv_store_q8_0(src.data(), want.data(), row_bytes, c.first_slot, c.n_tok, row_elems);

  auto gsrc = upload(src);
  auto gcache = poisoned(c.ref_offset + cache_bytes);
  rec().begin();
  ops::kv_store(rec(), gsrc, gpu::BufferRef(gcache, c.ref_offset, cache_bytes), c.first_slot, c.n_tok, row_elems,
                GgmlType::Q8_0);
  rec().submit_and_wait();
  auto all = download<uint8_t>(gcache, c.ref_offset + cache_bytes);
  for (uint32_t i = 0; i < c.ref_offset; ++i) ASSERT_EQ(all[i], 0xff) << "wrote before the cache at " << i;
  size_t mismatches = 0;
  for (size_t i = 0; i < cache_bytes; ++i) {
    const uint8_t got = all[c.ref_offset + i];
    if (got != want[i] && mismatches++ < 10)
      ADD_FAILURE() << "byte " << i << " (slot " << i / row_bytes << ", byte " << i % row_bytes << "): got 0x"
                    << std::hex << int(got) << " want 0x" << int(want[i]);
  }
  EXPECT_EQ(mismatches, 0u);
  record_error("kv_store/q8_0", double(mismatches));
}

class KvStoreArgs : public GpuTest {};

TEST_F(KvStoreArgs, Q8RowBytesArePaddedBlocks) {
  EXPECT_EQ(ops::kv_row_bytes(GgmlType::Q8_0, 32), 48u);      // 34 -> 48
  EXPECT_EQ(ops::kv_row_bytes(GgmlType::Q8_0, 1024), 1088u);  // 32 blocks: 1088, already aligned
  EXPECT_EQ(ops::kv_row_bytes(GgmlType::Q8_0, 160), 176u);
  EXPECT_EQ(ops::kv_row_bytes(GgmlType::F16, 160), 320u);
  EXPECT_EQ(ops::kv_row_bytes(GgmlType::F32, 6), 24u);
  EXPECT_EQ(ops::kv_row_bytes(GgmlType::Q8_0, 64), 80u);      // 4 heads of 16: 68 -> 80
  EXPECT_THROW(ops::kv_row_bytes(GgmlType::Q8_0, 40), Error);  // not whole blocks
  EXPECT_THROW(ops::kv_row_bytes(GgmlType::Q8_0, 24), Error);  // 3 heads of 8
  EXPECT_THROW(ops::kv_row_bytes(GgmlType::Q4_0, 64), Error);
}

TEST_F(KvStoreArgs, RejectsOtherCacheTypesAndCountsF32RowBytes) {
  auto b = poisoned(1024);
  rec().begin();
  EXPECT_THROW(ops::kv_store(rec(), b, b, 0, 1, 8, GgmlType::Q8_0), Error);  // 8 elements: not a q8_0 block
  EXPECT_THROW(ops::kv_store(rec(), b, b, 0, 1, 32, GgmlType::Q4_0), Error);
  EXPECT_NO_THROW(ops::kv_store(rec(), b, b, 40, 1, 8, GgmlType::F16));  // 16-byte rows: slot 40 ends at 656
  EXPECT_THROW(ops::kv_store(rec(), b, b, 40, 1, 8, GgmlType::F32), Error);  // 32-byte rows: past the end
  rec().submit_and_wait();
}

INSTANTIATE_TEST_SUITE_P(Shapes, KvStoreTest,
                         ::testing::Values(KvStoreCase{512, 0, 1, 0}, KvStoreCase{512, 5, 13, 0},
                                           KvStoreCase{160, 17, 300, 0}, KvStoreCase{6, 3, 127, 0},
                                           KvStoreCase{1024, 1, 7, 4}, KvStoreCase{2, 0, 1000, 8},
                                           KvStoreCase{4096, 2, 3, 0}, KvStoreCase{2080, 0, 5, 16},
                                           // stories260K / TinyStories-656K KV rows (4 kv heads of 8 / 16)
                                           KvStoreCase{32, 3, 300, 0}, KvStoreCase{64, 0, 13, 4}),
                         [](const auto& test_info) {
                           const KvStoreCase& c = test_info.param;
                           return "row" + std::to_string(c.row_elems) + "_slot" + std::to_string(c.first_slot) +
                                  "_tok" + std::to_string(c.n_tok) + "_off" + std::to_string(c.ref_offset);
                         });

}  // namespace tern::test

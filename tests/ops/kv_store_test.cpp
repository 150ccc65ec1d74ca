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

class KvStoreArgs : public GpuTest {};

TEST_F(KvStoreArgs, RejectsOtherCacheTypesAndCountsF32RowBytes) {
  auto b = poisoned(1024);
  rec().begin();
  EXPECT_THROW(ops::kv_store(rec(), b, b, 0, 1, 8, GgmlType::Q8_0), Error);
  EXPECT_NO_THROW(ops::kv_store(rec(), b, b, 40, 1, 8, GgmlType::F16));  // 16-byte rows: slot 40 ends at 656
  EXPECT_THROW(ops::kv_store(rec(), b, b, 40, 1, 8, GgmlType::F32), Error);  // 32-byte rows: past the end
  rec().submit_and_wait();
}

INSTANTIATE_TEST_SUITE_P(Shapes, KvStoreTest,
                         ::testing::Values(KvStoreCase{512, 0, 1, 0}, KvStoreCase{512, 5, 13, 0},
                                           KvStoreCase{160, 17, 300, 0}, KvStoreCase{6, 3, 127, 0},
                                           KvStoreCase{1024, 1, 7, 4}, KvStoreCase{2, 0, 1000, 8}),
                         [](const auto& test_info) {
                           const KvStoreCase& c = test_info.param;
                           return "row" + std::to_string(c.row_elems) + "_slot" + std::to_string(c.first_slot) +
                                  "_tok" + std::to_string(c.n_tok) + "_off" + std::to_string(c.ref_offset);
                         });

}  // namespace tern::test

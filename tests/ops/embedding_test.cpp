#include <cstring>
#include <random>
#include <string>

#include "ops/embedding.h"
#include "quant/quantize.h"
#include "ref/embedding.h"
#include "ref/scale.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

struct Case {
  GgmlType type;
  uint32_t rows, cols, n_ids;
  bool split = false;         // bind the table in many small row ranges
  bool out_of_range = false;  // include ids outside the table (clamped)
  float scale = 1.f;          // Gemma's embedding scale: the bits of ref::scale after the lookup
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  return std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_n" +
         std::to_string(c.n_ids) + (c.split ? "_split" : "") + (c.out_of_range ? "_clamped" : "") +
         (c.scale != 1.f ? "_scaled" : "");
}

class EmbeddingTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(EmbeddingTest, BitExact) {
  const Case c = GetParam();
  const auto f = random_floats(size_t(c.rows) * c.cols, 21 + c.rows);
  const uint64_t rb = ggml_row_bytes(c.type, c.cols);
  std::vector<uint8_t> table((c.rows * rb + 3) / 4 * 4, 0);  // padded to whole words
  for (uint32_t r = 0; r < c.rows; ++r)
    quant::quantize_row(c.type, f.data() + size_t(r) * c.cols, table.data() + r * rb, c.cols);
  std::mt19937 rng(c.n_ids);
  std::uniform_int_distribution<int32_t> pick(c.out_of_range ? -5 : 0, int32_t(c.rows) - 1 + (c.out_of_range ? 5 : 0));
  std::vector<int32_t> ids(c.n_ids);
  for (auto& id : ids) id = pick(rng);
  if (c.out_of_range) ids[0] = -2147483647 - 1, ids[c.n_ids - 1] = 2147483647;

  std::vector<float> want(size_t(c.n_ids) * c.cols);
  ref::embedding(c.type, table.data(), c.rows, c.cols, ids.data(), c.n_ids, want.data());
  if (c.scale != 1.f) ref::scale(want.data(), want.data(), want.size(), c.scale);
  auto gt = upload(table), gi = upload(ids);
  auto gy = poisoned(want.size() * 4);
  rec().begin();
  ops::embedding(rec(), {gt, c.type, c.rows, c.cols}, gi, gy, c.n_ids, c.scale, c.split ? 8192 : 0);
  rec().submit_and_wait();
  const auto got = download<float>(gy, want.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < want.size(); ++i) mismatches += std::memcmp(&want[i], &got[i], 4) != 0;
  record_error("embedding/" + std::string(ggml_type_name(c.type)), rel_l2(want, got));
  EXPECT_EQ(mismatches, 0u) << "of " << want.size() << " elements";
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    v.push_back({t, 1, 256, 1});
    v.push_back({t, 13, 512, 7});
    v.push_back({t, 300, 256, 129});
    v.push_back({t, 127, 512, 64, true});
    v.push_back({t, 13, 256, 9, false, true});
    v.push_back({t, 29, 1280, 17, false, false, 33.941125f});  // Gemma-3-1B's sqrt(1152)
    if (t == GgmlType::F32 || t == GgmlType::F16) {  // widths not a multiple of 8, odd for F16
      v.push_back({t, 13, 37, 5});
      v.push_back({t, 29, 37, 11, true});
    }
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, EmbeddingTest, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace tern::test

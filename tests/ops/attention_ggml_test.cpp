// The llama.cpp-numerics variants of both attention kernels (AttentionParams::ggml_numerics)
// against ref::attention_ggml, at decode and prefill shapes with odd sizes, grouped-query heads,
// a cache longer than n_kv (filled with NaN, so a read past the last key poisons the result),
// and more keys than one split chunk holds. Scores, softmax and the f16 probabilities follow the
// reference's roundings (exact dots, exp_rn, correctly rounded 1 / sum); only the V sums run in
// another order than its 4 x 8 fp32 lanes, which costs a few 1e-7.
#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "common/fp16.h"
#include "ops/attention.h"
#include "ref/attention.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

using ops::AttentionKernel;

struct Problem {
  uint32_t n_q, n_kv, n_head, n_head_kv, head_dim;
  AttentionKernel kernel;
};

std::string problem_name(const ::testing::TestParamInfo<Problem>& i) {
  const Problem& p = i.param;
  return std::string(p.kernel == AttentionKernel::Split ? "split" : "tiled") + "_q" + std::to_string(p.n_q) + "_kv" +
         std::to_string(p.n_kv) + "_h" + std::to_string(p.n_head) + "x" + std::to_string(p.n_head_kv) + "_d" +
         std::to_string(p.head_dim);
}

class AttentionGgmlTest : public GpuTest, public ::testing::WithParamInterface<Problem> {};

TEST_P(AttentionGgmlTest, MatchesReference) {
  const Problem pr = GetParam();
  const uint32_t hd = pr.head_dim;
  const size_t kv_row = size_t(pr.n_head_kv) * hd, slots = size_t(pr.n_kv) + 3;
  const uint32_t seed = 900 + pr.n_kv + pr.n_q;
  const auto q = random_floats(size_t(pr.n_q) * pr.n_head * hd, seed, -4.f, 4.f);
  const auto kf = random_floats(pr.n_kv * kv_row, seed + 1, -2.f, 2.f);
  const auto vf = random_floats(pr.n_kv * kv_row, seed + 2);
  std::vector<uint16_t> k(slots * kv_row, 0xffff), v(slots * kv_row, 0xffff);  // NaN past n_kv
  for (size_t i = 0; i < kf.size(); ++i) {
    k[i] = fp32_to_fp16(kf[i]);
    v[i] = fp32_to_fp16(vf[i]);
  }
  const uint32_t q_pos0 = pr.n_kv - pr.n_q;  // the batch is the newest n_q entries
  const ref::AttentionShape shape{pr.n_q, pr.n_kv, pr.n_head, pr.n_head_kv, hd, 1.f / std::sqrt(float(hd)), q_pos0};
  std::vector<float> want(q.size());
  ref::attention_ggml(shape, q.data(), k.data(), v.data(), want.data());

  ops::AttentionParams p;
  p.n_q = pr.n_q;
  p.n_kv = pr.n_kv;
  p.n_head = pr.n_head;
  p.n_head_kv = pr.n_head_kv;
  p.head_dim = hd;
  p.kernel = pr.kernel;
  p.ggml_numerics = true;
  EXPECT_EQ(ops::attention_scratch_bytes(p), 0u);
  auto gq = upload(q), gk = upload(k), gv = upload(v);
  auto gout = poisoned(q.size() * 4);
  rec().begin();
  ops::attention(rec(), p, gq, gk, gv, gout, gpu::BufferRef());
  rec().submit_and_wait();
  const auto got = download<float>(gout, q.size());
  const double err = rel_l2(want, got);
  size_t differ = 0;
  for (size_t i = 0; i < got.size(); ++i) differ += got[i] != want[i];
  record_error(std::string("attention_ggml/") + (pr.kernel == AttentionKernel::Split ? "split" : "tiled"), err);
  EXPECT_LT(err, 2e-6) << differ << " of " << got.size() << " outputs differ; max abs " << max_abs_diff(want, got);
}

std::vector<Problem> problems() {
  std::vector<Problem> out;
  for (AttentionKernel kern : {AttentionKernel::Split, AttentionKernel::Tiled})
    for (Problem p : {Problem{1, 1, 1, 1, 2}, Problem{1, 37, 8, 4, 16}, Problem{1, 300, 8, 4, 16},
                      Problem{3, 61, 4, 2, 64}, Problem{8, 513, 8, 2, 32}, Problem{1, 700, 2, 1, 128},
                      Problem{5, 33, 6, 3, 10}, Problem{37, 37, 8, 4, 16}, Problem{70, 200, 4, 4, 64},
                      Problem{19, 40, 2, 1, 256}})
      out.push_back({p.n_q, p.n_kv, p.n_head, p.n_head_kv, p.head_dim, kern});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Problems, AttentionGgmlTest, ::testing::ValuesIn(problems()), problem_name);

class AttentionGgmlArgs : public GpuTest {};

TEST_F(AttentionGgmlArgs, NeedsF16CacheAndTheCausalRule) {
  ops::AttentionParams p;
  p.n_q = 1;
  p.n_kv = 4;
  p.head_dim = 8;
  p.ggml_numerics = true;
  auto q = poisoned(8 * 4), k = poisoned(4 * 8 * 4), v = poisoned(4 * 8 * 4), out = poisoned(8 * 4);
  auto scratch = poisoned(4096);
  rec().begin();
  p.kv_type = GgmlType::F32;
  EXPECT_THROW(ops::attention(rec(), p, q, k, v, out, scratch), Error);
  p.kv_type = GgmlType::F16;
  p.v_type = GgmlType::Q8_0;
  EXPECT_THROW(ops::attention(rec(), p, q, k, v, out, scratch), Error);
  p.v_type = std::nullopt;  // f16 K and V: the causal rule only, no positions
  const ops::AttentionPositions pos{scratch, scratch};
  EXPECT_THROW(ops::attention(rec(), p, q, k, v, out, scratch, &pos), Error);
  EXPECT_NO_THROW(ops::attention(rec(), p, q, k, v, out, scratch));
  rec().submit_and_wait();
}

}  // namespace
}  // namespace tern::test

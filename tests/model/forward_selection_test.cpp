// Forward::run's GPU selection on several logit rows at once (a prefill step with every row's
// logits): the argmax and the best k of each row equal the CPU references over the logits the
// same step leaves on the device, and selecting changes no logit. A head run in pieces (the
// logits of a step not fitting one binding) gives the same bits as one run whole.
#include <cstring>

#include "common/error.h"
#include "model/forward.h"
#include "ref/argmax.h"
#include "ref/top_k.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

class ForwardSelection : public GpuTest {};

TEST_F(ForwardSelection, EveryLogitRow) {
  for (const char* name : {"test-tiny", "test-wide-vocab"}) {
    auto model = load_test_model(synthetic_gguf(name, GgmlType::Q8_0));
    const uint32_t n_vocab = model->config().n_vocab, rows = 5;
    KvCache kv(model->device(), model->config().n_layer, 16, model->config().kv_dim());
    Forward fwd(model, kv, 8);
    const std::vector<int32_t> prompt = {1, 7, 200, 13, 2};
    const KvStep step = dense_step(0, rows);
    std::vector<float> plain;
    fwd.run(step, prompt, LogitRows::All, plain);
    ASSERT_EQ(plain.size(), size_t(rows) * n_vocab);
    for (uint32_t k : {1u, 40u, ops::k_top_k_max}) {
      fwd.run(step, prompt, LogitRows::All, k);
      std::vector<float> logits;
      fwd.read_logits(logits);
      ASSERT_EQ(logits.size(), plain.size());
      EXPECT_EQ(std::memcmp(logits.data(), plain.data(), plain.size() * 4), 0) << name << " k " << k;
      const auto& got = fwd.selected();
      ASSERT_EQ(got.size(), size_t(rows) * k) << name;
      std::vector<int32_t> ids(size_t(rows) * k);
      std::vector<float> values(ids.size());
      if (k == 1)
        ref::argmax(logits.data(), ids.data(), rows, n_vocab);
      else
        ref::top_k(logits.data(), rows, n_vocab, k, ids.data(), values.data());
      for (size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(got[i].id, ids[i]) << name << " k " << k << " entry " << i;
        if (k > 1) {
          EXPECT_EQ(std::memcmp(&got[i].logit, &values[i], 4), 0) << name << " k " << k << " entry " << i;
        }
      }
    }
    fwd.run(step, prompt, LogitRows::All, 0);
    EXPECT_TRUE(fwd.selected().empty());
  }
}

// Qwen2's vocabulary at 23 rows is 14 MB of logits; capped at 4 rows' worth per binding the
// head runs in pieces (maxStorageBufferRange is 128 MiB on lavapipe: ~220 such rows).
TEST_F(ForwardSelection, HeadInPiecesEqualsWhole) {
  auto model = load_test_model(synthetic_gguf("test-wide-vocab", GgmlType::Q8_0));
  const uint32_t n_vocab = model->config().n_vocab, rows = 23;
  KvCache kv(model->device(), model->config().n_layer, 32, model->config().kv_dim());
  std::vector<int32_t> prompt(rows);
  for (uint32_t i = 0; i < rows; ++i) prompt[i] = int32_t((i * 7919u + 3) % n_vocab);
  const KvStep step = dense_step(0, rows);
  for (uint32_t k : {0u, 1u, 40u}) {
    Forward whole(model, kv, 32), pieces(model, kv, 32);
    pieces.set_max_logits_binding(uint64_t(4) * n_vocab * 4 + 100);
    std::vector<float> a, b;
    whole.run(step, prompt, LogitRows::All, k);
    pieces.run(step, prompt, LogitRows::All, k);
    whole.read_logits(a);
    pieces.read_logits(b);
    ASSERT_EQ(a.size(), size_t(rows) * n_vocab);
    ASSERT_EQ(b.size(), a.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "k " << k;
    ASSERT_EQ(whole.selected().size(), size_t(rows) * k);
    ASSERT_EQ(pieces.selected().size(), whole.selected().size());
    for (size_t i = 0; i < whole.selected().size(); ++i) {
      EXPECT_EQ(pieces.selected()[i].id, whole.selected()[i].id) << "k " << k << " entry " << i;
      if (k > 1) {
        EXPECT_EQ(pieces.selected()[i].logit, whole.selected()[i].logit) << "k " << k << " entry " << i;
      }
    }
    pieces.set_max_logits_binding(n_vocab * 4 - 1);  // not one row: a clear error
    EXPECT_THROW(pieces.run(step, prompt, LogitRows::All, k), tern::Error);
    pieces.set_max_logits_binding(UINT64_MAX);  // and the Forward still works after it
    pieces.run(step, prompt, LogitRows::All, k);
    pieces.read_logits(b);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "k " << k;
  }
}

}  // namespace
}  // namespace tern::test

// Saved context states carry a model fingerprint: a state from one model is refused by a
// context of another, and a restored context continues exactly where the saved one was.
#include "api/context.h"

#include "common/error.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"

namespace tern::test {
namespace {

class ContextState : public GpuTest {};

TEST_F(ContextState, StateFromAnotherModelIsRefused) {
  auto a = load_test_model(synthetic_gguf("test-tiny", GgmlType::F32));
  auto b = load_test_model(synthetic_gguf("test-tiny", GgmlType::Q8_0));  // same shapes, other weights
  ContextParams p;
  p.kv.n_ctx = 32;
  Context ca(a, p), cb(b, p);
  const std::vector<int32_t> prompt = {1, 5, 9, 42, 7};
  ca.eval(prompt);
  const auto state = ca.save_state();
  try {
    cb.load_state(state);
    FAIL() << "expected StateMismatch";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::StateMismatch);
  }
  // The same model accepts it and continues with identical logits.
  Context cc(a, p);
  cc.load_state(state);
  const int32_t next = 11;
  ca.eval(std::span<const int32_t>(&next, 1));
  cc.eval(std::span<const int32_t>(&next, 1));
  EXPECT_EQ(std::vector<float>(ca.logits().begin(), ca.logits().end()),
            std::vector<float>(cc.logits().begin(), cc.logits().end()));
}

}  // namespace
}  // namespace tern::test

// Tern against its second, independent reference: the PyTorch model and KV policy simulation of
// tools/beacon-train (see its README), on the trained beacon models committed under
// models/beacons/ (stories260K's, TinyStories-656K's and the long-range model's) and on the
// long-range model itself (models/longrange/). The golden files
// (tests/kv/golden/*.json, written by `beacon-train golden`) hold a token stream and, per policy, the log-likelihood of every next token computed token by
// token with an f32 cache. Tern must match each within 1e-3, in decode steps, in prefill steps
// (dense and the chunked beacon mode, whose steps are exact) and across beacon chunks and window
// slides. CI needs no PyTorch: only these files.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/context.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

class BeaconGolden : public GpuTest, public ::testing::WithParamInterface<const char*> {};

double log_prob(std::span<const float> logits, int32_t token) {
  double mx = -INFINITY, sum = 0;
  for (float x : logits) mx = std::max(mx, double(x));
  for (float x : logits) sum += std::exp(double(x) - mx);
  return double(logits[size_t(token)]) - mx - std::log(sum);
}

KvPolicyKind kind_of(const std::string& k) {
  if (k == "dense") return KvPolicyKind::Dense;
  if (k == "window") return KvPolicyKind::SinksWindow;
  if (k == "beacon") return KvPolicyKind::Beacon;
  if (k == "sliding") return KvPolicyKind::BeaconSliding;
  throw std::runtime_error("golden file: unknown policy kind " + k);
}

TEST_P(BeaconGolden, PerTokenLogLikelihoodsMatchPyTorch) {
  const auto golden_path = source_file(std::string("tests/kv/golden/") + GetParam());
  std::ifstream in(golden_path);
  ASSERT_TRUE(in) << golden_path;
  const nlohmann::json doc = nlohmann::json::parse(in);
  const auto model_path = source_file(doc.at("model").get<std::string>());
  ASSERT_TRUE(std::filesystem::exists(model_path)) << model_path;
  auto model = load_test_model(model_path);
  const std::vector<int32_t> tokens = doc.at("tokens").get<std::vector<int32_t>>();
  const ModelConfig& c = model->config();
  for (const auto& run : doc.at("runs")) {
    const std::string spec = run.at("spec");
    const std::vector<double> want = run.at("loglik").get<std::vector<double>>();
    ASSERT_EQ(want.size() + 1, tokens.size());
    const KvPolicyKind kind = kind_of(run.at("kind"));
    const uint32_t slots = run.at("slots");
    ContextParams p;
    p.kv.kind = kind;
    p.kv_type = GgmlType::F32;
    p.kv.sinks = run.at("sinks");
    p.kv.beacon_window = run.at("window");
    p.kv.beacon_ratio = run.at("ratio");
    if (kind == KvPolicyKind::Dense) p.kv.n_ctx = slots;
    else if (kind == KvPolicyKind::SinksWindow) p.kv.window = slots;
    else p.kv.budget_bytes = uint64_t(slots) * KvCache::slot_bytes(c.n_layer, c.kv_dim(), GgmlType::F32);
    // Steps of many tokens are exact for dense and the chunked beacon mode: prefill 37 tokens
    // (across a chunk boundary for chunks under 37), then decode one token at a time.
    const size_t prefill = kind == KvPolicyKind::Dense || kind == KvPolicyKind::Beacon ? 37 : 1;
    p.n_batch = uint32_t(prefill);
    Context ctx(model, p);
    ASSERT_EQ(ctx.kv_config().slots, slots) << spec;
    double worst = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i + 1 < tokens.size();) {
      const size_t n = i == 0 ? prefill : 1;
      ctx.eval(std::span<const int32_t>(tokens.data() + i, n));
      i += n;
      const double got = log_prob(ctx.logits(), tokens[i]);
      const double e = std::abs(got - want[i - 1]);
      if (e > worst) {
        worst = e;
        worst_at = i - 1;
      }
      ASSERT_LT(e, 1e-3) << spec << " at " << slots << " slots, token " << i - 1 << ": Tern " << got << ", PyTorch "
                         << want[i - 1];
    }
    std::printf("%-22s %4u slots: worst |log p| difference %.2e (token %zu)\n", spec.c_str(), slots, worst, worst_at);
    record_error("beacon_golden/" + std::string(GetParam()) + "/" + spec + "@" + std::to_string(slots), worst);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, BeaconGolden,
                         ::testing::Values("stories260k-sliding.json", "stories260k-beacon.json",
                                           "tinystories656k-sliding.json", "tinystories656k-beacon.json",
                                           "longrange.json", "longrange-sliding.json", "longrange-beacon.json"),
                         [](const auto& param_info) {
                           std::string s = param_info.param;
                           s = s.substr(0, s.find('.'));
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

}  // namespace
}  // namespace tern::test

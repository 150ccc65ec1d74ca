// KV policies on the GPU (tern::Context) against the plain list-based reference
// (runtime/ref/kv_streaming) and against each other: identical logits while the text fits,
// the reference's numbers after eviction and across beacon chunks (prefill batches and
// decoding), beacon projections when a model has them, constant memory over 20K tokens, and
// saved states.
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "api/context.h"
#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "model/model.h"
#include "ref/kv_streaming.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

class KvStreamingTest : public GpuTest {};

std::vector<int32_t> random_tokens(uint32_t n, uint32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = int32_t(3 + rng() % (vocab - 3));  // skip BOS/EOS-like ids
  return t;
}

ContextParams params(KvPolicyKind kind, uint32_t slots, uint32_t sinks, GgmlType kv_type, uint32_t n_batch = 64) {
  ContextParams p;
  p.kv.kind = kind;
  p.kv_type = kv_type;
  p.n_batch = n_batch;
  p.kv.sinks = sinks;
  if (kind == KvPolicyKind::Dense)
    p.kv.n_ctx = slots;
  else
    p.kv.window = slots;
  return p;
}

// Feeds `prompt` in one call, then `decode` one token at a time; returns the logits after the
// prompt and after every decoded token.
std::vector<std::vector<float>> run(Context& ctx, std::span<const int32_t> prompt, std::span<const int32_t> decode) {
  std::vector<std::vector<float>> out;
  ctx.eval(prompt);
  out.emplace_back(ctx.logits().begin(), ctx.logits().end());
  for (int32_t t : decode) {
    ctx.eval(std::span<const int32_t>(&t, 1));
    out.emplace_back(ctx.logits().begin(), ctx.logits().end());
  }
  return out;
}

// The reference's logits at the same points (it feeds one token at a time).
std::vector<std::vector<float>> run(ref::KvStreaming& r, std::span<const int32_t> prompt,
                                    std::span<const int32_t> decode, uint32_t n_vocab) {
  std::vector<std::vector<float>> out;
  const auto all = r.feed(prompt);
  out.emplace_back(all.end() - n_vocab, all.end());
  for (int32_t t : decode) {
    const auto l = r.feed(std::span<const int32_t>(&t, 1));
    out.emplace_back(l.begin(), l.end());
  }
  return out;
}

double compare(const std::vector<std::vector<float>>& want, const std::vector<std::vector<float>>& got, double tol,
               const std::string& label) {
  EXPECT_EQ(want.size(), got.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
    const double e = rel_l2(want[i], got[i]);
    EXPECT_LT(e, tol) << label << " step " << i;
    worst = std::max(worst, e);
  }
  return worst;
}

std::filesystem::path tiny_model() { return synthetic_gguf("test-tiny", GgmlType::F32); }

// Dense f16/f32 caches store keys rotated (KeyStorage::Rotated), the window policies before
// RoPE: the two paths must round identically.
TEST_F(KvStreamingTest, PoliciesGiveIdenticalLogitsWhileTheTextFits) {
  for (const auto& path : {tiny_model(), stories260k_gguf(GgmlType::F32)}) {
    if (path.empty()) continue;
    auto model = load_test_model(path);
    const auto prompt = random_tokens(23, model->config().n_vocab, 1), decode = random_tokens(25, model->config().n_vocab, 2);
    for (GgmlType kv_type : {GgmlType::F16, GgmlType::F32, GgmlType::Q8_0}) {
      if (kv_type == GgmlType::Q8_0 && model->config().kv_dim() % 32 != 0) continue;
      Context dense(model, params(KvPolicyKind::Dense, 64, 0, kv_type));
      Context window(model, params(KvPolicyKind::SinksWindow, 48, 0, kv_type));
      Context sinks(model, params(KvPolicyKind::SinksWindow, 48, 4, kv_type));
      const auto a = run(dense, prompt, decode), b = run(window, prompt, decode), c = run(sinks, prompt, decode);
      const std::string what = path.string() + " " + std::string(ggml_type_name(kv_type));
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_EQ(a[i], b[i]) << what << " window, step " << i;
        ASSERT_EQ(a[i], c[i]) << what << " sinks, step " << i;
      }
    }
  }
}

// Keys stored rotated at shifted positions (KeyStorage::Shifted, the default for an f16/f32
// sinks + window cache) against keys kept before RoPE and rotated as attention loads them
// (shifted_keys = false), over 260 tokens through 24 slots, so the key offset re-bases about ten
// times, in prefill batches and one token at a time. Not the same bits (the rotation positions
// differ, and a re-base rounds each window key once more), the same logits to rounding. Every
// combination on the tiny model, one on stories260K (a real model; 2 minutes under ASan for all).
TEST_F(KvStreamingTest, ShiftedKeysMatchKeysRotatedAtLoad) {
  for (const auto& path : {tiny_model(), stories260k_gguf(GgmlType::F32)}) {
    if (path.empty()) continue;
    const bool all = path == tiny_model();
    auto model = load_test_model(path);
    const uint32_t vocab = model->config().n_vocab, slots = 24;
    const auto prompt = random_tokens(200, vocab, 21), decode = random_tokens(60, vocab, 22);
    for (GgmlType kv_type : {GgmlType::F16, GgmlType::F32})
      for (uint32_t sinks : {0u, 4u})
        for (uint32_t batch : {7u, 64u}) {
          if (!all && (kv_type != GgmlType::F16 || sinks != 4 || batch != 7)) continue;
          ContextParams p = params(KvPolicyKind::SinksWindow, slots, sinks, kv_type, batch);
          p.shifted_keys = true;
          Context shifted(model, p);
          p.shifted_keys = false;
          Context at_load(model, p);
          ASSERT_EQ(shifted.state_target().key_storage, uint32_t(KeyStorage::Shifted));
          ASSERT_EQ(at_load.state_target().key_storage, uint32_t(KeyStorage::PreRope));
          const std::string what = path.filename().string() + " " + std::string(ggml_type_name(kv_type)) + " sinks " +
                                   std::to_string(sinks) + " batch " + std::to_string(batch);
          const double tol = kv_type == GgmlType::F16 ? 5e-3 : 1e-5;  // measured: up to 1.5e-3 and 8e-7
          const double e = compare(run(at_load, prompt, decode), run(shifted, prompt, decode), tol, what);
          EXPECT_LT(shifted.kv_policy().key_offset(), slots + batch) << what << ": re-based as it went";
          record_error("kv/shifted_keys/" + std::string(ggml_type_name(kv_type)), e);
        }
  }
}

// A saved sinks + window state with a key offset (keys rotated at shifted positions) continues
// exactly, across the next re-base; a context that keeps keys before RoPE refuses it.
TEST_F(KvStreamingTest, ShiftedKeysStateContinuesExactly) {
  auto model = load_test_model(tiny_model());
  const uint32_t vocab = model->config().n_vocab;
  ContextParams p = params(KvPolicyKind::SinksWindow, 24, 4, GgmlType::F16, 5);
  Context a(model, p);
  a.eval(random_tokens(61, vocab, 31));
  ASSERT_NE(a.kv_policy().key_offset(), 0u);
  const auto state = a.save_state();
  const auto more = random_tokens(12, vocab, 32), decode = random_tokens(30, vocab, 33);
  const auto want = run(a, more, decode);
  Context b(model, p);
  b.load_state(state);
  EXPECT_EQ(run(b, more, decode), want);
  p.shifted_keys = false;
  Context c(model, p);
  try {
    c.load_state(state);
    ADD_FAILURE() << "a state of shifted keys loaded into a context of keys before RoPE";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::StateMismatch) << e.what();
  }
}

struct EvictCase {
  uint32_t sinks;
  GgmlType kv_type;
};

class SinksWindowVsReference : public KvStreamingTest, public ::testing::WithParamInterface<EvictCase> {};

TEST_P(SinksWindowVsReference, MatchesAfterEviction) {
  const auto [S, kv_type] = GetParam();
  const auto path = tiny_model();
  auto model = load_test_model(path);
  auto file = GgufFile::open(path.string());
  ref::LlamaForward cpu(*file, 0, kv_type);
  const uint32_t slots = 24;
  Context gpu(model, params(KvPolicyKind::SinksWindow, slots, S, kv_type, /*n_batch=*/1));
  ref::KvStreaming want(cpu, gpu.kv_config());
  const auto prompt = random_tokens(10, model->config().n_vocab, 3), decode = random_tokens(50, model->config().n_vocab, 4);
  // q8_0: a 1e-7 difference in an activation can flip one int8 rounding (1/254 of a block's range).
  const double tol = kv_type == GgmlType::Q8_0 ? 1e-3 : 1e-4;
  const double e = compare(run(want, prompt, decode, model->config().n_vocab), run(gpu, prompt, decode), tol,
                           "sinks " + std::to_string(S));
  EXPECT_EQ(gpu.stats().kv_usage.sinks, S);
  EXPECT_EQ(gpu.stats().kv_usage.used(), slots);
  record_error("kv/sinks_window/" + std::string(ggml_type_name(kv_type)) + "/sinks" + std::to_string(S), e);
}

INSTANTIATE_TEST_SUITE_P(Policies, SinksWindowVsReference,
                         ::testing::Values(EvictCase{0, GgmlType::F16}, EvictCase{4, GgmlType::F16},
                                           EvictCase{4, GgmlType::F32}, EvictCase{4, GgmlType::Q8_0}),
                         [](const auto& param_info) {
                           return "sinks" + std::to_string(param_info.param.sinks) + "_" + std::string(ggml_type_name(param_info.param.kv_type));
                         });

struct BeaconCase {
  uint32_t slots, sinks, window, ratio;
  bool projections;  // a model with beacon Q/K/V/O and embedding
};

// test-tiny plus random beacon tensors: per-layer attn_{q,k,v,output}_beacon and beacon_embd.
std::filesystem::path beacon_model() {
  const auto base = tiny_model();
  const auto out = base.parent_path() / "test-tiny-beacon-f32.gguf";
  if (std::filesystem::exists(out)) return out;
  auto f = GgufFile::open(base.string());
  GgufWriter w;
  for (const auto& kv : f->kvs()) w.set_raw(std::string(kv.key), kv.value.type(), kv.value.encoded());
  for (const auto& t : f->tensors()) w.add_tensor(t.name, t.type, t.dims, f->tensor_data(t), t.bytes);
  const ModelConfig c = read_model_config(*f);
  uint32_t seed = 100;
  auto add = [&](const std::string& name, std::vector<uint64_t> dims, float scale) {
    uint64_t n = 1;
    for (auto d : dims) n *= d;
    const auto data = random_floats(n, seed++, -scale, scale);
    w.add_tensor(name, GgmlType::F32, dims, data.data(), n * 4);
  };
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_q_beacon.weight", {c.n_embd, c.q_dim()}, 0.1f);
    add(p + "attn_k_beacon.weight", {c.n_embd, c.kv_dim()}, 0.1f);
    add(p + "attn_v_beacon.weight", {c.n_embd, c.kv_dim()}, 0.1f);
    add(p + "attn_output_beacon.weight", {c.q_dim(), c.n_embd}, 0.1f);
  }
  add("beacon_embd.weight", {c.n_embd}, 1.f);
  const auto tmp = out.string() + ".tmp" + std::to_string(::testing::UnitTest::GetInstance()->random_seed());
  w.write(tmp);
  std::filesystem::rename(tmp, out);
  return out;
}

// A beacon context (either mode) whose KV budget holds `slots` slots of kv_type.
ContextParams beacon_params(const Model& model, KvPolicyKind kind, uint32_t slots, uint32_t sinks, uint32_t window,
                            uint32_t ratio, GgmlType kv_type, uint32_t n_batch) {
  ContextParams p;
  p.kv.kind = kind;
  p.kv_type = kv_type;
  p.kv.budget_bytes = uint64_t(slots) * KvCache::slot_bytes(model.config().n_layer, model.config().kv_dim(), kv_type);
  p.kv.sinks = sinks;
  p.kv.beacon_window = window;
  p.kv.beacon_ratio = ratio;
  p.n_batch = n_batch;
  return p;
}

class BeaconVsReference : public KvStreamingTest, public ::testing::WithParamInterface<BeaconCase> {};

TEST_P(BeaconVsReference, MatchesAcrossChunksInPrefillAndDecode) {
  const BeaconCase bc = GetParam();
  const auto path = bc.projections ? beacon_model() : tiny_model();
  auto model = load_test_model(path);
  ASSERT_EQ(model->has_beacon_projections(), bc.projections);
  auto file = GgufFile::open(path.string());
  ref::LlamaForward cpu(*file, 0, GgmlType::F32);
  // n_batch 13: prefill steps that end mid-group and mid-chunk
  Context gpu(model, beacon_params(*model, KvPolicyKind::Beacon, bc.slots, bc.sinks, bc.window, bc.ratio, GgmlType::F32, 13));
  ASSERT_EQ(gpu.kv_config().slots, bc.slots);
  ref::KvStreaming want(cpu, gpu.kv_config());
  const auto prompt = random_tokens(45, model->config().n_vocab, 5), decode = random_tokens(40, model->config().n_vocab, 6);
  const std::string label = "beacon w" + std::to_string(bc.window) + " r" + std::to_string(bc.ratio) + " s" +
                            std::to_string(bc.sinks) + (bc.projections ? " proj" : "");
  const double e = compare(run(want, prompt, decode, model->config().n_vocab), run(gpu, prompt, decode), 1e-4, label);
  const KvUsage u = gpu.stats().kv_usage;
  EXPECT_EQ(u.sinks, want.sinks());
  EXPECT_EQ(u.beacons, want.beacons());
  EXPECT_EQ(u.raw, want.raw());
  record_error("kv/" + label, e);
}

INSTANTIATE_TEST_SUITE_P(Policies, BeaconVsReference,
                         ::testing::Values(BeaconCase{40, 0, 8, 2, false},   // memory never full
                                           BeaconCase{32, 4, 16, 4, false},  // sinks, oldest beacons evicted
                                           BeaconCase{21, 0, 8, 8, false},   // one beacon per chunk
                                           BeaconCase{32, 2, 8, 2, true}),   // beacon projections and embedding
                         [](const auto& param_info) {
                           const BeaconCase& c = param_info.param;
                           return "w" + std::to_string(c.window) + "_r" + std::to_string(c.ratio) + "_s" +
                                  std::to_string(c.sinks) + "_slots" + std::to_string(c.slots) +
                                  (c.projections ? "_projections" : "");
                         });

struct SlidingCase {
  uint32_t slots, sinks, window, ratio;
  bool projections;
  GgmlType kv_type;
};

class SlidingBeaconVsReference : public KvStreamingTest, public ::testing::WithParamInterface<SlidingCase> {};

// The prompt fills less than the window (prefill steps are then exact: they end at each beacon);
// decoding one token at a time slides the window, shows beacons and evicts the oldest ones.
TEST_P(SlidingBeaconVsReference, MatchesTokenByToken) {
  const SlidingCase sc = GetParam();
  const auto path = sc.projections ? beacon_model() : tiny_model();
  auto model = load_test_model(path);
  auto file = GgufFile::open(path.string());
  ref::LlamaForward cpu(*file, 0, sc.kv_type);
  Context gpu(model,
              beacon_params(*model, KvPolicyKind::BeaconSliding, sc.slots, sc.sinks, sc.window, sc.ratio, sc.kv_type, 13));
  ASSERT_EQ(gpu.kv_config().slots, sc.slots);
  ASSERT_EQ(gpu.kv_config().kind, KvPolicyKind::BeaconSliding);
  ref::KvStreaming want(cpu, gpu.kv_config());
  const auto prompt = random_tokens(sc.sinks + sc.window - 1, model->config().n_vocab, 7),
             decode = random_tokens(70, model->config().n_vocab, 8);
  const std::string label = "sliding w" + std::to_string(sc.window) + " r" + std::to_string(sc.ratio) + " s" +
                            std::to_string(sc.sinks) + (sc.projections ? " proj " : " ") + std::string(ggml_type_name(sc.kv_type));
  const double e = compare(run(want, prompt, decode, model->config().n_vocab), run(gpu, prompt, decode), 1e-4, label);
  const KvUsage u = gpu.stats().kv_usage;
  EXPECT_EQ(u.sinks, want.sinks());
  EXPECT_EQ(u.beacons, want.beacons());
  EXPECT_EQ(u.raw, want.raw());
  EXPECT_EQ(u.raw, sc.window);
  const uint32_t memory = sc.slots - sc.sinks - sc.window - sc.window / sc.ratio;
  EXPECT_GE(u.beacons, memory) << "the beacon memory is full";
  EXPECT_LE(u.beacons, memory + sc.window / sc.ratio) << "at most window / r beacons hidden";
  record_error("kv/" + label, e);
}

INSTANTIATE_TEST_SUITE_P(Policies, SlidingBeaconVsReference,
                         ::testing::Values(SlidingCase{24, 0, 12, 4, false, GgmlType::F32},
                                           SlidingCase{24, 4, 10, 2, false, GgmlType::F32},  // window not a multiple of r
                                           SlidingCase{14, 1, 8, 8, true, GgmlType::F32},    // beacon projections
                                           SlidingCase{24, 2, 12, 4, true, GgmlType::F16}),
                         [](const auto& param_info) {
                           const SlidingCase& c = param_info.param;
                           return "w" + std::to_string(c.window) + "_r" + std::to_string(c.ratio) + "_s" +
                                  std::to_string(c.sinks) + "_slots" + std::to_string(c.slots) +
                                  (c.projections ? "_projections_" : "_") + std::string(ggml_type_name(c.kv_type));
                         });

TEST_F(KvStreamingTest, SlidingBeaconStateContinuesExactly) {
  auto model = load_test_model(beacon_model());
  ContextParams p = beacon_params(*model, KvPolicyKind::BeaconSliding, 24, 2, 12, 4, GgmlType::F16, 1);
  Context a(model, p);
  a.eval(random_tokens(41, model->config().n_vocab, 13));
  const auto state = a.save_state();
  const auto more = random_tokens(9, model->config().n_vocab, 14);
  const auto want = run(a, more, {});
  Context b(model, p);
  b.load_state(state);
  EXPECT_EQ(run(b, more, {}), want);
  ContextParams q = p;
  q.kv.kind = KvPolicyKind::Beacon;
  q.kv.beacon_window = 8;
  Context other(model, q);
  EXPECT_THROW(other.load_state(state), Error);
}

TEST_F(KvStreamingTest, TwentyThousandTokensAtConstantMemory) {
  const auto path = stories260k_gguf(GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "stories260K not found in the shared folder";
  auto model = load_test_model(path);
  Context ctx(model, params(KvPolicyKind::SinksWindow, 256, 4, GgmlType::F16, /*n_batch=*/252));
  const auto tokens = random_tokens(20000, model->config().n_vocab, 9);
  ctx.eval(std::span<const int32_t>(tokens.data(), 256));
  const uint64_t device_before = model->device().allocator().bytes_reserved();
  const ContextStats full = ctx.stats();
  EXPECT_EQ(full.kv_slots_used, 256u);
  for (size_t at = 256; at < tokens.size(); at += 1000) {
    ctx.eval(std::span<const int32_t>(tokens.data() + at, std::min<size_t>(1000, tokens.size() - at)));
    const ContextStats s = ctx.stats();
    ASSERT_EQ(s.kv_bytes, full.kv_bytes);
    ASSERT_EQ(s.device_bytes, full.device_bytes);
    ASSERT_EQ(s.kv_usage.sinks, 4u);
    ASSERT_EQ(s.kv_usage.raw, 252u);
  }
  EXPECT_EQ(ctx.stats().tokens_consumed, 20000u);
  EXPECT_EQ(model->device().allocator().bytes_reserved(), device_before) << "no device memory allocated while streaming";
  for (float x : ctx.logits()) ASSERT_TRUE(std::isfinite(x));
}

TEST_F(KvStreamingTest, SavedStateContinuesExactlyAndNeedsTheSamePolicy) {
  auto model = load_test_model(tiny_model());
  ContextParams p = params(KvPolicyKind::Beacon, 0, 2, GgmlType::F16, 16);
  p.kv.budget_bytes = 40 * KvCache::slot_bytes(model->config().n_layer, model->config().kv_dim(), GgmlType::F16);
  p.kv.beacon_window = 8;
  p.kv.beacon_ratio = 4;
  Context a(model, p);
  a.eval(random_tokens(29, model->config().n_vocab, 11));
  const auto state = a.save_state();
  const auto more = random_tokens(9, model->config().n_vocab, 12);
  const auto want = run(a, more, {});
  Context b(model, p);
  b.load_state(state);
  EXPECT_EQ(run(b, more, {}), want);
  Context other(model, params(KvPolicyKind::SinksWindow, 40, 4, GgmlType::F16));
  EXPECT_THROW(other.load_state(state), Error);
}

}  // namespace
}  // namespace tern::test

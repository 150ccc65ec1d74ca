// The state fuzz target's seed corpus (tests/fuzz/corpus/state): real states of stories260K in
// every KV policy, each file a flags byte (tests/fuzz/state_fuzz.cpp) and the state. The seeds
// must stay loadable by the contexts they were saved from, so a change of the state format
// shows up here: regenerate them with
//   build/tests/state_seeds_test --gtest_also_run_disabled_tests --gtest_filter='*Write*'
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "api/context.h"
#include "common/error.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"

namespace tern::test {
namespace {

namespace fs = std::filesystem;

struct Seed {
  std::string name;
  ContextParams params;
  uint32_t tokens;  // fed before saving
};

std::vector<Seed> seeds() {
  ContextParams dense;
  dense.kv.n_ctx = 16;
  ContextParams dense_f32 = dense;
  dense_f32.kv_type = GgmlType::F32;
  ContextParams window;
  window.kv.kind = KvPolicyKind::SinksWindow;
  window.kv.window = 12;
  ContextParams sinks = window;
  sinks.kv.sinks = 4;
  ContextParams beacon;
  beacon.kv.kind = KvPolicyKind::Beacon;
  beacon.kv.sinks = 2;
  beacon.kv.beacon_ratio = 2;
  beacon.kv.beacon_window = 4;
  beacon.kv.budget_bytes = KvCache::slot_bytes(5, 32) * 20;  // stories260K: 5 layers, K/V rows of 32
  ContextParams sliding = beacon;
  sliding.kv.kind = KvPolicyKind::BeaconSliding;
  return {{"dense-empty", dense, 0},       {"dense", dense, 9},         {"dense-full", dense, 16},
          {"dense-f32", dense_f32, 5},     {"window", window, 30},      {"sinks", sinks, 25},
          {"beacon", beacon, 23},          {"beacon-short", beacon, 3},  {"beacon-sliding", sliding, 21}};
}

std::vector<int32_t> tokens(uint32_t n) {
  std::vector<int32_t> t;
  for (uint32_t i = 0; i < n; ++i) t.push_back(i == 0 ? 1 : int32_t(259 + (i * 37) % 250));
  return t;
}

class StateSeeds : public GpuTest {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    path_ = stories260k_gguf(GgmlType::F32);
    if (path_.empty()) GTEST_SKIP() << "needs ../shared/models/stories260K.bin";
  }
  fs::path path_;
};

TEST_F(StateSeeds, DISABLED_Write) {
  auto model = load_test_model(path_);
  const fs::path dir = source_file("tests/fuzz/corpus/state");
  fs::create_directories(dir);
  for (const Seed& s : seeds()) {
    Context c(model, s.params);
    const auto t = tokens(s.tokens);
    if (!t.empty()) c.eval(t);
    const std::vector<uint8_t> state = c.save_state();
    for (uint8_t flags : {0, 1}) {
      std::ofstream f(dir / (s.name + (flags ? "-fixup" : "")), std::ios::binary);
      f.put(char(flags));
      f.write(reinterpret_cast<const char*>(state.data()), std::streamsize(state.size()));
    }
  }
}

TEST_F(StateSeeds, LoadIntoTheContextsTheyCameFrom) {
  auto model = load_test_model(path_);
  for (const Seed& s : seeds()) {
    std::ifstream f(source_file("tests/fuzz/corpus/state") / s.name, std::ios::binary);
    ASSERT_TRUE(f.good()) << s.name << " is missing: regenerate the seeds (see the top of this file)";
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1u);
    Context c(model, s.params);
    try {
      c.load_state(std::span<const uint8_t>(bytes).subspan(1));
    } catch (const Error& e) {
      FAIL() << s.name << ": " << e.what() << " (the state format changed? regenerate the seeds)";
    }
    EXPECT_EQ(c.tokens(), tokens(s.tokens)) << s.name;
  }
}

}  // namespace
}  // namespace tern::test

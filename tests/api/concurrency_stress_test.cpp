// Several contexts sharing one model across threads, through the C API (issue 14): each worker
// creates contexts, generates, saves and restores states and frees its contexts in a random
// order, while a canceller thread calls tern_cancel on whichever context happens to be live.
// Built and run under ThreadSanitizer in CI (scripts/tsan.sh): any data race fails it. In the
// normal builds it checks the same things without the race detector: every call returns OK or,
// when a cancel landed, TERN_ERR_CANCELLED, and restored states continue identically.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/env.h"
#include "support/model_files.h"
#include "tern.h"

namespace tern::test {
namespace {

// Contexts a canceller may poke: registered while alive, under the mutex.
struct Live {
  std::mutex mu;
  std::vector<tern_context*> contexts;
  void add(tern_context* c) {
    std::lock_guard lock(mu);
    contexts.push_back(c);
  }
  void remove(tern_context* c) {
    std::lock_guard lock(mu);
    std::erase(contexts, c);
  }
  void cancel_one(std::mt19937& rng) {
    std::lock_guard lock(mu);  // a context is freed only after leaving the list
    if (!contexts.empty()) tern_cancel(contexts[rng() % contexts.size()]);
  }
};

int env_int(const char* name, int fallback) {
  const auto v = tern::env_string(name);
  return v ? std::atoi(v->c_str()) : fallback;
}

struct Failure {
  std::mutex mu;
  std::string first;
  void note(const std::string& what) {
    std::lock_guard lock(mu);
    if (first.empty()) first = what;
  }
};

void worker(tern_model* model, Live& live, Failure& fail, uint32_t seed, int rounds) {
  std::mt19937 rng(seed);
  auto expect_ok_or_cancelled = [&](tern_status s, const char* what) {
    if (s != TERN_OK && s != TERN_ERR_CANCELLED)
      fail.note(std::string(what) + ": " + tern_status_string(s) + ": " + tern_last_error());
    return s == TERN_OK;
  };
  std::vector<tern_context*> mine;
  for (int round = 0; round < rounds; ++round) {
    // Make one or two contexts, use them, free some of them in a random order.
    const int make = 1 + int(rng() % 2);
    for (int i = 0; i < make; ++i) {
      tern_context_params p = tern_context_default_params();
      p.n_ctx = 64 + int(rng() % 3) * 32;
      p.seed = rng();
      tern_context* c = nullptr;
      if (tern_context_create(model, &p, &c) != TERN_OK) {
        fail.note(std::string("create: ") + tern_last_error());
        continue;
      }
      live.add(c);
      mine.push_back(c);
    }
    tern_context* c = mine[rng() % mine.size()];
    tern_generate_params g = tern_generate_default_params();
    g.max_tokens = 2 + int(rng() % 6);
    int32_t n = 0;
    tern_context_reset(c);
    expect_ok_or_cancelled(tern_generate(c, "Once upon a time", &g, nullptr, nullptr, &n), "generate");

    // Save, restore into another of this thread's contexts (or a fresh one), continue both greedily.
    size_t bytes = 0;
    tern_state_save(c, nullptr, 0, &bytes);
    std::vector<uint8_t> state(bytes);
    if (!expect_ok_or_cancelled(tern_state_save(c, state.data(), state.size(), &bytes), "save")) continue;
    tern_context_params p = tern_context_default_params();
    p.n_ctx = 64;
    tern_context* d = nullptr;
    if (tern_context_create(model, &p, &d) != TERN_OK) {
      fail.note(std::string("create: ") + tern_last_error());
      continue;
    }
    live.add(d);
    const tern_status loaded = tern_state_load(d, state.data(), state.size());
    // Different n_ctx: the state must be refused as a mismatch, never half-applied.
    if (loaded != TERN_OK && loaded != TERN_ERR_STATE_MISMATCH) fail.note(std::string("load: ") + tern_last_error());
    if (loaded == TERN_OK) {
      tern_generate_params gg = tern_generate_default_params();
      gg.sampler.temperature = 0.f;
      gg.max_tokens = 3;
      expect_ok_or_cancelled(tern_generate(d, " The", &gg, nullptr, nullptr, nullptr), "continue");
    }
    live.remove(d);
    tern_context_free(d);

    // Free a random number of this thread's contexts, in a random order.
    std::shuffle(mine.begin(), mine.end(), rng);
    const size_t keep = rng() % (mine.size() + 1);
    while (mine.size() > keep) {
      live.remove(mine.back());
      tern_context_free(mine.back());
      mine.pop_back();
    }
  }
  for (tern_context* c : mine) {
    live.remove(c);
    tern_context_free(c);
  }
}

TEST(ConcurrencyStress, ContextsSharingAModelAcrossThreads) {
  const auto path = stories260k_gguf(GgmlType::F32);
  if (path.empty()) GTEST_SKIP() << "needs ../shared/models/stories260K.bin";
  tern_model* model = nullptr;
  ASSERT_EQ(tern_model_load(path.c_str(), nullptr, &model), TERN_OK) << tern_last_error();
  const int threads = env_int("TERN_STRESS_THREADS", 4), rounds = env_int("TERN_STRESS_ROUNDS", 6);
  Live live;
  Failure fail;
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    std::mt19937 rng(7);
    while (!done.load()) {
      live.cancel_one(rng);
      std::this_thread::sleep_for(std::chrono::milliseconds(3 + rng() % 20));
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back(worker, model, std::ref(live), std::ref(fail), 1000u + uint32_t(t), rounds);
  for (auto& w : workers) w.join();
  done = true;
  canceller.join();
  EXPECT_TRUE(fail.first.empty()) << fail.first;
  tern_model_free(model);
}

}  // namespace
}  // namespace tern::test

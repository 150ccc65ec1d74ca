// The C API against what callers get wrong (issue 14, reproductions 2, 4, 10, 11 and 15): params
// structs from older (shorter) headers, a context used or freed from another thread while a
// call runs on it, counts after a cancelled generation, and RoPE overrides that are NaN,
// infinite or denormal. Each used to crash, corrupt the caller's memory or run on garbage.
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/model_files.h"
#include "tern.h"

namespace tern::test {
namespace {

class Misuse : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto path = stories260k_gguf(GgmlType::F32);
    if (path.empty()) return;
    tern_model_params mp = tern_model_default_params();
    ASSERT_EQ(tern_model_load(path.c_str(), &mp, &model_), TERN_OK) << tern_last_error();
  }
  static void TearDownTestSuite() {
    tern_model_free(model_);
    model_ = nullptr;
  }
  void SetUp() override {
    if (!model_) GTEST_SKIP() << "needs ../shared/models/stories260K.bin";
  }
  static tern_context* new_context(int32_t n_ctx = 512) {
    tern_context_params p = tern_context_default_params();
    p.n_ctx = n_ctx;
    tern_context* c = nullptr;
    EXPECT_EQ(tern_context_create(model_, &p, &c), TERN_OK) << tern_last_error();
    return c;
  }
  static tern_model* model_;
};
tern_model* Misuse::model_ = nullptr;

// Reproduction 2: tern_sample read a whole tern_sampler_params whatever struct_size said; an
// 8-byte struct (a caller that knows only struct_size) at the end of a readable page crashed it.
TEST_F(Misuse, SampleReadsNoMoreThanStructSize) {
  tern_context* c = new_context();
  const tern_token bos = 1;
  ASSERT_EQ(tern_eval(c, &bos, 1), TERN_OK);
  const long page = sysconf(_SC_PAGESIZE);
  auto* mem = static_cast<uint8_t*>(mmap(nullptr, size_t(page) * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(mem, MAP_FAILED);
  ASSERT_EQ(mprotect(mem + page, size_t(page), PROT_NONE), 0);  // the next page faults on any read
  auto* params = reinterpret_cast<tern_sampler_params*>(mem + page - sizeof(size_t));
  params->struct_size = sizeof(size_t);
  tern_token t = -1;
  EXPECT_EQ(tern_sample(c, params, &t), TERN_OK) << tern_last_error();
  EXPECT_GE(t, 0);
  // And the same for tern_generate and tern_context_create.
  auto* gp = reinterpret_cast<tern_generate_params*>(mem + page - sizeof(size_t));
  gp->struct_size = sizeof(size_t);
  EXPECT_EQ(tern_generate(c, " the", gp, nullptr, nullptr, nullptr), TERN_OK) << tern_last_error();
  auto* cp = reinterpret_cast<tern_context_params*>(mem + page - sizeof(size_t));
  cp->struct_size = sizeof(size_t);
  tern_context* d = nullptr;
  EXPECT_EQ(tern_context_create(model_, cp, &d), TERN_OK) << tern_last_error();
  tern_context_free(d);
  munmap(mem, size_t(page) * 2);
  tern_context_free(c);
}

// Reproduction 11: an older caller's tern_model_info (struct_size 104, before weight_types) got
// struct_size 112 written back; nothing past its 104 bytes may be touched either.
TEST_F(Misuse, ModelInfoOfAnOlderCaller) {
  const size_t old_size = offsetof(tern_model_info, weight_types);
  ASSERT_EQ(old_size, 104u);
  alignas(tern_model_info) uint8_t buf[sizeof(tern_model_info) + 16];
  std::memset(buf, 0xA5, sizeof buf);
  auto* info = reinterpret_cast<tern_model_info*>(buf);
  info->struct_size = old_size;
  ASSERT_EQ(tern_model_get_info(model_, info), TERN_OK);
  EXPECT_EQ(info->struct_size, old_size);
  EXPECT_EQ(info->n_vocab, 512);
  for (size_t i = old_size; i < sizeof buf; ++i) EXPECT_EQ(buf[i], 0xA5) << "byte " << i << " written";
  // The same for the statistics (struct_size covering only up to decode_tokens).
  tern_context* c = new_context();
  alignas(tern_context_stats) uint8_t sbuf[sizeof(tern_context_stats) + 16];
  std::memset(sbuf, 0xA5, sizeof sbuf);
  auto* st = reinterpret_cast<tern_context_stats*>(sbuf);
  const size_t old_stats = offsetof(tern_context_stats, kv_sink_slots);
  st->struct_size = old_stats;
  ASSERT_EQ(tern_context_get_stats(c, st), TERN_OK);
  EXPECT_EQ(st->struct_size, old_stats);
  for (size_t i = old_stats; i < sizeof sbuf; ++i) EXPECT_EQ(sbuf[i], 0xA5) << "byte " << i << " written";
  tern_context_free(c);
}

struct CancelAfter {
  tern_context* ctx;
  int after;
  int pieces = 0;
};

int cancel_after(const char*, size_t, void* ud) {
  auto* c = static_cast<CancelAfter*>(ud);
  if (++c->pieces == c->after) tern_cancel(c->ctx);
  return 1;
}

// Reproduction 11: n_generated was 0 after a cancelled generation that had delivered pieces.
TEST_F(Misuse, GeneratedCountAfterACancel) {
  tern_context* c = new_context();
  tern_generate_params g = tern_generate_default_params();
  g.sampler.temperature = 0.f;
  g.max_tokens = 0;  // until the cancel
  CancelAfter ca{c, 20};
  int32_t n = -1;
  EXPECT_EQ(tern_generate(c, "Once upon a time", &g, cancel_after, &ca, &n), TERN_ERR_CANCELLED);
  EXPECT_EQ(ca.pieces, 20);
  EXPECT_GE(n, 20);
  EXPECT_LE(n, 21);  // the token sampled while the cancel was being noticed
  tern_context_free(c);
}

// Reproduction 10 and 15: RoPE overrides that are not finite, or denormal, were accepted (and
// NaN was called "negative"); 0 keeps meaning "the model's".
TEST_F(Misuse, RopeOverridesMustBeUsable) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  struct Case {
    float base, factor;
    const char* message;
  };
  const Case cases[] = {{inf, 0.f, "rope_freq_base (0: the model's) is inf"},
                        {nan, 0.f, "rope_freq_base (0: the model's) is nan"},
                        {-5.f, 0.f, "rope_freq_base (0: the model's) is -5"},
                        {0.f, inf, "rope_scale_factor (0: the model's) is inf"},
                        {0.f, 1e-40f, "rope_scale_factor (0: the model's) is 9.99995e-41"},
                        {0.f, nan, "rope_scale_factor (0: the model's) is nan"}};
  for (const Case& k : cases) {
    tern_context_params p = tern_context_default_params();
    p.n_ctx = 64;
    p.rope_scaling = TERN_ROPE_SCALING_LINEAR;
    p.rope_freq_base = k.base;
    p.rope_scale_factor = k.factor;
    tern_context* c = nullptr;
    EXPECT_EQ(tern_context_create(model_, &p, &c), TERN_ERR_INVALID_ARGUMENT) << k.message;
    EXPECT_NE(std::string(tern_last_error()).find(k.message), std::string::npos) << tern_last_error();
    EXPECT_EQ(c, nullptr);
  }
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 64;
  p.rope_scaling = TERN_ROPE_SCALING_LINEAR;
  p.rope_scale_factor = 2.f;
  tern_context* c = nullptr;
  EXPECT_EQ(tern_context_create(model_, &p, &c), TERN_OK) << tern_last_error();
  tern_context_free(c);
}

// Reproduction 4: freeing a context from another thread while tern_generate runs on it crashed
// (SIGFPE). The free now cancels the running call, waits for it and then frees; the call
// returns CANCELLED, and the handle is dead afterwards. The callback holds the generation until
// the free has begun, so the free surely overlaps it.
TEST_F(Misuse, FreeFromAnotherThreadWhileGenerating) {
  struct Run {
    std::atomic<int> pieces{0};
    std::atomic<bool> in_callback{false}, free_started{false};
  };
  for (int round = 0; round < 3; ++round) {
    Run run;
    tern_context* c = new_context();
    tern_status status = TERN_OK;
    std::thread gen([&] {
      tern_generate_params g = tern_generate_default_params();
      g.max_tokens = 0;  // until the cancel (or the context is full)
      auto cb = [](const char*, size_t, void* ud) -> int {
        auto* r = static_cast<Run*>(ud);
        if (r->pieces.fetch_add(1) == 1) {
          r->in_callback = true;
          while (!r->free_started.load()) std::this_thread::yield();
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the free is waiting by now
        }
        return 1;
      };
      status = tern_generate(c, "Once upon a time", &g, cb, &run, nullptr);
    });
    while (!run.in_callback.load()) std::this_thread::yield();
    run.free_started = true;
    tern_context_free(c);  // returns once the generation has stopped
    const int pieces_at_free = run.pieces.load();
    gen.join();
    EXPECT_EQ(status, TERN_ERR_CANCELLED) << tern_status_string(status);
    EXPECT_EQ(run.pieces.load(), pieces_at_free);
    const tern_token t = 1;
    EXPECT_EQ(tern_eval(c, &t, 1), TERN_ERR_INVALID_HANDLE);
  }
}

// Two threads in one context at once: the second call is refused, not raced.
TEST_F(Misuse, ASecondThreadIsRefusedWhileACallRuns) {
  struct Run {
    std::atomic<int> pieces{0};
    std::atomic<bool> stop{false};
  } run;
  tern_context* c = new_context();
  std::thread gen([&] {
    tern_generate_params g = tern_generate_default_params();
    g.max_tokens = 0;
    auto cb = [](const char*, size_t, void* ud) -> int {
      auto* r = static_cast<Run*>(ud);
      r->pieces.fetch_add(1);
      return r->stop.load() ? 0 : 1;
    };
    tern_generate(c, "Once upon a time", &g, cb, &run, nullptr);
  });
  while (run.pieces.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const tern_token t = 1;
  EXPECT_EQ(tern_eval(c, &t, 1), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tern_last_error()).find("in use by another thread"), std::string::npos) << tern_last_error();
  tern_context_stats st{};
  st.struct_size = sizeof st;
  EXPECT_EQ(tern_context_get_stats(c, &st), TERN_ERR_INVALID_ARGUMENT);
  run.stop = true;
  gen.join();
  EXPECT_EQ(tern_eval(c, &t, 1), TERN_OK) << tern_last_error();
  tern_context_free(c);
}

// A callback may read the statistics and the logits of the context it runs in, and may free
// it (the free happens when the call returns), but not feed it.
TEST_F(Misuse, CallsFromACallback) {
  struct State {
    tern_context* c;
    tern_status stats = TERN_ERR_INTERNAL, eval = TERN_OK;
    int pieces = 0;
    bool free_now = false;
  };
  auto cb = [](const char*, size_t, void* ud) -> int {
    auto* s = static_cast<State*>(ud);
    tern_context_stats st{};
    st.struct_size = sizeof st;
    s->stats = tern_context_get_stats(s->c, &st);
    const tern_token t = 1;
    s->eval = tern_eval(s->c, &t, 1);
    if (++s->pieces == 3 && s->free_now) tern_context_free(s->c);
    return 1;
  };
  tern_generate_params g = tern_generate_default_params();
  g.max_tokens = 5;
  State s{new_context()};
  EXPECT_EQ(tern_generate(s.c, "Once", &g, cb, &s, nullptr), TERN_OK) << tern_last_error();
  EXPECT_EQ(s.stats, TERN_OK);
  EXPECT_EQ(s.eval, TERN_ERR_INVALID_ARGUMENT);
  tern_context_free(s.c);
  State f{new_context()};
  f.free_now = true;
  g.max_tokens = 0;
  EXPECT_EQ(tern_generate(f.c, "Once", &g, cb, &f, nullptr), TERN_ERR_CANCELLED);
  const tern_token t = 1;
  EXPECT_EQ(tern_eval(f.c, &t, 1), TERN_ERR_INVALID_HANDLE);
}

uint64_t peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return uint64_t(u.ru_maxrss);
}

// Reproduction 5: tern_generate tokenized a 50 MB prompt (84 s, 4 GB) before it could say the
// context was full. No token spans more than the vocabulary's longest piece, so the prompt's
// length alone shows it cannot fit: refused at once, nothing tokenized.
TEST_F(Misuse, APromptThatCannotFitIsRefusedBeforeTokenizing) {
  tern_context* c = new_context(512);
  std::string prompt;
  while (prompt.size() < (50u << 20)) prompt += "Once upon a time, there was a little girl named Lily. ";
  const uint64_t before = peak_rss_kib();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(tern_generate(c, prompt.c_str(), nullptr, nullptr, nullptr, nullptr), TERN_ERR_CONTEXT_FULL);
  EXPECT_NE(std::string(tern_last_error()).find("does not fit"), std::string::npos) << tern_last_error();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_LT(peak_rss_kib() - before, 16u * 1024) << "KiB of peak RSS growth";
  tern_context_free(c);
  // tern_tokenize past the per-call limit: refused before any work.
  std::string huge(65u << 20, 'x');
  size_t n = 0;
  EXPECT_EQ(tern_tokenize(model_, huge.data(), huge.size(), 1, 0, nullptr, 0, &n), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tern_last_error()).find("longer than one call takes"), std::string::npos) << tern_last_error();
}

}  // namespace
}  // namespace tern::test

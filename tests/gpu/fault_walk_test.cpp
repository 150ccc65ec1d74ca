// Fault injection walk (issue 14): the Nth device allocation, the Nth queue submission (as
// VK_ERROR_DEVICE_LOST) and the Nth host allocation fail (gpu/fault_injection.h), for N over a
// whole load + generate + save + restore through the C API. Every call must then return OK or a
// clear status with a message, a context that lost its device must refuse further work with
// TERN_ERR_DEVICE_LOST, the model must still free, and nothing may leak (LeakSanitizer checks
// the whole process at exit in the ASan build).
//
// Host allocations: this file replaces the global operator new, so only this test binary counts
// them. Only allocations made by Tern's own code fail (the first caller frame outside the C++
// runtime is in this executable, where libtern is linked statically), and none while a library
// that is not exception-safe is on the stack (is_fragile_library: the Vulkan loader and
// validation layer, sentencepiece, protobuf): lavapipe's LLVM and those libraries are not
// written to survive a failed allocation, and they are not Tern's to fix (docs/reliability.md).
//
// Which N: a dry run records where each step of the scenario (load, create, generate, save,
// create again, restore, continue, free) begins and ends in each kind's events, and the walk
// fails the first, the middle and the last event of every step that has any, so every kind of
// site (every step's allocations and submissions) is hit while the test stays short under ASan
// (the whole walk, then about 52,000 host allocations, now about 10,000, took 704 s there on a
// loaded machine).
// TERN_FAULT_WALK=all walks every event of every kind; TERN_FAULT_WALK=K fails K points spread
// over each step (docs/reliability.md reports the longer walks).
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/c_api_internal.h"
#include "common/env.h"
#include "gpu/device.h"
#include "gpu/fault_injection.h"
#include "support/gpu_fixture.h"
#include "support/model_files.h"
#include "support/test_env.h"
#include "tern.h"

namespace fault = tern::gpu::fault;

// ---- the operator new replacement ------------------------------------------------------------

// The replacements below allocate with malloc and free with free, as a pair; GCC 12 at -O1 (the
// ASan build) inlines gtest's `new TestInfo` / `delete` into them and reports free() on memory from
// operator new (-Wmismatched-new-delete), not seeing that operator new is the one defined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {

thread_local bool t_in_hook = false;

bool is_runtime_library(const char* path) {
  for (const char* name : {"libstdc++", "libc.so", "libc-", "libgcc_s", "libasan", "libubsan", "libm.so", "ld-linux"})
    if (std::strstr(path, name)) return true;
  return false;
}

// Libraries that are not written to survive a failed allocation, or to have an exception pass
// through them: no allocation is failed while one of them is on the stack (Tern's code can run
// under them: a validation-layer callback, protobuf code inlined from its headers into
// SpmBackend). sentencepiece's protobuf messages crash in their destructors when a bad_alloc
// unwinds through a half-built message (seen in the ASan build: SEGV in
// ~ModelProto_SentencePiece under SpmBackend's constructor); the Vulkan loader and the
// validation layer are C/C++ built without a promise about exceptions (seen: std::terminate
// in _Unwind_Resume inside libVkLayer_khronos_validation under vkDestroyBuffer). They are
// third-party code, out of Tern's scope (docs/reliability.md).
bool is_fragile_library(const char* path) {
  for (const char* name : {"libsentencepiece", "libprotobuf", "libvulkan", "libVkLayer"})
    if (std::strstr(path, name)) return true;
  return false;
}

// Whether the allocation being made comes from this executable's code (Tern, statically
// linked): the first caller outside the C++ runtime decides, starting at the frame that called
// operator new (`caller`, its return address). Finding that frame by address, not by a fixed
// depth, matters: how many of the hook's own frames there are depends on inlining (at -O1, the
// ASan build, allocate() and this function are frames of their own, and a fixed depth took
// them for the caller, so the validation layer's and protobuf's own allocations were failed).
bool from_tern_code(const void* caller) {
  static Dl_info self{};
  static const bool have_self = dladdr(reinterpret_cast<void*>(&is_runtime_library), &self) != 0;
  if (!have_self) return false;
  void* frames[64];
  const int n = backtrace(frames, 64);
  int first = 0;
  while (first < n && frames[first] != caller) ++first;
  if (first == n) return false;  // the caller's frame not found: do not guess
  bool tern = false, decided = false;
  for (int i = first; i < n; ++i) {
    Dl_info info{};
    if (!dladdr(frames[i], &info) || !info.dli_fname) {
      if (!decided) return false;
      continue;
    }
    if (is_fragile_library(info.dli_fname)) return false;
    if (!decided) {
      if (info.dli_fbase == self.dli_fbase) tern = decided = true;
      else if (!is_runtime_library(info.dli_fname)) return false;
    }
  }
  return tern;
}

bool inject_host_failure(const void* caller) {
  if (t_in_hook || !fault::host_counting()) return false;
  t_in_hook = true;
  const bool fail = from_tern_code(caller) && fault::should_fail(fault::Kind::HostAlloc);
  t_in_hook = false;
  return fail;
}

void* allocate(std::size_t n, std::size_t align, bool nothrow, const void* caller) {
  if (inject_host_failure(caller)) {
    if (nothrow) return nullptr;
    throw std::bad_alloc();
  }
  if (n == 0) n = 1;
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(n);
  } else if (posix_memalign(&p, align, n) != 0) {
    p = nullptr;
  }
  if (!p && !nothrow) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n, 0, false, __builtin_return_address(0)); }
void* operator new[](std::size_t n) { return allocate(n, 0, false, __builtin_return_address(0)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0, true, __builtin_return_address(0)); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, 0, true, __builtin_return_address(0)); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, std::size_t(a), false, __builtin_return_address(0)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, std::size_t(a), false, __builtin_return_address(0)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, std::size_t(a), true, __builtin_return_address(0));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate(n, std::size_t(a), true, __builtin_return_address(0));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

// ---- the walk -----------------------------------------------------------------------------------

namespace tern::test {
namespace {

// What one run saw: the first failed call (step name, status, message), and whether a call after
// a device loss was refused as it must be. Fixed-size text: nothing here allocates while armed.
struct RunResult {
  bool ok = true;
  char step[32] = "";
  tern_status status = TERN_OK;
  char message[256] = "";
  tern_status after_loss = TERN_OK;  // a further call on the context once the device was lost
};

struct Collect {
  int pieces = 0;
};

int count_piece(const char*, size_t, void* ud) {
  ++static_cast<Collect*>(ud)->pieces;
  return 1;
}

// The scenario's steps, in order (the last is freeing everything).
constexpr int k_steps = 8;
constexpr const char* k_step_names[k_steps] = {"load", "create", "generate", "save", "create again", "restore", "continue", "free"};

// Load, generate, save to a file, restore into a new context, generate again, free all. Stops at
// the first call that fails and frees what it made. marks (optional, k_steps entries): the count
// of `kind`'s events when each step has ended (steps not reached keep the last count).
void scenario(const std::shared_ptr<gpu::Device>& device, const char* model_path, const char* state_path, RunResult& r,
              fault::Kind kind = fault::Kind::HostAlloc, uint64_t* marks = nullptr) {
  tern_model* m = nullptr;
  tern_context* c = nullptr;
  int step = 0;
  auto failed = [&](const char* name, tern_status s) {
    if (marks)
      for (; step < k_steps && std::strcmp(k_step_names[step], name) != 0; ++step) marks[step] = fault::count(kind);
    if (marks && step < k_steps) marks[step++] = fault::count(kind);
    if (s == TERN_OK) return false;
    r.ok = false;
    std::snprintf(r.step, sizeof r.step, "%s", name);
    r.status = s;
    std::snprintf(r.message, sizeof r.message, "%s", tern_last_error());
    if (s == TERN_ERR_DEVICE_LOST && c) {
      const tern_token t = 1;
      r.after_loss = tern_eval(c, &t, 1);
    }
    return true;
  };
  auto finish = [&] {
    tern_context_free(c);
    tern_model_free(m);
    if (marks)
      for (; step < k_steps; ++step) marks[step] = fault::count(kind);
  };
  if (failed("load", internal::model_load_on_device(model_path, device, &m)))
    return finish();
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 64;
  if (failed("create", tern_context_create(m, &p, &c))) return finish();
  tern_generate_params g = tern_generate_default_params();
  g.sampler.temperature = 0.f;
  g.max_tokens = 6;
  Collect col;
  if (failed("generate", tern_generate(c, "Once upon a time", &g, count_piece, &col, nullptr))) return finish();
  if (failed("save", tern_state_save_file(c, state_path))) return finish();
  tern_context_free(c);
  c = nullptr;
  if (failed("create again", tern_context_create(m, &p, &c))) return finish();
  if (failed("restore", tern_state_load_file(c, state_path))) return finish();
  g.max_tokens = 4;
  if (failed("continue", tern_generate(c, " The end", &g, count_piece, &col, nullptr))) return finish();
  finish();
}

const char* kind_name(fault::Kind k) {
  return k == fault::Kind::DeviceAlloc ? "device allocation" : k == fault::Kind::Submit ? "submission" : "host allocation";
}

tern_status expected_status(fault::Kind k) {
  return k == fault::Kind::DeviceAlloc ? TERN_ERR_OUT_OF_DEVICE_MEMORY
         : k == fault::Kind::Submit    ? TERN_ERR_DEVICE_LOST
                                       : TERN_ERR_OUT_OF_HOST_MEMORY;
}

// The N to try, given where each step's events end (marks, from a dry run): every event with
// TERN_FAULT_WALK=all, else `per_step` points spread over each step that has events (its first
// and last among them; per_step 3 by default, TERN_FAULT_WALK=K for K).
std::vector<uint64_t> walk_points(const uint64_t* marks) {
  const std::optional<std::string> env = tern::env_string("TERN_FAULT_WALK");
  const uint64_t events = marks[k_steps - 1];
  std::vector<uint64_t> n;
  if (env == "all") {
    for (uint64_t i = 1; i <= events; ++i) n.push_back(i);
    return n;
  }
  const uint64_t per_step = env ? std::max<uint64_t>(1, std::strtoull(env->c_str(), nullptr, 10)) : 3;
  uint64_t begin = 0;  // events before the step
  for (int s = 0; s < k_steps; ++s) {
    const uint64_t end = marks[s];
    if (end > begin) {
      const uint64_t span = end - begin;  // events begin+1 .. end
      const uint64_t k = std::min(per_step, span);
      for (uint64_t j = 0; j < k; ++j) {
        const uint64_t at = begin + 1 + (k == 1 ? 0 : j * (span - 1) / (k - 1));
        if (n.empty() || n.back() != at) n.push_back(at);
      }
    }
    begin = std::max(begin, end);
  }
  return n;
}

class FaultWalk : public GpuTest, public ::testing::WithParamInterface<fault::Kind> {
 protected:
  void SetUp() override {
    GpuTest::SetUp();
    model_ = stories260k_gguf(GgmlType::F32);
    if (model_.empty()) GTEST_SKIP() << "needs ../shared/models/stories260K.bin";
    state_ = (scratch_dir("fault_walk") / "state.bin").string();
    device_ = std::shared_ptr<gpu::Device>(&test_device(), [](gpu::Device*) {});  // not owned
    // A run with nothing injected warms the device's pipelines and the file cache (so later
    // runs do the same work) and must pass.
    RunResult warm;
    scenario(device_, model_.c_str(), state_.c_str(), warm);
    ASSERT_TRUE(warm.ok) << warm.step << ": " << warm.message;
  }
  void TearDown() override {
    fault::disarm();
    dev().reset_lost_for_testing();
    GpuTest::TearDown();
  }
  std::filesystem::path model_;
  std::string state_;
  std::shared_ptr<gpu::Device> device_;  // made before anything is armed (its control block is an allocation)
};

TEST_P(FaultWalk, EveryFailureIsAClearStatus) {
  const fault::Kind kind = GetParam();
  fault::arm(kind, 0);  // count only
  RunResult dry;
  uint64_t marks[k_steps] = {};
  scenario(device_, model_.c_str(), state_.c_str(), dry, kind, marks);
  const uint64_t events = fault::count(kind);
  fault::disarm();
  ASSERT_TRUE(dry.ok) << dry.step << ": " << dry.message;
  ASSERT_GT(events, 0u) << "the workload makes no " << kind_name(kind);
  ASSERT_EQ(marks[k_steps - 1], events);
  std::string per_step;
  for (int s = 0; s < k_steps; ++s)
    per_step += std::string(s ? ", " : "") + k_step_names[s] + " " + std::to_string(marks[s] - (s ? marks[s - 1] : 0));
  std::printf("%s events per step: %s\n", kind_name(kind), per_step.c_str());
  uint64_t tried = 0, failed_runs = 0;
  for (uint64_t n : walk_points(marks)) {
    RunResult r;
    fault::arm(kind, n);
    scenario(device_, model_.c_str(), state_.c_str(), r);
    const bool fired = fault::fired();
    fault::disarm();
    dev().reset_lost_for_testing();  // the injected loss was not a real one
    ++tried;
    if (!r.ok) ++failed_runs;
    SCOPED_TRACE(std::string(kind_name(kind)) + " " + std::to_string(n) + " of " + std::to_string(events));
    if (!fired) {
      EXPECT_TRUE(r.ok) << "failed with nothing injected: " << r.step << ": " << r.message;
      continue;
    }
    // A failure some code absorbs (a warning, a retry) may leave the run successful.
    if (r.ok) continue;
    EXPECT_EQ(r.status, expected_status(kind)) << r.step << ": " << tern_status_string(r.status) << ": " << r.message;
    EXPECT_NE(r.message[0], '\0') << r.step << ": no message";
    if (r.status == TERN_ERR_DEVICE_LOST && std::strcmp(r.step, "load") != 0 && std::strcmp(r.step, "create") != 0) {
      EXPECT_EQ(r.after_loss, TERN_ERR_DEVICE_LOST) << r.step << ": a context that lost its device took more work";
    }
  }
  std::printf("%s: %llu events, %llu runs, %llu failed cleanly\n", kind_name(kind), (unsigned long long)events,
              (unsigned long long)tried, (unsigned long long)failed_runs);
  EXPECT_GT(failed_runs, 0u);
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultWalk,
                         ::testing::Values(fault::Kind::DeviceAlloc, fault::Kind::Submit, fault::Kind::HostAlloc),
                         [](const ::testing::TestParamInfo<fault::Kind>& i) {
                           return i.param == fault::Kind::DeviceAlloc ? std::string("DeviceAlloc")
                                  : i.param == fault::Kind::Submit    ? std::string("Submit")
                                                                      : std::string("HostAlloc");
                         });

}  // namespace
}  // namespace tern::test

#include "gpu/fault_injection.h"

#include <atomic>
#include <thread>

namespace tern::gpu::fault {
namespace {

std::atomic<bool> g_active{false};
std::atomic<uint64_t> g_count[3];
std::atomic<uint64_t> g_target[3];
std::atomic<bool> g_fired{false};
std::atomic<std::thread::id> g_host_thread{};

}  // namespace

void arm(Kind kind, uint64_t nth) {
  g_active.store(false);
  for (int k = 0; k < 3; ++k) {
    g_count[k].store(0);
    g_target[k].store(0);
  }
  g_target[int(kind)].store(nth);
  g_fired.store(false);
  g_host_thread.store(std::this_thread::get_id());
  g_active.store(true);
}

void disarm() {
  g_active.store(false);
  for (auto& t : g_target) t.store(0);
}

uint64_t count(Kind kind) { return g_count[int(kind)].load(); }

bool fired() { return g_fired.load(); }

bool host_counting() {
  return g_active.load(std::memory_order_relaxed) && g_host_thread.load() == std::this_thread::get_id();
}

bool should_fail(Kind kind) {
  if (!g_active.load(std::memory_order_relaxed)) return false;
  if (kind == Kind::HostAlloc && g_host_thread.load() != std::this_thread::get_id()) return false;
  const uint64_t n = g_count[int(kind)].fetch_add(1) + 1;
  const uint64_t target = g_target[int(kind)].load();
  if (target == 0 || n != target) return false;
  g_fired.store(true);
  return true;
}

}  // namespace tern::gpu::fault

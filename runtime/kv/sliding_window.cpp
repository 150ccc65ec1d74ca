#include "kv/sliding_window.h"

#include <algorithm>
#include <limits>
#include <string>

#include "common/error.h"

namespace tern {
namespace {
constexpr uint32_t k_state_magic = 0x53574131;  // "SWA1"
}  // namespace

SlidingWindowCache::SlidingWindowCache(uint32_t window, uint32_t slots) : window_(window), slots_(slots) {
  check(window >= 1, Status::InvalidArgument, "a sliding window holds at least one token");
  check(slots >= window, Status::InvalidArgument, [&] {
    return "a sliding-window cache of " + std::to_string(slots) + " slots cannot hold its window of " +
           std::to_string(window) + " tokens";
  });
}

uint32_t SlidingWindowCache::used() const { return uint32_t(std::min<uint64_t>(consumed_, slots_)); }

std::vector<int32_t> SlidingWindowCache::positions_after(uint64_t consumed) const {
  std::vector<int32_t> pos(slots_, -1);
  const uint64_t first = consumed > slots_ ? consumed - slots_ : 0;
  for (uint64_t t = first; t < consumed; ++t) pos[t % slots_] = int32_t(t);
  return pos;
}

std::vector<int32_t> SlidingWindowCache::slot_positions() const { return positions_after(consumed_); }

bool SlidingWindowCache::fits(uint32_t n) const { return n >= 1 && (n <= max_rows() || consumed_ + n <= slots_); }

SlidingStep SlidingWindowCache::plan(uint32_t n) const {
  check(fits(n), Status::InvalidArgument, [&] {
    return "a step of " + std::to_string(n) + " rows does not fit a sliding-window cache of " + std::to_string(slots_) +
           " slots for a window of " + std::to_string(window_) + " (at most " + std::to_string(max_rows()) + ")";
  });
  check(consumed_ + n <= uint64_t(std::numeric_limits<int32_t>::max()), Status::ContextFull,
        "text positions would pass 2^31 - 1");
  SlidingStep s;
  for (uint32_t i = 0; i < n; ++i) {
    s.slots.push_back(uint32_t((consumed_ + i) % slots_));
    s.positions.push_back(int32_t(consumed_ + i));
  }
  s.slot_pos = positions_after(consumed_ + n);
  return s;
}

void SlidingWindowCache::commit(uint32_t n) {
  check(consumed_ + n <= uint64_t(std::numeric_limits<int32_t>::max()), Status::Internal,
        "sliding-window commit past 2^31 - 1");
  consumed_ += n;
}

std::vector<uint32_t> SlidingWindowCache::save() const {
  return {k_state_magic, window_, slots_, uint32_t(consumed_), uint32_t(consumed_ >> 32)};
}

void SlidingWindowCache::restore(std::span<const uint32_t> words) {
  check(words.size() == 5 && words[0] == k_state_magic, Status::StateMismatch,
        "saved state holds no sliding-window cache state");
  check(words[1] == window_ && words[2] == slots_, Status::StateMismatch, [&] {
    return "saved sliding-window cache (window " + std::to_string(words[1]) + ", " + std::to_string(words[2]) +
           " slots) differs from this context's (window " + std::to_string(window_) + ", " + std::to_string(slots_) +
           " slots)";
  });
  const uint64_t consumed = uint64_t(words[3]) | uint64_t(words[4]) << 32;
  check(consumed <= uint64_t(std::numeric_limits<int32_t>::max()), Status::StateMismatch,
        "saved sliding-window position out of range");
  consumed_ = consumed;
}

}  // namespace tern

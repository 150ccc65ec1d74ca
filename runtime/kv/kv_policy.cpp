#include "kv/kv_policy.h"

#include <algorithm>
#include <limits>

#include "common/error.h"

namespace tern {

uint32_t beacon_working_slots(const KvPolicyConfig& c) {
  return c.beacon_ratio ? c.sinks + c.beacon_window + c.beacon_window / c.beacon_ratio : c.sinks;
}

bool is_beacon_kind(KvPolicyKind k) { return k == KvPolicyKind::Beacon || k == KvPolicyKind::BeaconSliding; }

void validate(const KvPolicyConfig& c) {
  check(c.slots > 0, Status::InvalidArgument, "KV cache needs at least one slot");
  switch (c.kind) {
    case KvPolicyKind::Dense:
      break;
    case KvPolicyKind::SinksWindow:
      check(c.slots > c.sinks, Status::InvalidArgument, [&] {
        return "KV window of " + std::to_string(c.slots) + " slots leaves no room after " + std::to_string(c.sinks) +
               " sink tokens";
      });
      break;
    case KvPolicyKind::Beacon: {
      check(c.beacon_ratio >= 1, Status::InvalidArgument, "beacon ratio must be at least 1");
      check(c.beacon_window >= c.beacon_ratio && c.beacon_window % c.beacon_ratio == 0, Status::InvalidArgument, [&] {
        return "beacon window (" + std::to_string(c.beacon_window) +
               " tokens) must be a positive multiple of the ratio (" + std::to_string(c.beacon_ratio) + ")";
      });
      check(c.sinks <= c.beacon_window, Status::InvalidArgument, "beacon policy: more sinks than a chunk holds");
      const uint64_t need = uint64_t(beacon_working_slots(c)) + c.beacon_window / c.beacon_ratio;
      check(c.slots >= need, Status::InvalidArgument, [&] {
        return "beacon policy with window " + std::to_string(c.beacon_window) + ", ratio " +
               std::to_string(c.beacon_ratio) + " and " + std::to_string(c.sinks) + " sinks needs at least " +
               std::to_string(need) +
               " KV slots (sinks + one chunk with its beacons + one chunk of beacon memory); the budget gives " +
               std::to_string(c.slots);
      });
      break;
    }
    case KvPolicyKind::BeaconSliding: {
      check(c.beacon_ratio >= 1, Status::InvalidArgument, "beacon ratio must be at least 1");
      check(c.beacon_window >= c.beacon_ratio, Status::InvalidArgument, [&] {
        return "sliding beacon: the raw window (" + std::to_string(c.beacon_window) +
               " tokens) must hold at least one group of ratio " + std::to_string(c.beacon_ratio) + " tokens";
      });
      const uint64_t need = uint64_t(beacon_working_slots(c)) + 1;
      check(c.slots >= need, Status::InvalidArgument, [&] {
        return "sliding beacon with raw window " + std::to_string(c.beacon_window) + ", ratio " +
               std::to_string(c.beacon_ratio) + " and " + std::to_string(c.sinks) + " sinks needs at least " +
               std::to_string(need) +
               " KV slots (sinks + raw window + window / ratio hidden beacons + one beacon of memory); the budget "
               "gives " +
               std::to_string(c.slots);
      });
      break;
    }
  }
}

std::string describe(const KvPolicyConfig& c) {
  switch (c.kind) {
    case KvPolicyKind::Dense:
      return "dense " + std::to_string(c.slots);
    case KvPolicyKind::SinksWindow:
      return c.sinks ? "sinks " + std::to_string(c.sinks) + " + window " + std::to_string(c.slots - c.sinks)
                     : "window " + std::to_string(c.slots);
    case KvPolicyKind::Beacon:
      return "beacon ratio " + std::to_string(c.beacon_ratio) + ", window " + std::to_string(c.beacon_window) +
             ", sinks " + std::to_string(c.sinks) + ", " + std::to_string(c.slots) + " slots";
    case KvPolicyKind::BeaconSliding:
      return "sliding beacon ratio " + std::to_string(c.beacon_ratio) + ", raw window " +
             std::to_string(c.beacon_window) + ", sinks " + std::to_string(c.sinks) + ", " + std::to_string(c.slots) +
             " slots";
  }
  return "?";
}

namespace {

bool in_text_order(const KvStep& s) {
  for (uint32_t j = 0; j < s.n_kv; ++j)
    if (s.slot_pos[j] != int32_t(j)) return false;
  for (size_t i = 0; i < s.rows.size(); ++i)
    if (s.rows[i].slot != s.rows[0].slot + i || s.rows[i].position != int32_t(s.rows[i].slot)) return false;
  return true;
}

// A beacon policy's current entries in the order advance() leaves them: `lead` raw tokens whose
// group's beacon has gone to memory (sliding mode), whole groups of r raw tokens each followed
// by its beacon, then `open` raw tokens of the group still filling.
template <class Entries>
bool groups_in_order(const Entries& current, uint32_t r, uint32_t lead, uint32_t open) {
  size_t i = 0;
  auto raws = [&](uint32_t n) {
    for (uint32_t j = 0; j < n; ++j, ++i)
      if (i >= current.size() || current[i].beacon) return false;
    return true;
  };
  if (!raws(lead)) return false;
  while (i < current.size() && current.size() - i > open) {
    if (!raws(r) || i >= current.size() || !current[i].beacon) return false;
    ++i;
  }
  return raws(open) && i == current.size();
}

}  // namespace

KvStep dense_step(uint32_t first, uint32_t n) {
  KvStep s;
  for (uint32_t i = 0; i < n; ++i) s.rows.push_back({false, first + i, int32_t(first + i)});
  s.n_raw = n;
  s.n_kv = first + n;
  for (uint32_t j = 0; j < s.n_kv; ++j) s.slot_pos.push_back(int32_t(j));
  s.in_order = true;
  return s;
}

KvPolicy::KvPolicy(const KvPolicyConfig& config) : config_(config) {
  validate(config_);
  reset();
}

void KvPolicy::reset() {
  state_ = State{};
  // Slot 0 is taken first, so a dense cache fills slots in text order (position == slot).
  state_.free.resize(config_.slots);
  for (uint32_t i = 0; i < config_.slots; ++i) state_.free[i] = config_.slots - 1 - i;
}

uint32_t KvPolicy::memory_capacity() const { return config_.slots - beacon_working_slots(config_); }

uint32_t KvPolicy::take_slot(State& s) const {
  check(!s.free.empty(), Status::Internal, "KV policy ran out of slots");
  const uint32_t slot = s.free.back();
  s.free.pop_back();
  return slot;
}

std::vector<int32_t> KvPolicy::positions_of(const State& s, uint32_t fresh) const {
  const bool hide = config_.kind == KvPolicyKind::BeaconSliding;
  std::vector<int32_t> pos(config_.slots, -1);
  int32_t p = 0;
  for (uint32_t slot : s.sinks) pos[slot] = p++;
  for (uint32_t slot : s.memory) pos[slot] = p++;
  for (const Entry& e : s.current)
    if (!(hide && e.beacon && e.slot != fresh)) pos[e.slot] = p++;
  return pos;
}

std::vector<int32_t> KvPolicy::slot_positions() const { return positions_of(state_); }

void KvPolicy::evict_window_token(State& s) const {
  // The oldest raw token leaves the window. When it is the first of its group, the group's
  // beacon (the oldest one still hidden: earlier groups' beacons left with their first tokens)
  // becomes visible, so the group stays represented; beyond capacity the oldest beacon goes.
  check(!s.current.empty() && !s.current.front().beacon, Status::Internal, "sliding beacon: window order broken");
  s.free.push_back(s.current.front().slot);
  s.current.pop_front();
  --s.chunk_raw;
  if (s.evicted_phase == 0) {
    auto it = std::find_if(s.current.begin(), s.current.end(), [](const Entry& e) { return e.beacon; });
    check(it != s.current.end(), Status::Internal, "sliding beacon: a group left the window without its beacon");
    s.memory.push_back(it->slot);
    s.current.erase(it);
    while (s.memory.size() > memory_capacity()) {
      s.free.push_back(s.memory.front());
      s.memory.pop_front();
    }
  }
  s.evicted_phase = (s.evicted_phase + 1) % config_.beacon_ratio;
}

void KvPolicy::advance(State& s, uint32_t avail, uint32_t max_rows, KvStep& step) const {
  const KvPolicyConfig& c = config_;
  switch (c.kind) {
    case KvPolicyKind::Dense: {
      const uint32_t n = std::min<uint32_t>({avail, max_rows, uint32_t(s.free.size())});
      check(n > 0, Status::ContextFull,
            [&] { return "the KV cache is full (" + std::to_string(c.slots) + " tokens)"; });
      for (uint32_t i = 0; i < n; ++i) {
        const uint32_t slot = take_slot(s);
        s.current.push_back({slot, false});
        step.rows.push_back({false, slot, 0});
      }
      step.n_raw = n;
      break;
    }
    case KvPolicyKind::SinksWindow: {
      // Every eviction happens before the step: a batch of n tokens arriving at a full window
      // first drops the n oldest window tokens, then all n see the same retained entries.
      const uint32_t n = std::min<uint32_t>({avail, max_rows, c.slots - c.sinks});
      for (uint32_t i = 0; i < n; ++i) {
        const bool sink = s.sinks.size() < c.sinks;
        if (!sink && s.free.empty()) {
          s.free.push_back(s.current.front().slot);
          s.current.pop_front();
          ++s.key_offset;
        }
        const uint32_t slot = take_slot(s);
        if (sink)
          s.sinks.push_back(slot);
        else
          s.current.push_back({slot, false});
        step.rows.push_back({false, slot, 0});
      }
      step.n_raw = n;
      break;
    }
    case KvPolicyKind::Beacon: {
      // Raw tokens up to the end of the current chunk (the next chunk must see this one
      // compacted), each r-th followed by its beacon.
      while (step.n_raw < avail && s.chunk_raw < c.beacon_window) {
        const bool with_beacon = s.since_beacon + 1 == c.beacon_ratio;
        if (step.rows.size() + (with_beacon ? 2 : 1) > max_rows) break;
        uint32_t slot = take_slot(s);
        s.current.push_back({slot, false});
        step.rows.push_back({false, slot, 0});
        ++step.n_raw;
        ++s.chunk_raw;
        ++s.since_beacon;
        if (with_beacon) {
          slot = take_slot(s);
          s.current.push_back({slot, true});
          step.rows.push_back({true, slot, 0});
          s.since_beacon = 0;
        }
      }
      check(step.n_raw > 0, Status::Internal, "KV policy: no room for a beacon step");
      break;
    }
    case KvPolicyKind::BeaconSliding: {
      // Sinks first (no groups among them); then each raw token enters the window (evicting
      // the oldest when it is full) and each r-th is followed by its beacon, which ends the step.
      while (step.n_raw < avail) {
        const bool sink = s.sinks.size() < c.sinks;
        const bool with_beacon = !sink && s.since_beacon + 1 == c.beacon_ratio;
        if (step.rows.size() + (with_beacon ? 2 : 1) > max_rows) break;
        if (!sink && s.chunk_raw == c.beacon_window) evict_window_token(s);
        uint32_t slot = take_slot(s);
        if (sink) {
          s.sinks.push_back(slot);
        } else {
          s.current.push_back({slot, false});
          ++s.chunk_raw;
          ++s.since_beacon;
        }
        step.rows.push_back({false, slot, 0});
        ++step.n_raw;
        if (with_beacon) {
          slot = take_slot(s);
          s.current.push_back({slot, true});
          step.rows.push_back({true, slot, 0});
          s.since_beacon = 0;
          break;
        }
      }
      check(step.n_raw > 0, Status::Internal, "KV policy: no room for a beacon step");
      break;
    }
  }
}

KvStep KvPolicy::plan(uint32_t avail, uint32_t max_rows) const {
  check(avail > 0 && max_rows >= 2, Status::Internal, "KV policy: empty step");
  State s = state_;
  KvStep step;
  advance(s, avail, max_rows, step);
  step.slot_pos = positions_of(s, !step.rows.empty() && step.rows.back().beacon ? step.rows.back().slot : UINT32_MAX);
  for (KvRow& r : step.rows) r.position = step.slot_pos[r.slot];
  step.n_kv = 0;
  for (uint32_t i = 0; i < config_.slots; ++i)
    if (step.slot_pos[i] >= 0) step.n_kv = i + 1;
  step.slot_pos.resize(step.n_kv);
  step.in_order = in_text_order(step);
  step.key_offset = s.key_offset;
  return step;
}

void KvPolicy::compact_chunk(State& s) const {
  const KvPolicyConfig& c = config_;
  // The stream's first rows stay as attention sinks (the reference slices them off the first
  // window's keys).
  while (s.sinks.size() < c.sinks && !s.current.empty()) {
    s.sinks.push_back(s.current.front().slot);
    s.current.pop_front();
  }
  for (const Entry& e : s.current) {
    if (e.beacon)
      s.memory.push_back(e.slot);
    else
      s.free.push_back(e.slot);
  }
  s.current.clear();
  s.chunk_raw = 0;
  while (s.memory.size() > memory_capacity()) {  // StreamingLLM over beacons: drop the oldest
    s.free.push_back(s.memory.front());
    s.memory.pop_front();
  }
}

void KvPolicy::commit(const KvStep& step) {
  // The same rules plan() ran on a copy, now on the real state.
  KvStep done;
  advance(state_, step.n_raw, uint32_t(step.rows.size()), done);
  bool same = done.n_raw == step.n_raw && done.rows.size() == step.rows.size();
  for (size_t i = 0; same && i < done.rows.size(); ++i) same = done.rows[i].slot == step.rows[i].slot;
  check(same, Status::Internal, "KV policy: a step was committed out of order");
  if (config_.kind == KvPolicyKind::Beacon && state_.chunk_raw == config_.beacon_window) compact_chunk(state_);
}

KvUsage KvPolicy::usage() const {
  KvUsage u;
  u.capacity = config_.slots;
  u.sinks = uint32_t(state_.sinks.size());
  u.beacons = uint32_t(state_.memory.size());
  for (const Entry& e : state_.current) (e.beacon ? u.beacons : u.raw) += 1;
  return u;
}

uint32_t KvPolicy::room() const {
  return config_.kind == KvPolicyKind::Dense ? uint32_t(state_.free.size()) : std::numeric_limits<uint32_t>::max();
}

std::vector<uint32_t> KvPolicy::save() const {
  const State& s = state_;
  std::vector<uint32_t> w;
  w.push_back(uint32_t(s.sinks.size()));
  w.insert(w.end(), s.sinks.begin(), s.sinks.end());
  w.push_back(uint32_t(s.memory.size()));
  w.insert(w.end(), s.memory.begin(), s.memory.end());
  w.push_back(uint32_t(s.current.size()));
  for (const Entry& e : s.current) w.push_back(e.slot | (e.beacon ? 0x80000000u : 0u));
  w.push_back(uint32_t(s.free.size()));
  w.insert(w.end(), s.free.begin(), s.free.end());
  w.push_back(s.chunk_raw);
  w.push_back(s.since_beacon);
  if (config_.kind == KvPolicyKind::BeaconSliding) w.push_back(s.evicted_phase);
  if (config_.kind == KvPolicyKind::SinksWindow) w.push_back(s.key_offset);
  return w;
}

void KvPolicy::restore(std::span<const uint32_t> words) {
  State s;
  size_t at = 0;
  auto next = [&]() {
    check(at < words.size(), Status::StateMismatch, "saved KV policy state is truncated");
    return words[at++];
  };
  std::vector<uint8_t> seen(config_.slots, 0);
  auto slot = [&](uint32_t v) {
    check(v < config_.slots && !seen[v], Status::StateMismatch, "saved KV policy state has a bad slot");
    seen[v] = 1;
    return v;
  };
  auto count = [&]() {
    const uint32_t n = next();
    check(n <= config_.slots, Status::StateMismatch, "saved KV policy state has an absurd count");
    return n;
  };
  for (uint32_t i = 0, n = count(); i < n; ++i) s.sinks.push_back(slot(next()));
  for (uint32_t i = 0, n = count(); i < n; ++i) s.memory.push_back(slot(next()));
  for (uint32_t i = 0, n = count(); i < n; ++i) {
    const uint32_t v = next();
    s.current.push_back({slot(v & 0x7fffffffu), (v & 0x80000000u) != 0});
  }
  for (uint32_t i = 0, n = count(); i < n; ++i) s.free.push_back(slot(next()));
  s.chunk_raw = next();
  s.since_beacon = next();
  if (config_.kind == KvPolicyKind::BeaconSliding) s.evicted_phase = next();
  if (config_.kind == KvPolicyKind::SinksWindow) s.key_offset = next();
  check(at == words.size() && std::find(seen.begin(), seen.end(), 0) == seen.end(), Status::StateMismatch,
        "saved KV policy state does not account for every slot");
  check(s.sinks.size() <= config_.sinks || config_.kind == KvPolicyKind::Dense, Status::StateMismatch,
        "saved KV policy state has too many sinks");
  // What advance() takes for granted, so a hostile state is refused here rather than failing a
  // later step with "internal error" (found by the state fuzzer: a sinks + window state whose
  // slots sat in the beacon memory, leaving no free slot for the next token).
  uint32_t raw = 0, beacons = 0;
  for (const Entry& e : s.current) (e.beacon ? beacons : raw) += 1;
  const bool sinks_filling = s.sinks.size() < config_.sinks;  // sinks are taken before anything else
  if (!is_beacon_kind(config_.kind))
    check(s.memory.empty() && beacons == 0 && s.chunk_raw == 0 && s.since_beacon == 0 &&
              (config_.kind == KvPolicyKind::Dense ? s.sinks.empty() : !sinks_filling || s.current.empty()) &&
              (config_.kind == KvPolicyKind::Dense || raw <= config_.slots - config_.sinks) &&
              // a step evicts at most the window, and a re-base follows once the offset reaches slots
              s.key_offset < 2 * config_.slots && (s.key_offset == 0 || !sinks_filling),
          Status::StateMismatch, "saved KV policy state is inconsistent");
  check(config_.kind != KvPolicyKind::Beacon ||
            (s.chunk_raw < config_.beacon_window && s.since_beacon < config_.beacon_ratio &&
             raw == s.chunk_raw && beacons == s.chunk_raw / config_.beacon_ratio &&
             s.since_beacon == s.chunk_raw % config_.beacon_ratio && s.memory.size() <= memory_capacity() &&
             (!sinks_filling || s.memory.empty()) &&
             groups_in_order(s.current, config_.beacon_ratio, 0, s.since_beacon)),
        Status::StateMismatch, "saved beacon state is inconsistent");
  if (config_.kind == KvPolicyKind::BeaconSliding) {
    const uint32_t hidden = beacons;
    check(s.chunk_raw == raw && raw <= config_.beacon_window && s.since_beacon < config_.beacon_ratio &&
              s.evicted_phase < config_.beacon_ratio && hidden <= config_.beacon_window / config_.beacon_ratio &&
              s.memory.size() <= memory_capacity() && (s.current.empty() || !s.current.front().beacon) &&
              (!sinks_filling || (s.current.empty() && s.memory.empty())) &&
              groups_in_order(s.current, config_.beacon_ratio,
                              s.evicted_phase ? config_.beacon_ratio - s.evicted_phase : 0, s.since_beacon),
          Status::StateMismatch, "saved sliding beacon state is inconsistent");
  }
  state_ = std::move(s);
}

uint32_t KvPolicy::n_kv() const {
  uint32_t n = 0;
  for (uint32_t slot : state_.sinks) n = std::max(n, slot + 1);
  for (uint32_t slot : state_.memory) n = std::max(n, slot + 1);
  for (const Entry& e : state_.current) n = std::max(n, e.slot + 1);
  return n;
}

}  // namespace tern

// Which KV slot each row of a forward step writes, and which position every cached slot
// carries: the host-side bookkeeping of every KV policy (../shared/docs/long-context.md).
//
// One mechanism for all policies: the cache is `slots` rows per layer; keys are stored before
// RoPE and rotated at attention time with the slot's position (Dense, whose positions never
// change, stores them rotated, and SinksWindow rotated at shifted positions: KeyStorage in
// model/key_path.h); the logical cache order is
//   [sinks][beacon memory (oldest first)][current rows (oldest first)]
// and a slot's position is its index in that order, so the newest row always has the largest
// position and no position ever reaches `slots`. Policies differ only in what they keep:
//   Dense        current rows only, never evicts (the cache fills, then ContextFull).
//   SinksWindow  the first `sinks` tokens forever, then a window of the most recent tokens; a
//                full cache evicts the oldest window token. sinks = 0 is the plain window.
//   Beacon       Activation Beacon (interleave mode, full-coverage attention): raw tokens are
//                processed in chunks of `beacon_window`; a beacon row follows every
//                `beacon_ratio`-th raw token; when a chunk is complete its raw rows are dropped
//                and its beacons join the beacon memory (the first `sinks` rows of the stream
//                are kept as sinks); beyond the memory's capacity the oldest beacons are evicted.
//   BeaconSliding  Tern's beacon mode for small budgets: the first `sinks` raw tokens stay
//                forever; after them raw tokens form groups of `beacon_ratio`, each followed by
//                its beacon row; the last `beacon_window` raw tokens stay raw (the oldest leaves
//                as a new one arrives, as in SinksWindow). A beacon is hidden (position -1) while
//                the first raw token of its group is still in the raw window, and joins the
//                beacon memory when that token leaves, so every raw token is always represented
//                by itself or by its beacon; beyond the memory's capacity the oldest beacons are
//                evicted. A row attends to [sinks][visible beacons][raw window][itself]. A step
//                ends after a beacon row (later rows must not see it), so prefill steps hold at
//                most r raw tokens; like SinksWindow, a step of n tokens evicts first.
// Physical slots come from a free list, so nothing is ever copied on the GPU.
//
// Key offset (SinksWindow): the window tokens evicted since the last re-base. Every eviction
// moves each window token one position down while its distance to the newest token stays the
// same, so a window key rotated once at (its position + the key offset of its step) stays right
// for every later query rotated at (its position + the key offset then): the relative angle is
// the text distance (model/key_path.h, KeyStorage::Shifted). The offset only grows; once it
// reaches `slots` (wants_rebase) the owner rotates the window keys back by it and calls
// rebase_keys(), so rotation positions stay below 2 * slots + one step's rows.
#pragma once
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

namespace tern {

enum class KvPolicyKind { Dense, SinksWindow, Beacon, BeaconSliding };

struct KvPolicyConfig {
  KvPolicyKind kind = KvPolicyKind::Dense;
  uint32_t slots = 0;          // cache rows per layer
  uint32_t sinks = 0;          // SinksWindow / Beacon / BeaconSliding
  uint32_t beacon_window = 0;  // Beacon: raw tokens per chunk (a multiple of beacon_ratio);
                               // BeaconSliding: raw tokens kept raw (at least beacon_ratio)
  uint32_t beacon_ratio = 0;   // Beacon / BeaconSliding: raw tokens per beacon
};

// Throws InvalidArgument naming the problem (too few slots for the sinks or the beacon chunk...).
void validate(const KvPolicyConfig& c);
std::string describe(const KvPolicyConfig& c);

// Slots a beacon policy needs besides its memory: sinks + one chunk with its beacons (Beacon),
// sinks + the raw window + the hidden beacons of the groups in it, window / r (BeaconSliding).
uint32_t beacon_working_slots(const KvPolicyConfig& c);
bool is_beacon_kind(KvPolicyKind k);

struct KvRow {
  bool beacon = false;   // a beacon row (no logits) or a raw token of the input
  uint32_t slot = 0;     // where its K/V are stored
  int32_t position = 0;  // its RoPE position
};

// One forward step planned by KvPolicy::plan: what the forward pass (model/forward.h) runs, as is.
struct KvStep {
  std::vector<KvRow> rows;        // in sequence order (positions increase by 1)
  uint32_t n_raw = 0;             // input tokens this step consumes
  std::vector<int32_t> slot_pos;  // position of every slot during the step, -1 = empty
  uint32_t n_kv = 0;              // slots 0..n_kv-1 cover every non-empty one
  // Every slot's position is its index and the rows take consecutive slots at their positions:
  // the cache is in text order (a dense cache, or any policy before it evicts or compacts), so
  // the plain causal rule says what the positions say.
  bool in_order = false;
  // SinksWindow: the key offset during the step (this step's evictions included; sinks are
  // only ever stored while it is 0).
  uint32_t key_offset = 0;
};

// The step of n rows at slots and positions first..first+n-1 over a dense cache (slots
// 0..first+n-1 in text order), as KvPolicy::plan gives it for a dense policy.
KvStep dense_step(uint32_t first, uint32_t n);

struct KvUsage {
  uint32_t sinks = 0, raw = 0, beacons = 0, capacity = 0;
  uint32_t used() const { return sinks + raw + beacons; }
};

class KvPolicy {
 public:
  explicit KvPolicy(const KvPolicyConfig& config);

  const KvPolicyConfig& config() const { return config_; }
  // Plans the next step for up to `avail` input tokens and at most `max_rows` rows (>= 2). Does
  // not change the state; commit() does, after the step ran. Throws ContextFull when a dense
  // cache has no free slot.
  KvStep plan(uint32_t avail, uint32_t max_rows) const;
  void commit(const KvStep& step);
  void reset();

  KvUsage usage() const;
  // Raw tokens a dense cache can still take (unbounded policies: UINT32_MAX).
  uint32_t room() const;
  // The state as words (saved contexts) and back; restore() checks every slot is accounted for
  // exactly once and throws StateMismatch otherwise.
  std::vector<uint32_t> save() const;
  void restore(std::span<const uint32_t> words);
  // Highest occupied slot + 1.
  uint32_t n_kv() const;
  // The key offset (above) and whether it has grown far enough that the window keys should be
  // rotated back by it before the next step; rebase_keys() then sets it to 0.
  uint32_t key_offset() const { return state_.key_offset; }
  bool wants_rebase() const { return state_.key_offset >= config_.slots; }
  void rebase_keys() { state_.key_offset = 0; }
  // Positions of the slots as they are now (the order above), -1 for free slots.
  std::vector<int32_t> slot_positions() const;

 private:
  struct Entry {
    uint32_t slot;
    bool beacon;
  };
  // Working copy used by plan() and commit() alike, so both follow the same rules.
  struct State {
    std::vector<uint32_t> sinks;
    std::deque<uint32_t> memory;   // beacons of completed chunks, oldest first
    std::deque<Entry> current;     // window tokens, or the current chunk's rows (BeaconSliding:
                                   // the raw window and its hidden beacons, in sequence order)
    std::vector<uint32_t> free;    // free slots, next one at the back
    uint32_t chunk_raw = 0;        // raw tokens in the current chunk (BeaconSliding: in the window)
    uint32_t since_beacon = 0;     // raw tokens since the last beacon (the interleave remainder)
    uint32_t evicted_phase = 0;    // BeaconSliding: raw tokens evicted from the window, mod r
    uint32_t key_offset = 0;       // SinksWindow: window tokens evicted since the last re-base
  };
  // Applies up to `avail` tokens to s, appending the rows to step (positions not yet set).
  void advance(State& s, uint32_t avail, uint32_t max_rows, KvStep& step) const;
  // Positions by the logical order; BeaconSliding's beacons in `current` are hidden (-1) except
  // `fresh`, the beacon row of the step being planned (it sees itself).
  std::vector<int32_t> positions_of(const State& s, uint32_t fresh = UINT32_MAX) const;
  void evict_window_token(State& s) const;
  uint32_t take_slot(State& s) const;
  void compact_chunk(State& s) const;
  uint32_t memory_capacity() const;

  KvPolicyConfig config_;
  State state_;
};

}  // namespace tern

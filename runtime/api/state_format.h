// The bytes of a saved context state (tern_state_save, Context::save_state): a header, the token
// history, the last logits, the KV policy's bookkeeping and the cache rows, with a CRC-32 over
// all of it. Pure CPU code, separate from the context so the parser can be fuzzed on its own
// (tests/fuzz/state_fuzz.cpp): decode_state() validates everything before the caller changes
// anything, so a state that does not decode leaves the context as it was.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kv/kv_policy.h"

namespace tern {

// Version 6: a sinks + window policy's words end with its key offset, and an f16/f32 cache of
// that policy holds its keys rotated at position + offset (KeyStorage::Shifted). Version 5 had
// neither (window keys before RoPE), 4 no CRC-32 over the whole state (the field itself zero),
// and states of other versions cannot be loaded (3 held a dense cache's keys before RoPE). Keys
// are as the context's Forward stores them: rotated for a dense f16/f32 cache, rotated at
// shifted positions for a sinks + window one, else before RoPE. A
// model with sliding-window layers adds its ring's words after the policy's
// (SlidingWindowCache::save) and saves every ring slot of those layers (n_kv rows of the others).
constexpr uint32_t k_state_version = 6;
// A state carries at most this many tokens of history (256 MiB; Context::save_state keeps the
// latest ones), so no header can make a load allocate more than its context could hold.
constexpr uint64_t k_max_state_history = 1ull << 26;

// What a state must match to load into a context: the model and the context's cache layout.
struct StateTarget {
  uint64_t fingerprint = 0;
  uint32_t n_layer = 0;
  uint32_t n_vocab = 0;
  uint32_t kv_type = 0;    // GgmlType of the cache rows
  uint32_t key_storage = 0;  // KeyStorage of the keys (model/key_path.h): 0 PreRope, 1 Rotated, 2 Shifted
  uint32_t row_elems = 0;
  uint64_t row_bytes = 0;  // bytes of one cache row (K or V of one slot in one layer)
  KvPolicyConfig policy;
  // Models with sliding-window layers: which layers are (1) and their ring (its slots, and
  // the words of its bookkeeping, which SlidingWindowCache::save gives in a fixed number).
  std::vector<uint8_t> sliding;  // empty: no such layers
  uint32_t ring_slots = 0;
  uint64_t ring_words = 0;

  // Cache rows a state holds of a layer (n_kv, or a sliding-window layer's whole ring), and
  // their bytes over all layers, K and V.
  uint32_t rows(uint32_t layer, uint32_t n_kv) const {
    return layer < sliding.size() && sliding[layer] ? ring_slots : n_kv;
  }
  uint64_t kv_bytes(uint32_t n_kv) const;
};

// A decoded state. kv points into the input: for each layer, the K rows then the V rows of
// slots 0..rows(layer, n_kv)-1, row_bytes each (kv_bytes in all).
struct DecodedState {
  std::vector<int32_t> history;
  std::vector<float> logits;  // empty: the state had none
  KvPolicy policy;
  std::vector<uint32_t> ring;  // the sliding-window ring's words (ring_words of them)
  uint32_t n_kv = 0;
  const uint8_t* kv = nullptr;
  uint64_t kv_bytes = 0;
};

// Largest state a context of this target can produce (what a state file may be at most).
uint64_t max_state_bytes(const StateTarget& t);

// Serialises a state. kv_rows(layer, v, dst) copies rows(layer, n_kv) rows of layer's K (v false)
// or V cache into dst (row_bytes each). ring_words: t.ring_words of them.
std::vector<uint8_t> encode_state(const StateTarget& t, std::span<const int32_t> history,
                                  std::span<const float> logits, std::span<const uint32_t> policy_words,
                                  std::span<const uint32_t> ring_words, uint32_t n_kv,
                                  const std::function<void(uint32_t layer, bool v, uint8_t* dst)>& kv_rows);

// Checks and decodes a state for target. Throws Error(StateMismatch) naming the problem: not a
// state, another format version, truncated or trailing bytes, a checksum mismatch (corrupt), another
// model, another KV type, policy or size, or bookkeeping that does not add up.
DecodedState decode_state(std::span<const uint8_t> data, const StateTarget& t);

// CRC-32 of a state with its checksum field taken as zero (what the header stores).
uint32_t state_checksum(std::span<const uint8_t> data);
// Rewrites the checksum field of an encoded state to match its bytes (fuzzing, tests that
// craft states); false when data is too short to hold a header.
bool update_state_checksum(std::span<uint8_t> data);

// Reads a state file for target: a regular file of at most max_state_bytes(target) bytes.
// Throws Error(Io) for a missing file, a directory, a device or pipe, or a read error, and
// Error(StateMismatch) for a file larger than any state of this target.
std::vector<uint8_t> read_state_file(const std::string& path, const StateTarget& target);

}  // namespace tern

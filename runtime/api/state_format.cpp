#include "api/state_format.h"

#include <zlib.h>

#include <cstddef>
#include <cstring>

#include "common/error.h"
#include "platform/file_io.h"

namespace tern {
namespace {

constexpr char k_state_magic[8] = {'T', 'E', 'R', 'N', 'S', 'T', 'A', 'T'};

struct StateHeader {
  char magic[8];
  uint32_t version;
  uint32_t n_layer;
  uint64_t fingerprint;
  uint32_t kv_type;  // GgmlType of the cache rows
  uint32_t row_elems;
  uint32_t policy, slots, sinks, beacon_window, beacon_ratio;
  uint32_t n_kv;       // cache rows saved per layer (slots 0..n_kv-1)
  uint64_t n_history;
  uint64_t n_logits;
  uint64_t n_policy_words;
  uint32_t checksum;  // CRC-32 (zlib's) of the whole state with this field zero
  uint32_t key_storage;  // how the cache holds keys (StateTarget::key_storage)
};
static_assert(sizeof(StateHeader) == 88, "the state header has no padding");
constexpr size_t k_checksum_at = offsetof(StateHeader, checksum);

// Policy words a state may hold for a policy of `slots` slots (KvPolicy::save's size is below it).
uint64_t max_policy_words(const KvPolicyConfig& p) { return 4ull * p.slots + 16; }

std::string kv_type_label(uint32_t t) {
  // GgmlType values (ggml_types.h): F32 0, F16 1, Q8_0 8.
  if (t == 1) return "f16";
  if (t == 0) return "f32";
  if (t == 8) return "q8_0";
  // Built with append: GCC 12 at -O3 gives a false -Wrestrict for "literal" + std::string.
  std::string label = "type ";
  label.append(std::to_string(t)).append(" (unknown)");
  return label;
}

std::string key_storage_label(uint32_t k) {
  if (k == 0) return "before RoPE";
  if (k == 1) return "rotated";
  if (k == 2) return "rotated at shifted positions";
  std::string label = "in form ";
  label.append(std::to_string(k)).append(" (unknown)");
  return label;
}

uint32_t crc32_of(uint32_t crc, const uint8_t* p, size_t n) {
  // zlib takes at most UINT_MAX bytes per call (crc32_z takes size_t, but is newer than some zlibs).
  while (n > 0) {
    const uInt chunk = uInt(std::min<size_t>(n, 1u << 30));
    crc = uint32_t(crc32(crc, p, chunk));
    p += chunk;
    n -= chunk;
  }
  return crc;
}

// Size of a state with this header's counts (each already bounded, so no overflow).
uint64_t state_bytes(const StateHeader& h, const StateTarget& t) {
  return sizeof(StateHeader) + 4 * (h.n_history + h.n_logits + h.n_policy_words + t.ring_words) + t.kv_bytes(h.n_kv);
}

}  // namespace

uint64_t StateTarget::kv_bytes(uint32_t n_kv) const {
  uint64_t total = 0;
  for (uint32_t l = 0; l < n_layer; ++l) total += rows(l, n_kv);
  return 2 * total * row_bytes;
}

uint64_t max_state_bytes(const StateTarget& t) {
  return sizeof(StateHeader) + 4 * (k_max_state_history + t.n_vocab + max_policy_words(t.policy) + t.ring_words) +
         t.kv_bytes(t.policy.slots);
}

uint32_t state_checksum(std::span<const uint8_t> data) {
  static const uint8_t zeros[4] = {0, 0, 0, 0};
  if (data.size() < sizeof(StateHeader)) return crc32_of(0, data.data(), data.size());
  uint32_t crc = crc32_of(0, data.data(), k_checksum_at);
  crc = crc32_of(crc, zeros, 4);
  return crc32_of(crc, data.data() + k_checksum_at + 4, data.size() - k_checksum_at - 4);
}

bool update_state_checksum(std::span<uint8_t> data) {
  if (data.size() < sizeof(StateHeader)) return false;
  const uint32_t crc = state_checksum(data);
  std::memcpy(data.data() + k_checksum_at, &crc, 4);
  return true;
}

std::vector<uint8_t> encode_state(const StateTarget& t, std::span<const int32_t> history,
                                  std::span<const float> logits, std::span<const uint32_t> policy_words,
                                  std::span<const uint32_t> ring_words, uint32_t n_kv,
                                  const std::function<void(uint32_t layer, bool v, uint8_t* dst)>& kv_rows) {
  // Only the latest tokens of a very long (streaming) history are kept: they are what the
  // sampler's penalties look at.
  if (history.size() > k_max_state_history) history = history.last(k_max_state_history);
  StateHeader h{};
  std::memcpy(h.magic, k_state_magic, 8);
  h.version = k_state_version;
  h.n_layer = t.n_layer;
  h.fingerprint = t.fingerprint;
  h.kv_type = t.kv_type;
  h.key_storage = t.key_storage;
  h.row_elems = t.row_elems;
  h.policy = uint32_t(t.policy.kind);
  h.slots = t.policy.slots;
  h.sinks = t.policy.sinks;
  h.beacon_window = t.policy.beacon_window;
  h.beacon_ratio = t.policy.beacon_ratio;
  h.n_kv = n_kv;
  h.n_history = history.size();
  h.n_logits = logits.size();
  h.n_policy_words = policy_words.size();
  check(ring_words.size() == t.ring_words, Status::Internal, "the sliding-window ring's state has the wrong size");
  std::vector<uint8_t> out(state_bytes(h, t));
  uint8_t* p = out.data();
  auto put = [&](const void* src, size_t bytes) {
    if (bytes) std::memcpy(p, src, bytes);
    p += bytes;
  };
  put(&h, sizeof(h));
  put(history.data(), history.size() * 4);
  put(logits.data(), logits.size() * 4);
  put(policy_words.data(), policy_words.size() * 4);
  put(ring_words.data(), ring_words.size() * 4);
  for (uint32_t l = 0; l < t.n_layer; ++l) {
    const uint64_t layer_bytes = uint64_t(t.rows(l, n_kv)) * t.row_bytes;
    if (!layer_bytes) continue;
    for (bool v : {false, true}) {
      kv_rows(l, v, p);
      p += layer_bytes;
    }
  }
  update_state_checksum(out);
  return out;
}

DecodedState decode_state(std::span<const uint8_t> data, const StateTarget& t) {
  const KvPolicyConfig& kc = t.policy;
  StateHeader h{};
  check(data.size() >= 12, Status::StateMismatch, "state is too short to hold a header");
  std::memcpy(&h, data.data(), 12);
  check(std::memcmp(h.magic, k_state_magic, 8) == 0, Status::StateMismatch, "not a Tern state (bad magic)");
  check(h.version == k_state_version, Status::StateMismatch,
        "state format version " + std::to_string(h.version) + " is not " + std::to_string(k_state_version) +
            (h.version < k_state_version ? " (the format changed; create the state again)" : ""));
  check(data.size() >= sizeof(h), Status::StateMismatch, "state is too short to hold a header");
  std::memcpy(&h, data.data(), sizeof(h));
  // Counts first (each bounded by what this context could hold), so the size below cannot
  // overflow; then the size; then the checksum, before any field is believed.
  check(h.n_history <= k_max_state_history && h.n_logits <= t.n_vocab && h.n_policy_words <= max_policy_words(kc) &&
            h.n_kv <= kc.slots && h.n_layer == t.n_layer,
        Status::StateMismatch,
        h.n_layer != t.n_layer ? "state was saved with a different model (" + std::to_string(h.n_layer) + " layers)"
                               : "state holds more than this context can (history, logits, policy or cache rows)");
  const uint64_t need = state_bytes(h, t);
  check(data.size() == need, Status::StateMismatch,
        "state is " + std::to_string(data.size()) + " bytes but its header describes " + std::to_string(need) +
            " (truncated, or bytes appended)");
  check(state_checksum(data) == h.checksum, Status::StateMismatch,
        "state is corrupt: its checksum does not match its contents");
  check(h.fingerprint == t.fingerprint && h.row_elems == t.row_elems, Status::StateMismatch,
        "state was saved with a different model");
  check(h.kv_type == t.kv_type, Status::StateMismatch,
        "state holds a KV cache of type " + kv_type_label(h.kv_type) + " but this context's cache is " +
            kv_type_label(t.kv_type));
  check(h.key_storage == t.key_storage, Status::StateMismatch,
        "state holds keys stored " + key_storage_label(h.key_storage) + " but this context stores them " +
            key_storage_label(t.key_storage) + " (TERN_SHIFTED_KEYS or ContextParams::shifted_keys differ)");
  check(h.policy == uint32_t(kc.kind) && h.slots == kc.slots && h.sinks == kc.sinks &&
            h.beacon_window == kc.beacon_window && h.beacon_ratio == kc.beacon_ratio,
        Status::StateMismatch, "state was saved with another KV policy or size than this context's (" + describe(kc) + ")");
  check(h.n_logits == 0 || h.n_logits == t.n_vocab, Status::StateMismatch, "state logits have the wrong size");

  DecodedState out{{}, {}, KvPolicy(kc), {}, h.n_kv, nullptr, t.kv_bytes(h.n_kv)};
  const uint8_t* p = data.data() + sizeof(h);
  auto get = [&](void* dst, size_t bytes) {
    if (bytes) std::memcpy(dst, p, bytes);
    p += bytes;
  };
  out.history.resize(h.n_history);
  out.logits.resize(h.n_logits);
  std::vector<uint32_t> words(h.n_policy_words);
  get(out.history.data(), h.n_history * 4);
  get(out.logits.data(), h.n_logits * 4);
  get(words.data(), h.n_policy_words * 4);
  out.ring.resize(t.ring_words);
  get(out.ring.data(), t.ring_words * 4);
  for (int32_t id : out.history)
    check(id >= 0 && uint32_t(id) < t.n_vocab, Status::StateMismatch, "state history holds a token outside the vocabulary");
  out.policy.restore(words);  // checks every slot is accounted for exactly once
  check(out.policy.n_kv() <= h.n_kv, Status::StateMismatch, "state's policy uses cache rows it did not save");
  out.kv = p;
  return out;
}

std::vector<uint8_t> read_state_file(const std::string& path, const StateTarget& target) {
  std::vector<uint8_t> data;
  platform::FileReadError err;
  if (platform::read_file_bounded(path, max_state_bytes(target), data, &err)) return data;
  const Status s = err.kind == platform::FileReadError::TooLarge ? Status::StateMismatch : Status::Io;
  throw Error(s, "cannot load state '" + path + "': the file " + err.message +
                     (err.kind == platform::FileReadError::TooLarge ? " (larger than any state of this context)" : ""));
}

}  // namespace tern

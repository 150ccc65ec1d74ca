// libFuzzer target for saved context states (the parser behind tern_state_load and
// tern_state_load_file, api/state_format.h), seeded with real states of stories260K in every KV
// policy (tests/fuzz/corpus/state, written by tests/api/state_seeds_test.cpp). Input: a flags
// byte, then the state. The context it is loaded into is the one the state's own header
// describes (so the fuzzer gets past "another model" to everything behind it), within the sizes
// a small context has. Flags: bit 0 rewrites the checksum to match the mutated bytes (else
// nearly every mutation stops at the checksum); bit 1 loads into a context of another model,
// which must refuse. A state that decodes must leave a policy that plans and reports sensibly.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "api/state_format.h"
#include "common/error.h"

namespace {

// Header fields as api/state_format.cpp lays them out (version 6).
struct Header {
  char magic[8];
  uint32_t version, n_layer;
  uint64_t fingerprint;
  uint32_t kv_type, row_elems, policy, slots, sinks, beacon_window, beacon_ratio, n_kv;
  uint64_t n_history, n_logits, n_policy_words;
  uint32_t checksum, key_storage;
};
static_assert(sizeof(Header) == 88);

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "state_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 + sizeof(Header)) return 0;
  const uint8_t flags = data[0];
  std::vector<uint8_t> state(data + 1, data + size);
  if (flags & 1) tern::update_state_checksum(state);
  Header h;
  std::memcpy(&h, state.data(), sizeof h);
  // The context: the header's model and policy, if a small context could have them.
  tern::StateTarget t;
  t.fingerprint = h.fingerprint ^ ((flags & 2) ? 1 : 0);
  t.n_layer = h.n_layer;
  t.n_vocab = h.n_logits ? uint32_t(h.n_logits) : 512;
  t.kv_type = h.kv_type;  // GgmlType: 0 F32, 1 F16
  t.row_elems = h.row_elems;
  t.key_storage = h.key_storage;  // the context stores keys as the state says (else refused first)
  if ((h.kv_type != 0 && h.kv_type != 1) || h.n_layer == 0 || h.n_layer > 8 || h.row_elems == 0 ||
      h.row_elems > 512 || h.n_logits > 4096 || h.policy > 3 || h.slots == 0 || h.slots > 2048)
    return 0;
  t.row_bytes = uint64_t(h.row_elems) * (h.kv_type == 0 ? 4 : 2);
  t.policy.kind = tern::KvPolicyKind(h.policy);
  t.policy.slots = h.slots;
  t.policy.sinks = h.sinks;
  t.policy.beacon_window = h.beacon_window;
  t.policy.beacon_ratio = h.beacon_ratio;
  try {
    tern::validate(t.policy);
  } catch (const tern::Error&) {
    return 0;  // no context has this policy
  }
  if (tern::max_state_bytes(t) < state.size()) return 0;  // read_state_file would refuse it unread

  try {
    tern::DecodedState d = tern::decode_state(state, t);
    if (flags & 2) fail("a state of another model was accepted");
    if (d.n_kv > t.policy.slots || d.policy.n_kv() > d.n_kv) fail("cache rows beyond the context");
    if (d.kv_bytes != t.kv_bytes(d.n_kv) || d.kv + d.kv_bytes != state.data() + state.size())
      fail("cache row bytes do not add up");
    const tern::KvUsage u = d.policy.usage();
    if (u.used() > u.capacity || u.capacity > t.policy.slots) fail("usage beyond capacity");
    // The restored bookkeeping must keep working: plan the next steps as eval would.
    for (uint32_t avail : {1u, 7u}) {
      try {
        const tern::KvStep step = d.policy.plan(avail, 16);
        for (const tern::KvRow& r : step.rows)
          if (r.slot >= t.policy.slots) fail("a planned row outside the cache");
        d.policy.commit(step);
      } catch (const tern::Error& e) {
        if (e.status() != tern::Status::ContextFull) fail(e.what());
      }
    }
  } catch (const tern::Error& e) {
    if (e.status() != tern::Status::StateMismatch) fail(e.what());
  }
  return 0;
}

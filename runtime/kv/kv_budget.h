// From what an app asks for (a policy, a context length, a KV memory budget in bytes, optional
// window / sink / beacon settings) to a concrete KvPolicyConfig: how many slots, which beacon
// ratio and chunk. The rules are documented in README.md (Long context).
#pragma once
#include <cstdint>

#include "quant/beacon_settings.h"
#include "kv/kv_policy.h"

namespace tern {

struct KvRequest {
  KvPolicyKind kind = KvPolicyKind::Dense;
  uint32_t n_ctx = 0;           // dense: cache length; beacon: tokens the app expects to feed (picks r)
  uint64_t budget_bytes = 0;    // 0: no budget
  uint32_t window = 0;          // SinksWindow: total slots including sinks (0: from the budget or n_ctx)
  uint32_t sinks = 0;
  uint32_t beacon_ratio = 0;    // 0: derived
  uint32_t beacon_window = 0;   // 0: derived
  // The model file's beacon settings (nullptr or !present: none). For the beacon policies, a
  // mode Tern does not implement is refused (Unsupported, naming it), an explicit ratio must be
  // one of the file's ratios, and when the policy is the file's own mode (full-coverage: Beacon,
  // sliding: BeaconSliding) the window defaults to the file's (a smaller one may be asked for,
  // a larger one is refused) and the ratio to its fixed-R ratio or the adapt rule over its list.
  const BeaconSettings* file_beacon = nullptr;
};

// Compression ratios a beacon policy may pick (as in the Activation Beacon reference).
inline constexpr uint32_t k_beacon_ratios[] = {2, 4, 8, 16, 32, 64, 128};

// slot_bytes: device bytes one slot costs across all layers (K and V). n_ctx_train: the
// model's trained length. Throws InvalidArgument with the reason when the request cannot fit.
KvPolicyConfig derive_kv_config(const KvRequest& req, uint32_t n_ctx_train, uint64_t slot_bytes);

}  // namespace tern

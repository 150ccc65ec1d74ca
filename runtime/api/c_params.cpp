#include "api/c_params.h"

namespace tern {

GgmlType kv_type_from(const tern_context_params& p) {
  return p.kv_type == TERN_KV_TYPE_F32 ? GgmlType::F32 : p.kv_type == TERN_KV_TYPE_Q8_0 ? GgmlType::Q8_0 : GgmlType::F16;
}

KvRequest kv_request_from(const tern_context_params& p, const BeaconSettings& file_beacon) {
  static const KvPolicyKind k_kinds[] = {KvPolicyKind::Dense, KvPolicyKind::SinksWindow, KvPolicyKind::SinksWindow,
                                         KvPolicyKind::Beacon, KvPolicyKind::BeaconSliding};
  KvRequest r;
  r.kind = k_kinds[p.kv_policy];
  r.n_ctx = uint32_t(p.n_ctx);
  r.budget_bytes = p.kv_budget_bytes;
  r.window = uint32_t(p.kv_window);
  // WINDOW is sinks + window with no sinks; -1: 4, or a beacon model file's own sink count.
  const bool beacon_kind = p.kv_policy == TERN_KV_BEACON || p.kv_policy == TERN_KV_BEACON_SLIDING;
  r.sinks = p.kv_policy == TERN_KV_WINDOW          ? 0
            : p.kv_sinks >= 0                      ? uint32_t(p.kv_sinks)
            : beacon_kind && file_beacon.present ? file_beacon.sink_size
                                                 : 4u;
  r.beacon_ratio = uint32_t(p.beacon_ratio);
  r.beacon_window = uint32_t(p.beacon_window);
  return r;
}

}  // namespace tern

// The C API's parameter structs as the C++ runtime takes them: one mapping, shared by the C API
// and the tools that drive a C++ Context with settings parsed for the C API (tern-bench's --kv).
#pragma once
#include "kv/kv_budget.h"
#include "quant/ggml_types.h"
#include "tern.h"

namespace tern {

// The KV request of checked context parameters: the policy (WINDOW is SINKS_WINDOW with no
// sinks), n_ctx, the budget and the window, sink and beacon settings; kv_sinks -1 takes the
// model file's beacon sink count (beacon policies) or 4.
// file_beacon is read for that default only: the Context attaches its model's settings itself.
KvRequest kv_request_from(const tern_context_params& p, const BeaconSettings& file_beacon);

// The cache element type of checked context parameters (TERN_KV_TYPE_*).
GgmlType kv_type_from(const tern_context_params& p);

}  // namespace tern

// The --kv grammar every tool shares (tern-chat, tern-bench, tern-perplexity): one KV policy as
// a spec string, parsed strictly, and applied to the C API's context parameters.
//
//   dense[:N]                 every token up to N slots (N: the context length)
//   window[:N]                the last N tokens
//   sinks:S[:N]               the first S tokens forever + the last N - S (StreamingLLM)
//   beacon[:R[:W[:S]]]        Activation Beacon: a beacon per R raw tokens, chunks of W raw
//                             tokens, S sinks (R, W empty or 0: derived; S: 0)
//   beacon-sinks:R[:W[:S]]    the same with S defaulting to 4
//   sliding:R[:W[:S]]         the sliding beacon mode: the last W tokens raw, a beacon per R
//                             for what leaves the window, S sinks (0)
// N left out takes the tool's default (tern-chat: --ctx or the budget; tern-perplexity: its
// shared --kv-slots). A byte budget (--kv-budget 64M) is a separate option: cli::parse_byte_size
// (cli/cli_parse.h).
// Adding a kind is one row of the table in kv_spec.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "tern.h"

namespace tern::tools {

struct KvSpec {
  tern_kv_policy policy = TERN_KV_DENSE;
  int32_t slots = 0;          // N: dense context length, window / sinks total slots (0: the tool's default)
  int32_t sinks = 0;          // S
  int32_t ratio = 0;          // R (0: derived)
  int32_t beacon_window = 0;  // W (0: derived)
  std::string label;          // the spec as written, for tables, CSV and plots
};

// Throws std::invalid_argument naming the spec and the grammar on anything malformed.
KvSpec parse_kv_spec(const std::string& spec);

// The grammar, one line per kind, for --help texts and error messages.
std::string kv_spec_grammar();

// The spec's policy and settings into p (kv_policy, n_ctx or kv_window when N is given,
// kv_sinks, beacon_ratio, beacon_window); everything else in p stays.
void apply_kv_spec(const KvSpec& spec, tern_context_params& p);

// --kv-type: "f16", "f32" or "q8_0" as a TERN_KV_TYPE_* value; throws std::invalid_argument
// for anything else.
int32_t parse_kv_type(const std::string& text);

}  // namespace tern::tools

// Command line of tern-perplexity. Pure: parse_args throws std::invalid_argument with a message
// for the user on any bad option, and tests call it directly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "perplexity/policy_spec.h"

namespace tern::ppl {

struct Options {
  std::string model, text_file, device;
  std::vector<PolicySpec> policies;  // default_policy_list() when none is given
  int32_t kv_slots = 256;            // every policy's KV slots (equal KV bytes)
  int32_t kv_type = TERN_KV_TYPE_F16;
  int32_t numerics = TERN_NUMERICS_DEFAULT;  // llamacpp: dense policies only (others are reported and skipped)
  uint32_t segment = 512;
  uint64_t max_tokens = 0;           // 0: the whole text
  bool loop = false;                 // repeat the text (without BOS) to reach --max-tokens
  std::vector<int32_t> timing_at{1024, 16384};  // report decode ms/token around these t
  std::string csv, svg;
  bool quiet = false;                // no live table
  // Passkey retrieval.
  bool passkey = false;
  std::vector<int32_t> lengths{256, 512, 1024};
  std::vector<double> depths{0, 0.25, 0.5, 0.75, 1};
  int32_t trials = 5;
  uint64_t seed = 1;
  int32_t gen_tokens = 8;
  std::string needle = "key";         // key | word
  std::string filler_file;            // empty: the repeated filler sentences
  int32_t n_batch = 0;                // prompt tokens per submit (0: the library's default)
  std::string passkey_csv, passkey_trials_csv, passkey_svg;
  std::string title;                  // the passkey heat map's (empty: built from the run)
  std::vector<std::string> passkey_merge;  // earlier runs' per-cell CSVs to merge (no model)
  bool help = false;
};

Options parse_args(const std::vector<std::string>& args);  // args without the program name
const char* usage_text();

}  // namespace tern::ppl

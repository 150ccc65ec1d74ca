// Passkey retrieval through the C API: for each (length, depth) and trial, a prompt of about
// `length` tokens with a random needle at `depth`, prefilled, then greedy generation of the answer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "perplexity/passkey_prompt.h"
#include "tern.h"

namespace tern::ppl {

struct PasskeyTrial {
  std::string needle;         // the key or word hidden
  int32_t prompt_tokens = 0;  // BOS included
  std::string answer;         // the greedy answer, decoded
  bool correct = false;
  bool skipped = false;       // the prompt did not fit or the API failed (note says why)
  std::string note;
};

struct PasskeyCell {
  int32_t length = 0;           // target prompt tokens
  double depth = 0;
  int32_t prompt_tokens = 0;    // actual tokens of the last trial's prompt (BOS included)
  int32_t trials = 0, correct = 0, skipped = 0;
  std::string last_answer, note;
  std::vector<PasskeyTrial> runs;  // one per trial, in order
  double accuracy() const { return trials > skipped ? double(correct) / double(trials - skipped) : -1; }
};

struct PasskeyResult {
  std::string label;
  bool ok = false;
  std::string error;
  std::vector<PasskeyCell> cells;
};

struct PasskeyConfig {
  std::vector<int32_t> lengths;
  std::vector<double> depths;
  int32_t trials = 5;
  uint64_t seed = 1;
  int32_t gen_tokens = 8;
  NeedleKind needle = NeedleKind::Key;
  Filler filler = default_filler();
};

PasskeyResult run_passkey(tern_model* model, const tern_context_params& params, const std::string& label,
                          const PasskeyConfig& cfg);

// The most filler sentences whose prompt stays within `length` tokens (BOS included); 0 when
// even the prompt without filler is longer.
uint32_t filler_count_for(const tern_model* model, int32_t length, const Needle& needle, const Filler& filler,
                          double depth);

// Tokenizes text (BOS first when add_bos); throws std::runtime_error with the API's message.
std::vector<tern_token> tokenize(const tern_model* model, const std::string& text, bool add_bos);

}  // namespace tern::ppl

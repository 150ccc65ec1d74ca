// Merging passkey runs: a long-context evaluation is usually run in pieces (key seeds, lengths or
// policies split over processes or days), and what people read is one table and one heat map over
// all of it. merge_passkey_cells reads back the per-cell CSV rows tern-perplexity writes and sums
// trials, skips and correct answers per (policy, length, depth). Pure, for the tests.
#pragma once
#include <string>
#include <vector>

#include "perplexity/passkey_eval.h"
#include "perplexity/passkey_report.h"

namespace tern::ppl {

// One per-cell CSV file's rows, header first, as parse_csv returns them; `name` for messages.
struct PasskeyCsv {
  std::string name;
  std::vector<std::vector<std::string>> rows;
};

struct MergedPasskey {
  std::vector<PasskeyResult> results;  // policies in first-seen order, cells by length then depth
  PasskeyRunInfo info;                 // the needle kind and filler every row shares
};

// Throws std::invalid_argument naming the file and row on a header other than
// passkey_cell_header(), a malformed number, counts that do not add up (correct + skipped >
// trials), or rows that differ in needle kind or filler (their accuracies measure different things).
MergedPasskey merge_passkey_cells(const std::vector<PasskeyCsv>& files);

}  // namespace tern::ppl

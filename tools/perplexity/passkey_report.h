// tern-perplexity's passkey output: the table per policy, the per-cell and per-trial CSV files and
// the heat map (accuracy by prompt length and needle depth, one panel per policy). The row and
// panel builders are pure, for the tests.
#pragma once
#include <string>
#include <vector>

#include "perplexity/heatmap_svg.h"
#include "perplexity/passkey_eval.h"

namespace tern::ppl {

// What every row of a run shares: the needle kind and the filler's source.
struct PasskeyRunInfo {
  std::string needle = "key";
  std::string filler = "repeated";
};

void print_passkey_table(const PasskeyResult& r);

std::vector<std::string> passkey_cell_header();
std::vector<std::vector<std::string>> passkey_cell_rows(const std::vector<PasskeyResult>& results,
                                                        const PasskeyRunInfo& info);
std::vector<std::string> passkey_trial_header();
std::vector<std::vector<std::string>> passkey_trial_rows(const std::vector<PasskeyResult>& results,
                                                         const PasskeyRunInfo& info);
// One panel per policy that ran: rows = lengths (ascending), columns = depths (ascending), cell
// text "correct/scored"; a cell whose trials were all skipped is n/a.
std::vector<HeatmapPanel> passkey_heatmap_panels(const std::vector<PasskeyResult>& results);

void write_passkey_csv(const std::string& path, const std::vector<PasskeyResult>& results, const PasskeyRunInfo& info);
void write_passkey_trials_csv(const std::string& path, const std::vector<PasskeyResult>& results,
                              const PasskeyRunInfo& info);
void write_passkey_svg(const std::string& path, const std::vector<PasskeyResult>& results, const std::string& title);

}  // namespace tern::ppl

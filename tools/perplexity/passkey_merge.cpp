#include "perplexity/passkey_merge.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include "cli/cli_parse.h"
#include "perplexity/passkey_report.h"

namespace tern::ppl {

namespace {

// The columns of passkey_cell_header(), in order.
enum Column { kPolicy, kLength, kDepth, kPromptTokens, kTrials, kSkipped, kCorrect, kAccuracy, kLastAnswer, kNote, kNeedle, kFiller };

int32_t count_field(const std::string& s, const std::string& where) {
  int32_t v = -1;
  if (!cli::parse_int(s, v) || v < 0) throw std::invalid_argument(where + ": '" + s + "' is not a count");
  return v;
}

double depth_field(const std::string& s, const std::string& where) {
  double d = -1;
  if (!cli::parse_double(s, d) || d < 0 || d > 1) throw std::invalid_argument(where + ": '" + s + "' is not a depth in [0, 1]");
  return d;
}

}  // namespace

MergedPasskey merge_passkey_cells(const std::vector<PasskeyCsv>& files) {
  if (files.empty()) throw std::invalid_argument("no passkey CSV files to merge");
  const std::vector<std::string> header = passkey_cell_header();
  MergedPasskey out;
  bool have_info = false;
  std::vector<std::string> policies;                                    // first-seen order
  std::map<std::tuple<std::string, int32_t, double>, PasskeyCell> cells;  // sorted by length, depth
  for (const auto& f : files) {
    if (f.rows.empty() || f.rows[0] != header)
      throw std::invalid_argument(f.name + ": not a per-cell passkey CSV (its header is not tern-perplexity --passkey-csv's)");
    for (size_t i = 1; i < f.rows.size(); ++i) {
      const auto& r = f.rows[i];
      const std::string where = f.name + ", row " + std::to_string(i + 1);
      if (r.size() != header.size())
        throw std::invalid_argument(where + ": " + std::to_string(r.size()) + " fields, not " + std::to_string(header.size()));
      if (!have_info) out.info = {r[kNeedle], r[kFiller]}, have_info = true;
      if (r[kNeedle] != out.info.needle || r[kFiller] != out.info.filler)
        throw std::invalid_argument(where + ": needle '" + r[kNeedle] + "' with filler '" + r[kFiller] + "' cannot merge with needle '" +
                                    out.info.needle + "' with filler '" + out.info.filler + "'");
      const int32_t trials = count_field(r[kTrials], where), skipped = count_field(r[kSkipped], where),
                    correct = count_field(r[kCorrect], where);
      if (int64_t(correct) + skipped > trials)
        throw std::invalid_argument(where + ": " + r[kCorrect] + " correct and " + r[kSkipped] + " skipped of " + r[kTrials] + " trials");
      if (std::find(policies.begin(), policies.end(), r[kPolicy]) == policies.end()) policies.push_back(r[kPolicy]);
      const int32_t length = count_field(r[kLength], where);
      const double depth = depth_field(r[kDepth], where);
      PasskeyCell& c = cells[{r[kPolicy], length, depth}];
      c.length = length;
      c.depth = depth;
      c.trials += trials;
      c.skipped += skipped;
      c.correct += correct;
      c.prompt_tokens = count_field(r[kPromptTokens], where);  // the last file's, as in a single run
      c.last_answer = r[kLastAnswer];
      if (!r[kNote].empty() && c.note.find(r[kNote]) == std::string::npos) c.note += (c.note.empty() ? "" : "; ") + r[kNote];
    }
  }
  for (const auto& p : policies) {
    PasskeyResult res;
    res.label = p;
    res.ok = true;
    for (const auto& [key, cell] : cells)
      if (std::get<0>(key) == p) res.cells.push_back(cell);
    out.results.push_back(std::move(res));
  }
  return out;
}

}  // namespace tern::ppl

#include "perplexity/passkey_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "perplexity/csv.h"

namespace tern::ppl {

namespace {

std::string depth_label(double d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", d);
  return buf;
}

template <class T>
std::vector<T> sorted_unique(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

void print_passkey_table(const PasskeyResult& r) {
  std::printf("\npasskey retrieval, %s:", r.label.c_str());
  if (!r.ok) {
    std::printf(" %s\n", r.error.c_str());
    return;
  }
  // Rows: lengths; columns: depths; cells: correct/scored (or "n/a" when nothing fit).
  std::vector<double> depths;
  for (const auto& c : r.cells)
    if (std::find(depths.begin(), depths.end(), c.depth) == depths.end()) depths.push_back(c.depth);
  std::printf("\n| %8s |", "length");
  char cell[48];
  for (double d : depths) std::snprintf(cell, sizeof cell, "depth %.2f", d), std::printf(" %12s |", cell);
  std::printf("\n|----------|");
  for (size_t i = 0; i < depths.size(); ++i) std::printf("--------------|");
  std::string notes;
  int32_t last_length = -1;
  for (const auto& c : r.cells) {
    if (c.length != last_length) std::printf("\n| %8d |", c.length), last_length = c.length;
    if (c.trials == c.skipped) std::snprintf(cell, sizeof cell, "n/a");
    else std::snprintf(cell, sizeof cell, "%d/%d %.0f%%", c.correct, c.trials - c.skipped, 100 * c.accuracy());
    std::printf(" %12s |", cell);
    if (!c.note.empty() && notes.find(c.note) == std::string::npos) notes += "  note: " + c.note + "\n";
  }
  std::printf("\n%s", notes.c_str());
  if (!r.cells.empty()) std::printf("  last answer: \"%s\"\n", r.cells.back().last_answer.c_str());
}

std::vector<std::string> passkey_cell_header() {
  return {"policy", "length", "depth", "prompt_tokens", "trials", "skipped", "correct", "accuracy", "last_answer",
          "note", "needle", "filler"};
}

std::vector<std::vector<std::string>> passkey_cell_rows(const std::vector<PasskeyResult>& results,
                                                        const PasskeyRunInfo& info) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results)
    for (const auto& c : r.cells)
      rows.push_back({r.label, std::to_string(c.length), num(c.depth), std::to_string(c.prompt_tokens),
                      std::to_string(c.trials), std::to_string(c.skipped), std::to_string(c.correct),
                      c.trials > c.skipped ? num(c.accuracy()) : "", c.last_answer, c.note, info.needle, info.filler});
  return rows;
}

std::vector<std::string> passkey_trial_header() {
  return {"policy", "length", "depth", "trial", "needle_kind", "needle", "prompt_tokens", "correct", "skipped",
          "answer", "note", "filler"};
}

std::vector<std::vector<std::string>> passkey_trial_rows(const std::vector<PasskeyResult>& results,
                                                         const PasskeyRunInfo& info) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results)
    for (const auto& c : r.cells)
      for (size_t t = 0; t < c.runs.size(); ++t) {
        const PasskeyTrial& run = c.runs[t];
        rows.push_back({r.label, std::to_string(c.length), num(c.depth), std::to_string(t), info.needle, run.needle,
                        std::to_string(run.prompt_tokens), run.correct ? "1" : "0", run.skipped ? "1" : "0",
                        run.answer, run.note, info.filler});
      }
  return rows;
}

std::vector<HeatmapPanel> passkey_heatmap_panels(const std::vector<PasskeyResult>& results) {
  std::vector<HeatmapPanel> panels;
  for (const auto& r : results) {
    if (!r.ok) continue;
    std::vector<int32_t> lengths;
    std::vector<double> depths;
    for (const auto& c : r.cells) lengths.push_back(c.length), depths.push_back(c.depth);
    lengths = sorted_unique(lengths);
    depths = sorted_unique(depths);
    HeatmapPanel p;
    p.title = r.label;
    for (int32_t l : lengths) p.row_labels.push_back(std::to_string(l));
    for (double d : depths) p.col_labels.push_back(depth_label(d));
    p.values.assign(lengths.size(), std::vector<std::optional<double>>(depths.size()));
    p.texts.assign(lengths.size(), std::vector<std::string>(depths.size()));
    for (const auto& c : r.cells) {
      const size_t row = size_t(std::lower_bound(lengths.begin(), lengths.end(), c.length) - lengths.begin());
      const size_t col = size_t(std::lower_bound(depths.begin(), depths.end(), c.depth) - depths.begin());
      if (c.trials > c.skipped) {
        p.values[row][col] = c.accuracy();
        p.texts[row][col] = std::to_string(c.correct) + "/" + std::to_string(c.trials - c.skipped);
      }
    }
    panels.push_back(std::move(p));
  }
  return panels;
}

void write_passkey_csv(const std::string& path, const std::vector<PasskeyResult>& results, const PasskeyRunInfo& info) {
  write_csv(path, passkey_cell_header(), passkey_cell_rows(results, info));
}

void write_passkey_trials_csv(const std::string& path, const std::vector<PasskeyResult>& results,
                              const PasskeyRunInfo& info) {
  write_csv(path, passkey_trial_header(), passkey_trial_rows(results, info));
}

void write_passkey_svg(const std::string& path, const std::vector<PasskeyResult>& results, const std::string& title) {
  HeatmapOptions opt;
  opt.title = title;
  std::ofstream f(path, std::ios::binary);
  f << render_svg_heatmap(passkey_heatmap_panels(results), opt);
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace tern::ppl

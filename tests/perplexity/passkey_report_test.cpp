// The passkey report: per-cell and per-trial CSV rows and the heat map panels built from results.
#include "perplexity/passkey_report.h"

#include <gtest/gtest.h>

#include <string>

using namespace tern::ppl;

namespace {

PasskeyCell cell(int32_t length, double depth, std::vector<bool> correct, int skipped = 0) {
  PasskeyCell c;
  c.length = length;
  c.depth = depth;
  for (size_t i = 0; i < correct.size(); ++i) {
    PasskeyTrial t;
    t.needle = std::to_string(10000 + i);
    t.prompt_tokens = length - 1;
    t.answer = correct[i] ? " " + t.needle + "." : " 1, 2";
    t.correct = correct[i];
    t.skipped = int(i) < skipped;
    if (t.skipped) t.correct = false, t.answer.clear(), t.note = "context full";
    ++c.trials;
    c.correct += t.correct ? 1 : 0;
    c.skipped += t.skipped ? 1 : 0;
    c.prompt_tokens = t.prompt_tokens;
    c.last_answer = t.answer;
    c.runs.push_back(t);
  }
  return c;
}

std::vector<PasskeyResult> results() {
  PasskeyResult a;
  a.label = "window";
  a.ok = true;
  // Cells in run order: lengths outer, depths inner (unsorted on purpose).
  a.cells = {cell(1024, 0.5, {true, false}), cell(1024, 0, {false, false}), cell(512, 0.5, {true, true}),
             cell(512, 0, {true, false}, 2)};
  PasskeyResult failed;
  failed.label = "beacon:2";
  failed.error = "no such policy";
  return {a, failed};
}

}  // namespace

TEST(PasskeyReport, CellRows) {
  const auto rows = passkey_cell_rows(results(), {"word", "stories.txt"});
  ASSERT_EQ(rows.size(), 4u);  // a failed policy has no cells
  const auto header = passkey_cell_header();
  for (const auto& r : rows) ASSERT_EQ(r.size(), header.size());
  EXPECT_EQ(header.front(), "policy");
  EXPECT_EQ(header.back(), "filler");
  EXPECT_EQ(rows[0][0], "window");
  EXPECT_EQ(rows[0][1], "1024");
  EXPECT_EQ(rows[0][2], "0.5");
  EXPECT_EQ(rows[0][6], "1");    // correct
  EXPECT_EQ(rows[0][7], "0.5");  // accuracy
  EXPECT_EQ(rows[3][5], "2");    // skipped
  EXPECT_EQ(rows[3][7], "");     // no accuracy when every trial was skipped
  EXPECT_EQ(rows[3][10], "word");
  EXPECT_EQ(rows[3][11], "stories.txt");
}

TEST(PasskeyReport, TrialRows) {
  const auto rows = passkey_trial_rows(results(), {"key", "repeated"});
  ASSERT_EQ(rows.size(), 8u);
  const auto header = passkey_trial_header();
  for (const auto& r : rows) ASSERT_EQ(r.size(), header.size());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"window", "1024", "0.5", "0", "key", "10000", "1023", "1", "0", " 10000.",
                                               "", "repeated"}));
  EXPECT_EQ(rows[1][3], "1");     // the trial index
  EXPECT_EQ(rows[1][7], "0");
  EXPECT_EQ(rows[6][8], "1");     // skipped, with the reason
  EXPECT_EQ(rows[6][10], "context full");
}

TEST(PasskeyReport, HeatmapPanelsSortLengthsAndDepths) {
  const auto panels = passkey_heatmap_panels(results());
  ASSERT_EQ(panels.size(), 1u);  // the failed policy has no panel
  const HeatmapPanel& p = panels[0];
  EXPECT_EQ(p.title, "window");
  EXPECT_EQ(p.row_labels, (std::vector<std::string>{"512", "1024"}));
  EXPECT_EQ(p.col_labels, (std::vector<std::string>{"0.00", "0.50"}));
  ASSERT_EQ(p.values.size(), 2u);
  EXPECT_FALSE(p.values[0][0].has_value());  // 512 at depth 0: both trials skipped
  EXPECT_EQ(p.values[0][1], 1.0);
  EXPECT_EQ(p.values[1][0], 0.0);
  EXPECT_EQ(p.values[1][1], 0.5);
  EXPECT_EQ(p.texts[1][1], "1/2");
  EXPECT_EQ(p.texts[0][1], "2/2");
  EXPECT_EQ(p.texts[0][0], "");
  EXPECT_NO_THROW(render_svg_heatmap(panels));
}

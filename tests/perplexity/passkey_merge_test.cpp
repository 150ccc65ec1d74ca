// Merging passkey runs: the CSV reader takes back what the writer wrote, and per-cell rows of
// several runs sum into one result per policy; files that cannot be merged are refused by name.
#include "perplexity/passkey_merge.h"

#include <gtest/gtest.h>

#include <string>

#include "perplexity/args.h"
#include "perplexity/csv.h"

using namespace tern::ppl;

namespace {

// A per-cell CSV as tern-perplexity writes it, parsed back.
PasskeyCsv csv_file(const std::string& name, const std::vector<std::vector<std::string>>& rows) {
  std::string text = csv_row(passkey_cell_header());
  for (const auto& r : rows) text += csv_row(r);
  return {name, parse_csv(text, name)};
}

std::vector<std::string> row(const std::string& policy, int length, const std::string& depth, int trials, int skipped,
                             int correct, const std::string& answer = " 12345.", const std::string& needle = "key") {
  return {policy, std::to_string(length), depth, std::to_string(length - 3), std::to_string(trials), std::to_string(skipped),
          std::to_string(correct), "", answer, "", needle, "repeated"};
}

}  // namespace

TEST(Csv, ReadsBackWhatTheWriterWrote) {
  const std::vector<std::vector<std::string>> rows = {
      {"policy", "answer", "empty"}, {"a,b", "say \"hi\"", ""}, {"two\nlines", " 1.<|", "x"}, {"", "", ""}};
  std::string text;
  for (const auto& r : rows) text += csv_row(r);
  EXPECT_EQ(parse_csv(text, "t.csv"), rows);
  EXPECT_EQ(parse_csv("a,b\r\nc,d", "t.csv"), (std::vector<std::vector<std::string>>{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(parse_csv("a,\n\nb,c\n", "t.csv"), (std::vector<std::vector<std::string>>{{"a", ""}, {"b", "c"}}));
}

TEST(Csv, RefusesBrokenQuotesNamingTheLine) {
  try {
    parse_csv("a,b\n\"open,c\nd,e\n", "x.csv");
    FAIL() << "an unterminated quote was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "x.csv, line 2: unterminated quoted field");  // where the quote opened
  }
  EXPECT_THROW(parse_csv("\"a\"b,c\n", "x.csv"), std::invalid_argument);
}

TEST(PasskeyMerge, SumsCellsAcrossRunsInLengthAndDepthOrder) {
  const auto a = csv_file("a.csv", {row("window", 1024, "0", 2, 0, 1), row("window", 512, "0.5", 2, 1, 1),
                                    row("sinks:4", 512, "0.5", 2, 0, 2, " 1, 2")});
  const auto b = csv_file("b.csv", {row("window", 512, "0.5", 6, 0, 3, " 777.\n"), row("window", 512, "0", 6, 0, 0),
                                    row("beacon:4", 512, "0", 6, 0, 6)});
  const MergedPasskey m = merge_passkey_cells({a, b});
  EXPECT_EQ(m.info.needle, "key");
  EXPECT_EQ(m.info.filler, "repeated");
  ASSERT_EQ(m.results.size(), 3u);
  EXPECT_EQ(m.results[0].label, "window");  // first-seen order
  EXPECT_EQ(m.results[1].label, "sinks:4");
  EXPECT_EQ(m.results[2].label, "beacon:4");
  const auto& w = m.results[0].cells;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].length, 512);
  EXPECT_EQ(w[0].depth, 0.0);
  EXPECT_EQ(w[0].trials, 6);
  EXPECT_EQ(w[1].depth, 0.5);
  EXPECT_EQ(w[1].trials, 8);
  EXPECT_EQ(w[1].skipped, 1);
  EXPECT_EQ(w[1].correct, 4);
  EXPECT_DOUBLE_EQ(w[1].accuracy(), 4.0 / 7.0);
  EXPECT_EQ(w[1].last_answer, " 777.\n");  // the later file's
  EXPECT_EQ(w[2].length, 1024);
  EXPECT_EQ(w[2].correct, 1);
  // The merged rows are a per-cell CSV again, and merging it once more changes nothing.
  const auto again = csv_file("m.csv", passkey_cell_rows(m.results, m.info));
  const MergedPasskey m2 = merge_passkey_cells({again});
  ASSERT_EQ(m2.results.size(), 3u);
  EXPECT_EQ(m2.results[0].cells[1].trials, 8);
  EXPECT_EQ(m2.results[0].cells[1].correct, 4);
  EXPECT_EQ(passkey_heatmap_panels(m.results).size(), 3u);
}

TEST(PasskeyMerge, RefusesWhatCannotBeMerged) {
  auto refuses = [](const std::vector<PasskeyCsv>& files, const std::string& part) {
    try {
      merge_passkey_cells(files);
      ADD_FAILURE() << "merged, expected an error containing '" << part << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  refuses({}, "no passkey CSV files");
  refuses({{"ppl.csv", parse_csv("policy,segment,ppl\nwindow,1,2\n", "ppl.csv")}}, "ppl.csv: not a per-cell passkey CSV");
  refuses({csv_file("k.csv", {row("window", 512, "0", 2, 0, 1)}), csv_file("w.csv", {row("window", 512, "0", 2, 0, 1, " x", "word")})},
          "w.csv, row 2: needle 'word'");
  refuses({csv_file("c.csv", {row("window", 512, "0", 2, 1, 2)})}, "c.csv, row 2: 2 correct and 1 skipped of 2 trials");
  refuses({csv_file("d.csv", {row("window", 512, "1.5", 2, 0, 1)})}, "'1.5' is not a depth");
}

TEST(PasskeyMerge, OptionsRunNoModel) {
  const Options o = parse_args({"--passkey-merge", "a.csv,b.csv", "--passkey-merge", "c.csv", "--passkey-svg", "h.svg",
                                "--title", "all seeds"});
  EXPECT_EQ(o.passkey_merge, (std::vector<std::string>{"a.csv", "b.csv", "c.csv"}));
  EXPECT_EQ(o.title, "all seeds");
  EXPECT_THROW(parse_args({"--passkey-merge", "a.csv", "-m", "x.gguf", "--passkey"}), std::invalid_argument);
  EXPECT_THROW(parse_args({"--passkey-merge", "a.csv", "--passkey-trials-csv", "t.csv"}), std::invalid_argument);
  EXPECT_EQ(parse_args({"-m", "x.gguf", "--passkey", "--title", "t"}).title, "t");  // a run's heat map too
}

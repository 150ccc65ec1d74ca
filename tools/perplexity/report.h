// tern-perplexity's streaming output: the live table, the summaries, the CSV file and the plot
// (passkey output: passkey_report.h).
#pragma once
#include <string>
#include <vector>

#include "perplexity/stream_eval.h"

namespace tern::ppl {

void print_live_header();
void print_live_row(const StreamResult& r, const SegmentRow& row);
void print_stream_summary(const std::vector<StreamResult>& results, const std::vector<int32_t>& timing_at);
void write_stream_csv(const std::string& path, const std::vector<StreamResult>& results);
void write_stream_svg(const std::string& path, const std::vector<StreamResult>& results, const std::string& title);

}  // namespace tern::ppl

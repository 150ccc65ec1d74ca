#include "perplexity/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "perplexity/csv.h"
#include "perplexity/svg_plot.h"

namespace tern::ppl {

namespace {

std::string kib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024.0);
  return buf;
}

std::string ms_cell(double ms) {
  if (!std::isfinite(ms)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  return buf;
}

}  // namespace

void print_live_header() {
  std::printf("| %-18s | %8s | %11s | %11s | %12s | %11s | %8s |\n", "policy", "tokens", "segment PPL", "running PPL",
              "KV bytes", "KV slots", "ms/token");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------", "----------", "-------------", "-------------",
              "--------------", "-------------", "----------");
}

void print_live_row(const StreamResult& r, const SegmentRow& row) {
  std::printf("| %-18s | %8llu | %11.3f | %11.3f | %12s | %5d/%-5d | %8s |%s\n", r.label.c_str(),
              (unsigned long long)row.seg.last_consumed, row.seg.ppl, row.seg.running_ppl, kib(row.kv_bytes).c_str(),
              row.kv_slots_used, row.kv_slots_capacity, ms_cell(row.ms_per_token).c_str(),
              row.seg.partial ? " (partial)" : "");
}

void print_stream_summary(const std::vector<StreamResult>& results, const std::vector<int32_t>& timing_at) {
  std::printf("\n| %-18s | %10s | %8s | %8s | %12s | %15s | %15s | %s\n", "policy", "PPL", "consumed", "scored",
              "KV bytes", "ms/tok first 1K", "ms/tok last 1K", "note");
  std::printf("|--------------------|------------|----------|----------|--------------|-----------------|-----------------|------|\n");
  for (const auto& r : results) {
    if (!r.ok) {
      std::printf("| %-18s | %10s | %8s | %8s | %12s | %15s | %15s | %s\n", r.label.c_str(), "-", "-", "-", "-", "-", "-",
                  r.error.c_str());
      continue;
    }
    const double first = mean_ms_up_to(r.step_ms, std::min<uint64_t>(1024, r.step_ms.size()), 1024);
    const double last = mean_ms_up_to(r.step_ms, r.step_ms.size(), 1024);
    std::printf("| %-18s | %10.3f | %8llu | %8llu | %12s | %15s | %15s | %s\n", r.label.c_str(), r.ppl(),
                (unsigned long long)r.consumed, (unsigned long long)r.scored, kib(r.kv_bytes).c_str(),
                ms_cell(first).c_str(), ms_cell(last).c_str(), r.error.c_str());
  }
  // Decode cost against tokens consumed: mean over the 64 tokens up to each t.
  std::printf("\ndecode ms/token (mean over the 64 tokens up to t tokens consumed):\n| %-18s |", "policy");
  for (int32_t t : timing_at) std::printf(" %9s |", ("t=" + std::to_string(t)).c_str());
  std::printf("\n|--------------------|");
  for (size_t i = 0; i < timing_at.size(); ++i) std::printf("-----------|");
  std::printf("\n");
  for (const auto& r : results) {
    if (!r.ok) continue;
    std::printf("| %-18s |", r.label.c_str());
    for (int32_t t : timing_at) std::printf(" %9s |", ms_cell(mean_ms_up_to(r.step_ms, uint64_t(t), 64)).c_str());
    std::printf("\n");
  }
}

void write_stream_csv(const std::string& path, const std::vector<StreamResult>& results) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results)
    for (const auto& row : r.rows)
      rows.push_back({r.label, std::to_string(row.seg.index), std::to_string(row.seg.first_consumed),
                      std::to_string(row.seg.last_consumed), std::to_string(row.seg.n_scored), num(row.seg.ppl),
                      num(row.seg.running_ppl), std::to_string(row.kv_bytes), std::to_string(row.kv_slots_used),
                      std::to_string(row.kv_slots_capacity), num(row.ms_per_token), row.seg.partial ? "1" : "0"});
  write_csv(path,
            {"policy", "segment", "first_token", "tokens_consumed", "tokens_scored", "segment_ppl", "running_ppl",
             "kv_bytes", "kv_slots_used", "kv_slots_capacity", "ms_per_token", "partial"},
            rows);
}

void write_stream_svg(const std::string& path, const std::vector<StreamResult>& results, const std::string& title) {
  std::vector<PlotSeries> series;
  for (const auto& r : results) {
    if (!r.ok) continue;
    PlotSeries s;
    s.label = r.label;
    for (const auto& row : r.rows) s.points.emplace_back(double(row.seg.last_consumed), row.seg.ppl);
    series.push_back(std::move(s));
  }
  PlotOptions opt;
  opt.title = title;
  opt.y_label = "segment perplexity (log scale)";
  std::ofstream f(path, std::ios::binary);
  f << render_svg_plot(series, opt);
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace tern::ppl

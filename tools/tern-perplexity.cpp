// tern-perplexity: long-context evaluation through the public C API. Streaming perplexity of a
// text file per KV policy at equal KV bytes (live table, summary, CSV, SVG plot), and passkey
// retrieval accuracy per prompt length and key depth. A policy whose context cannot be created
// (e.g. not in this build) is reported and skipped; the run fails only when every policy does.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "perplexity/args.h"
#include "perplexity/context_setup.h"
#include "perplexity/csv.h"
#include "perplexity/passkey_eval.h"
#include "perplexity/passkey_merge.h"
#include "perplexity/passkey_report.h"
#include "perplexity/report.h"
#include "perplexity/stream_eval.h"
#include "tern.h"

namespace {

using namespace tern::ppl;

// Ctrl-C ends the running stream; the summary, CSV and plot are still written.
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler needs a lock-free flag");
void on_sigint(int) { g_interrupted = true; }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The token stream to feed: the text's tokens (BOS first), repeated without BOS when --loop,
// cut to max_tokens fed (+1 scored).
std::vector<tern_token> token_stream(const tern_model* model, tern_token bos, const Options& o) {
  std::vector<tern_token> text = tokenize(model, read_file(o.text_file), true);
  if (text.size() < 2) throw std::runtime_error(o.text_file + " has fewer than 2 tokens");
  std::vector<tern_token> s = text;
  const size_t want = o.max_tokens ? size_t(o.max_tokens) + 1 : text.size();
  const size_t body = bos >= 0 && text[0] == bos ? 1 : 0;  // repeats continue the text without BOS
  while (o.loop && s.size() < want) s.insert(s.end(), text.begin() + long(body), text.end());
  if (s.size() > want) s.resize(want);
  return s;
}

// The passkey files a run or a merge asked for; `title` is the heat map's unless --title gives one.
void write_passkey_outputs(const Options& o, const std::vector<PasskeyResult>& results, const PasskeyRunInfo& info,
                           const std::string& title) {
  if (!o.passkey_csv.empty()) write_passkey_csv(o.passkey_csv, results, info), std::printf("wrote %s\n", o.passkey_csv.c_str());
  if (!o.passkey_trials_csv.empty())
    write_passkey_trials_csv(o.passkey_trials_csv, results, info), std::printf("wrote %s\n", o.passkey_trials_csv.c_str());
  if (!o.passkey_svg.empty()) {
    write_passkey_svg(o.passkey_svg, results, o.title.empty() ? title : o.title);
    std::printf("wrote %s\n", o.passkey_svg.c_str());
  }
}

// --passkey-merge: one table, CSV and heat map over earlier runs' per-cell CSVs.
int merge(const Options& o) {
  std::vector<PasskeyCsv> files;
  for (const auto& path : o.passkey_merge) files.push_back({path, parse_csv(read_file(path), path)});
  const MergedPasskey m = merge_passkey_cells(files);
  std::printf("passkey: %zu runs merged, needle %s, filler %s\n", files.size(), m.info.needle.c_str(), m.info.filler.c_str());
  for (const auto& r : m.results) print_passkey_table(r);
  write_passkey_outputs(o, m.results, m.info,
                        "Passkey retrieval (" + m.info.needle + " needle), " + std::to_string(files.size()) + " runs merged");
  return 0;
}

int run(const Options& o) {
  if (!o.passkey_merge.empty()) return merge(o);
  tern_model_params mp = tern_model_default_params();
  if (!o.device.empty()) mp.device = o.device.c_str();
  tern_model* model = nullptr;
  tern_status st = tern_model_load(o.model.c_str(), &mp, &model);
  if (st != TERN_OK) throw std::runtime_error("cannot load " + o.model + ": " + api_error(st));
  struct Free {
    tern_model* m;
    ~Free() { tern_model_free(m); }
  } free_model{model};
  tern_model_info info{};
  info.struct_size = sizeof info;
  if ((st = tern_model_get_info(model, &info)) != TERN_OK) throw std::runtime_error(api_error(st));
  std::string probe_error;
  const uint64_t bytes_per_slot = probe_bytes_per_slot(model, o.kv_slots, o.kv_type, &probe_error);
  std::printf("model: %s (%s, %d layers, trained on %d tokens) on %s\n", info.name, info.architecture, info.n_layer,
              info.n_ctx_train, info.device_name);
  std::printf("KV: %s, %llu bytes per slot (%s), %.1f KiB at %d slots\n", kv_slots_caption(o.policies, o.kv_slots).c_str(),
              (unsigned long long)bytes_per_slot, o.kv_type == TERN_KV_TYPE_F32 ? "f32" : o.kv_type == TERN_KV_TYPE_Q8_0 ? "q8_0" : "f16",
              double(bytes_per_slot) * o.kv_slots / 1024.0, o.kv_slots);
  if (!bytes_per_slot) std::fprintf(stderr, "tern-perplexity: dense probe failed: %s\n", probe_error.c_str());

  auto params_for = [&](const PolicySpec& spec, std::string* error) -> std::optional<tern_context_params> {
    try {
      tern_context_params p = context_params_for(spec, o.kv_slots, bytes_per_slot, o.kv_type);
      p.numerics = o.numerics;
      if (o.n_batch > 0) p.n_batch = o.n_batch;
      return p;
    } catch (const std::exception& e) {
      *error = e.what();
      return std::nullopt;
    }
  };
  bool any_failed_all = false;

  if (!o.text_file.empty()) {
    const std::vector<tern_token> tokens = token_stream(model, info.bos, o);
    std::printf("text: %s, %zu tokens fed at most%s, segments of %u scored tokens\n\n", o.text_file.c_str(),
                tokens.size() - 1, o.loop ? " (looped)" : "", o.segment);
    std::vector<StreamResult> results;
    if (!o.quiet) print_live_header();
    std::signal(SIGINT, on_sigint);
    for (const auto& spec : o.policies) {
      if (g_interrupted) break;
      std::string error;
      const auto params = params_for(spec, &error);
      StreamResult r;
      if (params)
        r = run_stream(model, *params, tokens, spec.label, o.segment, [&](const StreamResult& res, const SegmentRow& row) {
          if (!o.quiet) print_live_row(res, row);
        }, &g_interrupted);
      else r.label = spec.label, r.error = error;
      if (!r.ok) std::fprintf(stderr, "tern-perplexity: policy %s: %s\n", spec.label.c_str(), r.error.c_str());
      results.push_back(std::move(r));
    }
    std::signal(SIGINT, SIG_DFL);
    print_stream_summary(results, o.timing_at);
    uint64_t bytes0 = 0;
    for (const auto& r : results) {
      if (!r.ok) continue;
      if (bytes0 && r.kv_bytes != bytes0)
        std::printf("note: KV bytes differ between policies (%s: %llu, first: %llu)\n", r.label.c_str(),
                    (unsigned long long)r.kv_bytes, (unsigned long long)bytes0);
      if (!bytes0) bytes0 = r.kv_bytes;
    }
    if (!o.csv.empty()) write_stream_csv(o.csv, results), std::printf("wrote %s\n", o.csv.c_str());
    if (!o.svg.empty()) {
      std::ostringstream title;
      title << "Streaming perplexity, " << info.name << ", " << kv_slots_caption(o.policies, o.kv_slots);
      write_stream_svg(o.svg, results, title.str());
      std::printf("wrote %s\n", o.svg.c_str());
    }
    bool any_ok = false;
    for (const auto& r : results) any_ok = any_ok || (r.ok && r.scored > 0);
    any_failed_all = any_failed_all || !any_ok;
  }

  if (o.passkey) {
    PasskeyConfig cfg{o.lengths, o.depths, o.trials, o.seed, o.gen_tokens, parse_needle_kind(o.needle),
                      o.filler_file.empty() ? default_filler() : filler_from_text(read_file(o.filler_file), o.filler_file)};
    const PasskeyRunInfo run_info{o.needle, cfg.filler.source};
    std::printf("passkey: needle %s, filler %s (%zu sentences), %d trials per cell, seed %llu\n", o.needle.c_str(),
                cfg.filler.source.c_str(), cfg.filler.sentences.size(), o.trials, (unsigned long long)o.seed);
    std::vector<PasskeyResult> results;
    bool any_ok = false;
    for (const auto& spec : o.policies) {
      std::string error;
      const auto params = params_for(spec, &error);
      PasskeyResult r;
      if (params) r = run_passkey(model, *params, spec.label, cfg);
      else r.label = spec.label, r.error = error;
      if (!r.ok) std::fprintf(stderr, "tern-perplexity: policy %s: %s\n", spec.label.c_str(), r.error.c_str());
      print_passkey_table(r);
      any_ok = any_ok || r.ok;
      results.push_back(std::move(r));
    }
    std::ostringstream title;
    const std::string& src = cfg.filler.source;
    title << "Passkey retrieval (" << o.needle << " needle, " << src.substr(src.find_last_of('/') + 1) << " filler), " << info.name
          << ", " << kv_slots_caption(o.policies, o.kv_slots);
    write_passkey_outputs(o, results, run_info, title.str());
    any_failed_all = any_failed_all || !any_ok;
  }
  if (any_failed_all) {
    std::fprintf(stderr, "tern-perplexity: no policy produced a result\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the live table appears as segments close
  Options o;
  try {
    o = parse_args(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern-perplexity: %s\n", e.what());
    return 2;
  }
  if (o.help) {
    std::printf("%s", usage_text());
    return 0;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern-perplexity: %s\n", e.what());
    return 1;
  }
}

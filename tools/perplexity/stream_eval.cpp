#include "perplexity/stream_eval.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "perplexity/context_setup.h"
#include "perplexity/log_softmax.h"

namespace tern::ppl {

double StreamResult::ppl() const {
  return scored ? std::exp(nll / double(scored)) : std::numeric_limits<double>::quiet_NaN();
}

double mean_ms_up_to(const std::vector<float>& step_ms, uint64_t t, uint64_t n) {
  if (t == 0 || t > step_ms.size() || n == 0) return std::numeric_limits<double>::quiet_NaN();
  const uint64_t from = t > n ? t - n : 0;
  double sum = 0;
  for (uint64_t i = from; i < t; ++i) sum += step_ms[i];
  return sum / double(t - from);
}

StreamResult run_stream(tern_model* model, const tern_context_params& params, const std::vector<tern_token>& tokens,
                        const std::string& label, uint32_t segment,
                        const std::function<void(const StreamResult&, const SegmentRow&)>& on_row,
                        const std::atomic<bool>* stop) {
  StreamResult r;
  r.label = label;
  tern_context* ctx = nullptr;
  tern_status st = tern_context_create(model, &params, &ctx);
  if (st != TERN_OK) {
    r.error = "cannot create the context: " + api_error(st);
    return r;
  }
  r.ok = true;
  SegmentAccumulator acc(segment);
  tern_context_stats stats{};
  stats.struct_size = sizeof stats;
  auto close = [&](const Segment& s) {
    SegmentRow row;
    row.seg = s;
    row.ms_per_token = mean_ms_up_to(r.step_ms, s.last_consumed, s.last_consumed - s.first_consumed + 1);
    if (tern_context_get_stats(ctx, &stats) == TERN_OK) {
      row.kv_bytes = stats.kv_bytes;
      row.kv_slots_used = stats.kv_slots_used;
      row.kv_slots_capacity = stats.kv_slots_capacity;
    }
    r.rows.push_back(row);
    if (on_row) on_row(r, row);
  };
  r.step_ms.reserve(tokens.size());
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (stop && stop->load()) {
      r.error = "interrupted";
      break;
    }
    const auto t0 = std::chrono::steady_clock::now();
    st = tern_eval(ctx, &tokens[i], 1);
    const float* logits = nullptr;
    int32_t n_vocab = 0;
    if (st == TERN_OK) st = tern_get_logits(ctx, &logits, &n_vocab);
    const auto t1 = std::chrono::steady_clock::now();
    if (st != TERN_OK) {
      r.context_full = st == TERN_ERR_CONTEXT_FULL;
      r.error = (r.context_full ? "stopped: " : "failed: ") + api_error(st);
      break;
    }
    r.step_ms.push_back(float(std::chrono::duration<double, std::milli>(t1 - t0).count()));
    r.consumed = i + 1;
    const double nll = -log_softmax_at(logits, size_t(n_vocab), tokens[i + 1]);
    if (auto s = acc.add(nll, r.consumed)) close(*s);
  }
  if (auto s = acc.finish()) close(*s);
  if (tern_context_get_stats(ctx, &stats) == TERN_OK) {
    r.kv_bytes = stats.kv_bytes;
    r.kv_slots_capacity = stats.kv_slots_capacity;
  }
  r.scored = acc.total_scored();
  r.nll = acc.total_nll();
  tern_context_free(ctx);
  return r;
}

}  // namespace tern::ppl

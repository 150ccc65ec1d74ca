// Streaming perplexity of one policy: tokens fed one at a time with tern_eval, the next token
// scored from the logits (log-softmax in double), NLL closed into segments as the stream grows.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "perplexity/segment_stats.h"
#include "tern.h"

namespace tern::ppl {

struct SegmentRow {
  Segment seg;
  double ms_per_token = 0;  // mean decode wall time over the segment's tokens
  uint64_t kv_bytes = 0;
  int32_t kv_slots_used = 0, kv_slots_capacity = 0;
};

struct StreamResult {
  std::string label;
  bool ok = false;          // the context was created and the stream ran (possibly cut short)
  std::string error;        // why not, or why the stream stopped early
  bool context_full = false;
  std::vector<SegmentRow> rows;  // complete segments, then a final partial one if any
  uint64_t consumed = 0, scored = 0;
  double nll = 0;
  uint64_t kv_bytes = 0;
  int32_t kv_slots_capacity = 0;
  std::vector<float> step_ms;    // wall ms of each tern_eval + tern_get_logits; [t-1] for token t
  double ppl() const;
};

// Feeds tokens[0 .. n-2] and scores tokens[1 .. n-1]. Stops cleanly on TERN_ERR_CONTEXT_FULL.
// on_row is called as each segment closes (for the live table). A set *stop (e.g. from a SIGINT
// handler) ends the stream early with what was scored so far.
StreamResult run_stream(tern_model* model, const tern_context_params& params, const std::vector<tern_token>& tokens,
                        const std::string& label, uint32_t segment,
                        const std::function<void(const StreamResult&, const SegmentRow&)>& on_row,
                        const std::atomic<bool>* stop = nullptr);

// Mean of step_ms over tokens (t - n, t]; NaN when fewer than t tokens were consumed.
double mean_ms_up_to(const std::vector<float>& step_ms, uint64_t t, uint64_t n);

}  // namespace tern::ppl

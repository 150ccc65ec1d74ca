// Plain reference of the KV policies, written from ../shared/docs/long-context.md and kept
// independent of runtime/kv/kv_policy.cpp: lists of cached rows, one token at a time, positions
// by list order, K/V computed once per row and never recomputed. A model's sliding-window
// layers see, whatever the policy, the stream's last W rows at their text positions (a list of
// its own). Tests compare the GPU context (any batch split) with it.
#pragma once
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "kv/kv_policy.h"
#include "ref/llama_forward.h"

namespace tern::ref {

class KvStreaming {
 public:
  KvStreaming(const LlamaForward& model, const KvPolicyConfig& config);

  // Feeds tokens; returns the logits after each one ([n][n_vocab]).
  std::vector<float> feed(std::span<const int32_t> tokens);

  uint32_t sinks() const { return uint32_t(sinks_.size()); }
  uint32_t beacons() const;
  uint32_t raw() const;

 private:
  struct Row {
    LlamaForward::KvEntry kv;
    bool beacon = false;
    bool hidden = false;  // sliding beacon mode: a beacon whose group is still in the raw window
  };
  // Runs one row after everything cached; returns its logits and appends it to current_.
  std::vector<float> run(int32_t token);
  void compact();
  void slide_window();  // sliding beacon mode: the oldest raw token leaves the window

  const LlamaForward& model_;
  KvPolicyConfig config_;
  std::vector<Row> sinks_, memory_, current_;
  uint32_t chunk_raw_ = 0, since_beacon_ = 0, evicted_ = 0;
  std::deque<LlamaForward::KvEntry> recent_;  // the sliding-window layers' last W rows
  int32_t text_pos_ = 0;                      // the next row's text position
};

}  // namespace tern::ref

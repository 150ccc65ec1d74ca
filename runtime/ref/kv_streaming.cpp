#include "ref/kv_streaming.h"

#include <algorithm>

#include "common/error.h"

namespace tern::ref {

KvStreaming::KvStreaming(const LlamaForward& model, const KvPolicyConfig& config) : model_(model), config_(config) {
  const bool beacon = config.kind == KvPolicyKind::Beacon || config.kind == KvPolicyKind::BeaconSliding;
  check(!(model.config().has_sliding_layers() && beacon), Status::Unsupported,
        "reference: no beacon policy on a model with sliding-window layers");
}

uint32_t KvStreaming::beacons() const {
  uint32_t n = uint32_t(memory_.size());
  for (const Row& r : current_) n += r.beacon;
  return n;
}

uint32_t KvStreaming::raw() const {
  uint32_t n = 0;
  for (const Row& r : current_) n += !r.beacon;
  return n;
}

std::vector<float> KvStreaming::run(int32_t token) {
  // The cache in order: sinks, beacon memory, current rows; positions 0..m-1, the new row m.
  std::vector<const LlamaForward::KvEntry*> cached;
  for (const auto* list : {&sinks_, &memory_, &current_})
    for (const Row& r : *list)
      if (!r.hidden) cached.push_back(&r.kv);
  std::vector<int32_t> cached_pos(cached.size());
  for (size_t i = 0; i < cached.size(); ++i) cached_pos[i] = int32_t(i);
  const int32_t pos = int32_t(cached.size());
  // Sliding-window layers: the last W rows, at text positions.
  std::vector<const LlamaForward::KvEntry*> recent;
  std::vector<int32_t> recent_pos;
  for (size_t i = 0; i < recent_.size(); ++i) {
    recent.push_back(&recent_[i]);
    recent_pos.push_back(text_pos_ - int32_t(recent_.size() - i));
  }
  const LlamaForward::SlidingView view{recent, recent_pos, std::span<const int32_t>(&text_pos_, 1)};
  std::vector<LlamaForward::KvEntry> fresh;
  std::vector<float> logits = model_.step(cached, cached_pos, std::span<const int32_t>(&token, 1),
                                          std::span<const int32_t>(&pos, 1), fresh, &view);
  if (const uint32_t w = model_.config().swa_window) {
    recent_.push_back(fresh[0]);
    if (recent_.size() > w) recent_.pop_front();
  }
  ++text_pos_;
  current_.push_back(Row{std::move(fresh[0]), token == k_ref_beacon_token});
  return logits;
}

void KvStreaming::compact() {
  // The first rows of the stream stay as sinks; the chunk's raw rows go; its beacons stay.
  size_t i = 0;
  for (; i < current_.size() && sinks_.size() < config_.sinks; ++i) sinks_.push_back(std::move(current_[i]));
  for (; i < current_.size(); ++i)
    if (current_[i].beacon) memory_.push_back(std::move(current_[i]));
  current_.clear();
  chunk_raw_ = 0;
  const size_t capacity = config_.slots - config_.sinks - config_.beacon_window - config_.beacon_window / config_.beacon_ratio;
  if (memory_.size() > capacity) memory_.erase(memory_.begin(), memory_.end() - std::ptrdiff_t(capacity));
}

void KvStreaming::slide_window() {
  // The oldest raw row leaves; when it opened its group (every r-th one to leave), the group's
  // beacon stops hiding and joins the beacon memory, whose oldest row goes beyond capacity.
  check(!current_.empty() && !current_.front().beacon, Status::Internal, "reference: window does not start raw");
  current_.erase(current_.begin());
  if (evicted_++ % config_.beacon_ratio == 0) {
    for (auto it = current_.begin(); it != current_.end(); ++it)
      if (it->beacon) {
        it->hidden = false;
        memory_.push_back(std::move(*it));
        current_.erase(it);
        break;
      }
    const size_t capacity = config_.slots - config_.sinks - config_.beacon_window - config_.beacon_window / config_.beacon_ratio;
    if (memory_.size() > capacity) memory_.erase(memory_.begin());
  }
}

std::vector<float> KvStreaming::feed(std::span<const int32_t> tokens) {
  std::vector<float> out;
  for (int32_t t : tokens) {
    std::vector<float> logits;
    switch (config_.kind) {
      case KvPolicyKind::Dense:
        check(current_.size() < config_.slots, Status::ContextFull, "reference: dense cache full");
        logits = run(t);
        break;
      case KvPolicyKind::SinksWindow:
        if (sinks_.size() < config_.sinks) {
          logits = run(t);
          sinks_.push_back(std::move(current_.back()));
          current_.pop_back();
        } else {
          if (current_.size() == config_.slots - config_.sinks) current_.erase(current_.begin());  // evict the oldest
          logits = run(t);
        }
        break;
      case KvPolicyKind::Beacon:
        logits = run(t);
        ++chunk_raw_;
        if (++since_beacon_ == config_.beacon_ratio) {  // a beacon follows every r-th raw token
          run(k_ref_beacon_token);
          since_beacon_ = 0;
        }
        if (chunk_raw_ == config_.beacon_window) compact();
        break;
      case KvPolicyKind::BeaconSliding:
        if (sinks_.size() < config_.sinks) {  // the first raw tokens are sinks, in no group
          logits = run(t);
          sinks_.push_back(std::move(current_.back()));
          current_.pop_back();
          break;
        }
        if (raw() == config_.beacon_window) slide_window();
        logits = run(t);
        if (++since_beacon_ == config_.beacon_ratio) {
          run(k_ref_beacon_token);
          current_.back().hidden = true;  // seen by itself only, until its group leaves the window
          since_beacon_ = 0;
        }
        break;
    }
    out.insert(out.end(), logits.begin(), logits.end());
  }
  return out;
}

}  // namespace tern::ref

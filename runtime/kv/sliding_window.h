// The cache of a model's sliding-window layers (Gemma 3's local layers; ModelConfig::
// layer_kinds): whatever the context's KV policy does with the global layers, such a layer
// needs only the last W text positions, so it keeps them in a ring of slots at their text
// positions (the positions the model was trained with): text position t lives in slot t % slots.
//
// Exactness with batches: a step of n rows at positions p0..p0+n-1 writes its rows before
// attending, and its first row still needs keys back to p0 - W + 1, so the ring holds
// slots >= W + n - 1 (W + the largest step - 1; exactly W for token-by-token decoding, as
// llama.cpp sizes its sliding-window cache). Attention then masks every key whose position is
// W or more below the query's (ops::AttentionParams::window), so each row sees exactly its own
// last W positions. When the ring is at least as long as the whole context, slot == position:
// a plain dense cache in text order.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace tern {

// One step's view of the ring: where its rows go and which text position every slot holds
// while the step runs (its own rows already written), -1 for a slot never written.
struct SlidingStep {
  std::vector<uint32_t> slots;     // one per row
  std::vector<int32_t> positions;  // the rows' text positions
  std::vector<int32_t> slot_pos;   // [slots()]
};

class SlidingWindowCache {
 public:
  // window W >= 1; slots >= W (W + max_rows - 1 for steps of max_rows rows). Throws
  // InvalidArgument otherwise.
  SlidingWindowCache(uint32_t window, uint32_t slots);

  uint32_t window() const { return window_; }
  uint32_t slots() const { return slots_; }
  // Rows one step may have so that every row still finds its whole window: slots - W + 1.
  uint32_t max_rows() const { return slots_ - window_ + 1; }
  // Text positions consumed so far (the next row's position).
  uint64_t consumed() const { return consumed_; }
  // Slots holding a position (min(consumed, slots)).
  uint32_t used() const;

  // Whether a step of n rows keeps every row's window: n <= max_rows(), or no slot is written
  // twice yet (consumed + n <= slots: a ring as long as a dense context never wraps).
  bool fits(uint32_t n) const;
  // Plans a step of n rows (fits(n)); commit(n) after the step ran. Throws InvalidArgument for
  // a bad n and ContextFull when positions would pass INT32_MAX.
  SlidingStep plan(uint32_t n) const;
  void commit(uint32_t n);
  void reset() { consumed_ = 0; }
  // Which text position each slot holds now, -1 for an empty one.
  std::vector<int32_t> slot_positions() const;

  // State as words (saved contexts) and back; restore() throws StateMismatch for words of
  // another ring.
  std::vector<uint32_t> save() const;
  void restore(std::span<const uint32_t> words);

 private:
  std::vector<int32_t> positions_after(uint64_t consumed) const;
  uint32_t window_, slots_;
  uint64_t consumed_ = 0;
};

}  // namespace tern

// The transformer forward pass on the GPU for one context: a step of rows (a prefill batch or one
// decode token, with any beacon rows its KV policy adds) is recorded as one command buffer and
// submitted once. Read run() first: it is the model's maths, one line per step, over the blocks
// attention_block and ffn_block.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "gpu/buffer.h"
#include "gpu/recorder.h"
#include "kv/kv_cache.h"
#include "kv/kv_policy.h"
#include "kv/sliding_window.h"
#include "model/key_path.h"
#include "model/model.h"
#include "model/numerics.h"
#include "model/rotary.h"
#include "model/step_plan.h"
#include "ops/matmul.h"
#include "ops/top_k.h"

namespace tern {

struct ForwardOptions {
  // RoPE table to use instead of the model's (a context's RoPE overrides); nullopt: the model's.
  // It applies to the global layers: sliding-window layers keep theirs (Model::rope_freqs_swa).
  std::optional<Rotary::Table> rope;
  // llama.cpp's arithmetic, piece by piece. Any of it needs an f16 cache, the model's own
  // unscaled interleaved (llama) RoPE and no override (Unsupported otherwise); its RoPE or its
  // attention store keys rotated (steps in text order only).
  LlamaCppNumerics numerics;
  // How the cache holds keys (key_storage_for): Rotated needs every step in text order;
  // Shifted needs the policy's sinks count and a rebase_keys() call whenever the policy wants one.
  KeyStorage keys = KeyStorage::PreRope;
  uint32_t sinks = 0;
  // The most rows one step asks logits for (0: max_batch). The logits buffer is sized by it: a
  // context needs one row, and 512 rows of Qwen2's logits would be 311 MB.
  uint32_t max_logit_rows = 0;
  // The fusions' starting state (set_fusion, set_norm_fusion); norm_fusion nullopt: the
  // device's default (gpu::DeviceTuning::norm_fusion).
  bool fusion = true;
  std::optional<bool> norm_fusion;
  // The sliding-window layers' ring (the caller's: it commits each step after run() and resets
  // it with the cache), whose slots are those layers' rows of the KvCache; nullptr: those layers
  // read the global layers' cache, which must then be in text order (the dense policy).
  // A step must not wrap the ring (its rows in consecutive slots).
  SlidingWindowCache* sliding = nullptr;
};

class Forward {
 public:
  Forward(std::shared_ptr<const Model> model, KvCache& kv, uint32_t max_batch, const ForwardOptions& options = {});

  // Runs one step as its KV policy planned it (KvPolicy::plan, or dense_step), on the step's
  // raw tokens (step.n_raw of them, in row order), and leaves the logits of the rows `logits`
  // names (n_vocab floats each) on the device until the next run. select_k > 0 also selects each
  // logit row's best select_k entries (ops::argmax for 1, ops::top_k up to ops::k_top_k_max) in
  // the same command buffer and reads back only those: the GPU sampling path, where the host
  // never sees the logits unless it asks (read_logits).
  void run(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, uint32_t select_k);
  // Before a step of a policy that wants_rebase(): turns the cached window keys back by its key
  // offset (a Shifted key path; nothing for others) in a submission of its own, so the policy's
  // rebase_keys() follows only once it is done. slot_pos: the policy's slot_positions().
  void rebase_keys(std::span<const int32_t> slot_pos, uint32_t offset);
  // Runs one step and reads its logits back: n_vocab floats per logit row.
  void run(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, std::vector<float>& out);
  // The last step's logits, read from the device.
  void read_logits(std::vector<float>& logits);
  // The last step's selection, select_k entries per logit row, best first (ops::top_k's order);
  // after an argmax (select_k = 1) only the ids are filled in and the logits are NaN.
  const std::vector<ops::TopKEntry>& selected() const { return selected_; }

  // Caps the bytes one binding of the logits may span (below the device's
  // maxStorageBufferRange), so tests can run the head in pieces on any device.
  void set_max_logits_binding(uint64_t bytes) { max_logits_binding_ = bytes; }

  uint32_t max_batch() const { return max_batch_; }
  const LlamaCppNumerics& numerics() const { return numerics_; }
  KeyStorage key_storage() const { return keys_->storage(); }
  uint64_t device_bytes() const;
  gpu::Recorder& recorder() { return rec_; }

  // Fusions (on by default; a context takes ContextParams::fusion or TERN_FUSE), the same logits
  // bit for bit: the O and down products accumulate into the residual stream
  // (ops::MatmulOptions::accumulate) and the down product computes silu(gate) * up as it loads
  // its input (::swiglu_up): 3 dispatches fewer per layer. In decode steps (one row) Q, K, V are
  // one product and gate, up another where the model stores them stacked (LayerWeights::wqkv,
  // w_gate_up): 3 more. Off: separate products, ops::add and ops::silu_mul (A/B runs, debugging).
  void set_fusion(bool on) { fuse_ = on; }
  bool fusion() const { return fuse_; }
  // One more, under the switch above: in decode steps (one row, Tern's own RMSNorm and products,
  // no beacon rows) each RMSNorm is computed inside the products that read it
  // (ops::MatmulOptions::rms_norm_weight: the attention and FFN norms and the output norm, 3
  // dispatches fewer per layer and one per step), the same bits. Its own switch for A/B runs
  // (a context: ContextParams::norm_fusion or TERN_FUSE_NORM=0/1 at start); the default is the
  // device's (gpu/quirks.cpp: off on CPU devices such as lavapipe, where the redundant
  // per-workgroup sum of squares costs more than the dispatch saves, BENCHMARKS.md).
  void set_norm_fusion(bool on) { fuse_norm_ = on; }
  bool norm_fusion() const { return fuse_norm_; }

 private:
  // The blocks of one layer, and the steps around them.
  StepPlan plan(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, uint32_t select_k);
  void plan_ring(StepPlan& p);
  void embed(const StepPlan& p);
  void attention_block(uint32_t layer, const StepPlan& p);
  void ffn_block(uint32_t layer, const StepPlan& p);
  void output_head(const StepPlan& p);
  void read_selection(const StepPlan& p);

  // Products of the blocks.
  struct MatmulArgs {
    bool same_input = false;  // x is the previous product's input, unchanged since (Q/K/V, gate/up):
                              // its q8_0 quantisation is reused
    bool accumulate = false;  // y += W x
    gpu::BufferRef swiglu_up;  // when bound, x is a gate and this its up (the model's GLU: SwiGLU or GeGLU)
    const ops::WeightView* norm = nullptr;  // when set, the input is rms_norm(x) with this weight
  };
  // y = W x for n rows with the numerics' matmul options and the fusions in a.
  void matmul(const ops::WeightView& w, gpu::BufferRef x, gpu::BufferRef y, uint32_t n, const MatmulArgs& a);
  void matmul(const ops::WeightView& w, gpu::BufferRef x, gpu::BufferRef y, uint32_t n) {
    matmul(w, x, y, n, MatmulArgs{});
  }
  // y = rms_norm(x) * w, with llama.cpp's arithmetic or the reduction fused norms replay.
  void rms_norm(const gpu::Buffer& x, const ops::WeightView& w, const gpu::Buffer& y, uint32_t n);
  // x += o, or with post-norms (gemma3) x += rms_norm(o) * post_norm: a block's output into the
  // residual stream (o holds n rows).
  void add_block_output(const ops::WeightView& post_norm, uint32_t n);
  // q and k normalised per head (qwen3, gemma3: attn_q_norm, attn_k_norm), before RoPE.
  void norm_heads(const LayerWeights& L, const StepPlan& p);
  // The input of products that read rms_norm(x) * w: x with the norm taken into the products
  // (the returned weight) where the plan says so, else h_ = rms_norm(x) * w and no weight.
  std::pair<const gpu::Buffer*, const ops::WeightView*> normed_input(const ops::WeightView& w, const StepPlan& p);
  void project_qkv(const LayerWeights& L, const StepPlan& p);
  void project_out(const LayerWeights& L, const StepPlan& p);
  void project_gate_up(const LayerWeights& L, const StepPlan& p);
  void project_down(const LayerWeights& L, const StepPlan& p);
  // Beacon rows of y replaced by their beacon projection W x (+ bias); nothing without them.
  void beacon_rows(const ops::WeightView& w, const ops::WeightView& bias, const gpu::Buffer& x, gpu::BufferRef y,
                   uint32_t out_elems, const StepPlan& p);

  // The output head (forward_head.cpp).
  uint32_t head_piece_rows(uint32_t select_k) const;
  void reserve_selection(uint32_t rows, uint32_t piece);

  gpu::Buffer make(uint64_t bytes, const char* what);

  std::shared_ptr<const Model> model_;
  const ModelConfig& c_;
  KvCache& kv_;
  uint32_t max_batch_;
  uint32_t max_logit_rows_;  // logits_ and last_ hold this many rows
  gpu::Recorder rec_;
  uint64_t device_bytes_ = 0;
  LlamaCppNumerics numerics_;
  std::unique_ptr<Rotary> rope_;
  std::unique_ptr<Rotary> rope_swa_;  // the sliding-window layers' (models that have them)
  SlidingWindowCache* sliding_ = nullptr;   // ForwardOptions::sliding
  SlidingStep swa_step_;                    // this step's view of it (StepPlan::swa's slot positions)
  gpu::Buffer swa_pos_, swa_slot_pos_;      // its row and slot positions on the device
  std::unique_ptr<KeyPath> keys_;
  std::vector<LayerAttention> layers_;
  bool fuse_ = true;
  bool fuse_norm_ = true;
  bool last_used_q8_ = false;  // the last matmul() quantised its input into q8_
  // Activations for up to max_batch rows.
  gpu::Buffer ids_, pos_, rot_pos_, slot_pos_, x_, h_, att_, o_, last_, logits_;
  gpu::Buffer qkv_;      // a step's q, k and v rows, one part after the other (see parts())
  gpu::Buffer gate_up_;  // a step's gate and up rows, the same way
  uint64_t part_align_ = 16;
  // This step's parts of qkv_ and gate_up_ (n rows each).
  struct Parts {
    gpu::BufferRef q, k, v, gate, up;
    bool qkv_back_to_back = true, gate_up_back_to_back = true;  // no padding between the parts
  } parts_;
  Parts parts(uint32_t n) const;
  gpu::Buffer beacon_;  // beacon projections (only for models that have them)
  gpu::Buffer q8_;      // LlamaCppNumerics::q8_activations: matmul inputs quantised to q8_0
  uint32_t logit_rows_ = 0;  // of the last step, in logits_
  gpu::Buffer select_out_, select_scratch_;  // ops::argmax / ops::top_k output and scratch
  uint32_t select_rows_ = 0, select_piece_ = 0;  // logit rows / piece rows those are sized for
  uint64_t max_logits_binding_ = UINT64_MAX;
  std::vector<ops::TopKEntry> selected_;
};

}  // namespace tern

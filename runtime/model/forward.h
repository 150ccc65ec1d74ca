// The transformer forward pass on the GPU for one context: a batch of tokens (prefill) or a
// single token (decode) is recorded as one command buffer and submitted once.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "gpu/buffer.h"
#include "gpu/recorder.h"
#include "kv/kv_cache.h"
#include "model/model.h"
#include "model/numerics.h"
#include "ops/matmul.h"
#include "ops/top_k.h"

namespace tern {

// Token id of a beacon row (Activation Beacon): embedded with the model's beacon embedding,
// or as EOS when the model has none, and projected with the beacon Q/K/V/O when present.
constexpr int32_t k_beacon_token = -1;

// How the cache holds keys.
enum class KeyStorage {
  // Before RoPE, rotated with the step's slot positions just before attention, so any KV policy
  // (runtime/kv/kv_policy.h) can renumber slots without touching the cache.
  PreRope,
  // Rotated once, as they are stored: for a dense cache, whose slot positions never change.
  // Attention then reads the cache itself, with no per-step pass over every key and no rotated
  // copy of them; the values are bit-identical to PreRope's (same rounding, same arithmetic).
  // f16 and f32 caches only.
  Rotated,
};

// One step: n rows, each written to a KV slot and attending, by position, over the cache.
struct ForwardStep {
  std::span<const int32_t> tokens;       // n rows: token ids or k_beacon_token
  std::span<const int32_t> positions;    // RoPE position of each row
  std::span<const uint32_t> slots;       // KV slot each row writes
  std::span<const int32_t> slot_pos;     // position of slots 0..n_kv-1 during the step, -1 = empty
  std::span<const uint32_t> logit_rows;  // rows whose logits run() returns, in this order
};

// A step over a dense cache: rows at positions and slots first..first+n-1 seeing slots
// 0..first+n-1; logits of every row or of the last one. Owns the arrays step() points into.
struct DenseStep {
  DenseStep(std::span<const int32_t> tokens, uint32_t first, bool all_logits);
  ForwardStep step() const;
  std::vector<int32_t> tokens, positions, slot_pos;
  std::vector<uint32_t> slots, logit_rows;
};

class Forward {
 public:
  // rope: theta_i table and cos/sin factor to use instead of the model's (context overrides).
  struct Rope {
    std::vector<float> freqs;
    float attn_factor = 1.f;
  };
  // numerics LlamaCpp throws Unsupported unless the cache is f16, there is no rope override and
  // the model's RoPE is unscaled and interleaved; run() then also needs steps in text order.
  // keys Rotated (implied by LlamaCpp) needs every step in text order (run() throws otherwise).
  // max_logit_rows: the most rows one step asks logits for (0: max_batch). The logits buffer is
  // sized by it: a context needs one row, and 512 rows of Qwen2's logits would be 311 MB.
  Forward(std::shared_ptr<const Model> model, KvCache& kv, uint32_t max_batch, const Rope* rope = nullptr,
          Numerics numerics = Numerics::Default, KeyStorage keys = KeyStorage::PreRope, uint32_t max_logit_rows = 0);

  // Runs one step and leaves its logits (n_vocab floats per logit row) on the device until the
  // next run. select_k > 0 also selects each logit row's best select_k entries (ops::argmax for 1,
  // ops::top_k up to ops::k_top_k_max) in the same command buffer, and reads back only those:
  // the GPU sampling path, where the host never sees the logits unless it asks (read_logits).
  void run(const ForwardStep& step, uint32_t select_k);
  // Runs one step and reads its logits back: n_vocab floats per logit row.
  void run(const ForwardStep& step, std::vector<float>& logits);
  // The last step's logits, read from the device.
  void read_logits(std::vector<float>& logits);
  // The last step's selection, select_k entries per logit row, best first (ops::top_k's order);
  // after an argmax (select_k = 1) only the ids are filled in and the logits are NaN.
  const std::vector<ops::TopKEntry>& selected() const { return selected_; }

  // Caps the bytes one binding of the logits may span (below the device's
  // maxStorageBufferRange), so tests can run the head in pieces on any device.
  void set_max_logits_binding(uint64_t bytes) { max_logits_binding_ = bytes; }

  uint32_t max_batch() const { return max_batch_; }
  Numerics numerics() const { return numerics_; }
  KeyStorage key_storage() const { return keys_; }
  uint64_t device_bytes() const { return device_bytes_; }
  gpu::Recorder& recorder() { return rec_; }

  // Fusions (on by default; TERN_FUSE=0 in the environment turns them off), the same logits bit
  // for bit: the O and down products accumulate into the residual stream
  // (ops::MatmulOptions::accumulate) and the down product computes silu(gate) * up as it loads
  // its input (::swiglu_up): 3 dispatches fewer per layer. In decode steps (one row) Q, K, V are
  // one product and gate, up another where the model stores them stacked (LayerWeights::wqkv,
  // w_gate_up): 3 more. Off: separate products, ops::add and ops::silu_mul (A/B runs, debugging).
  void set_fusion(bool on) { fuse_ = on; }
  bool fusion() const { return fuse_; }
  // One more, under the switch above: in decode steps (one row, default numerics, no beacon rows)
  // each RMSNorm is computed inside the products that read it (ops::MatmulOptions::
  // rms_norm_weight: the attention and FFN norms and the output norm, 3 dispatches fewer per
  // layer and one per step), the same bits. Its own switch for A/B runs: TERN_FUSE_NORM=0/1 at
  // start, or this; the default is on except on CPU devices (lavapipe), where the redundant
  // per-workgroup sum of squares costs more than the dispatch saves (BENCHMARKS.md).
  void set_norm_fusion(bool on) { fuse_norm_ = on; }
  bool norm_fusion() const { return fuse_norm_; }

 private:
  gpu::Buffer make(uint64_t bytes, const char* what);
  // Copies rows (each row_bytes) of src to the same rows of dst.
  void copy_rows(const gpu::Buffer& src, gpu::BufferRef dst, const std::vector<uint32_t>& rows, uint64_t row_bytes);
  void beacon_projection(const ops::WeightView& w, const ops::WeightView& bias, const gpu::Buffer& in,
                         gpu::BufferRef out, uint32_t n, uint32_t out_elems, const std::vector<uint32_t>& rows);
  struct MatmulArgs {
    bool same_input = false;  // x is the previous product's input, unchanged since (Q/K/V, gate/up):
                              // its q8_0 quantisation is reused
    bool accumulate = false;  // y += W x
    gpu::BufferRef swiglu_up;  // when bound, x is a SwiGLU gate and this its up
    const ops::WeightView* norm = nullptr;  // when set, the input is rms_norm(x) with this weight
  };
  // y = W x for n rows with the numerics' matmul options and the fusions in a.
  void matmul(const ops::WeightView& w, gpu::BufferRef x, gpu::BufferRef y, uint32_t n, const MatmulArgs& a);
  void matmul(const ops::WeightView& w, gpu::BufferRef x, gpu::BufferRef y, uint32_t n) {
    matmul(w, x, y, n, MatmulArgs{});
  }
  void rms_norm(const gpu::Buffer& x, const ops::WeightView& w, const gpu::Buffer& y, uint32_t n);
  // Selection output for rows logit rows and scratch for pieces of piece rows (grown on demand).
  void reserve_selection(uint32_t rows, uint32_t piece);
  // The output product (and the selection, select_k > 0) on the rows gathered in last_, in
  // pieces of at most piece_rows (head_piece_rows()); norm: the output norm goes into the product.
  void head(uint32_t rows, uint32_t piece_rows, uint32_t select_k, bool norm);
  uint32_t head_piece_rows(uint32_t select_k) const;

  std::shared_ptr<const Model> model_;
  KvCache& kv_;
  uint32_t max_batch_;
  uint32_t max_logit_rows_;  // logits_ and last_ hold this many rows
  gpu::Recorder rec_;
  uint64_t device_bytes_ = 0;
  float rope_attn_factor_ = 1.f;
  Numerics numerics_;
  KeyStorage keys_;
  bool fuse_ = true;
  bool fuse_norm_ = true;
  bool last_used_q8_ = false;  // the last matmul() quantised its input into q8_
  // Activations for up to max_batch tokens.
  gpu::Buffer ids_, pos_, slot_pos_, freqs_, x_, h_, att_, o_, last_, logits_, scratch_;
  gpu::Buffer qkv_;      // a step's q, k and v rows, one part after the other (see activation_parts)
  gpu::Buffer gate_up_;  // a step's gate and up rows, the same way
  uint64_t part_align_ = 16;
  gpu::Buffer k_rot_;     // PreRope: the cache's keys rotated for the current step; Rotated: the step's new keys
  gpu::Buffer beacon_;    // beacon projections (only for models that have them)
  gpu::Buffer q8_;        // LlamaCpp: matmul inputs quantised to q8_0
  gpu::Buffer cos_sin_;   // LlamaCpp: the step's RoPE table (ops::rope_ggml_cos_sin)
  uint32_t logit_rows_ = 0;  // of the last step, in logits_
  gpu::Buffer select_out_, select_scratch_;  // ops::argmax / ops::top_k output and scratch
  uint32_t select_rows_ = 0, select_piece_ = 0;  // logit rows / piece rows those are sized for
  uint64_t max_logits_binding_ = UINT64_MAX;
  std::vector<ops::TopKEntry> selected_;
};

}  // namespace tern

// Everything a forward step decides before anything is recorded: the rows and what they embed,
// where their K/V go, whether the cache is in text order, which rows are beacons and which give
// logits, and which products stack or take their RMSNorm. Built and checked once per step
// (plan_step); every layer then only reads it.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "gpu/recorder.h"
#include "kv/kv_policy.h"
#include "model/model_config.h"
#include "model/numerics.h"

namespace tern {

// Token id of a beacon row (Activation Beacon): embedded with the model's beacon embedding,
// or as EOS when the model has none, and projected with the beacon Q/K/V/O when present.
constexpr int32_t k_beacon_token = -1;

// Which of a step's raw (non-beacon) rows need logits: the last one (a context's step), or all
// of them (scoring a whole sequence).
enum class LogitRows { Last, All };

// Rows row..row+len-1 of a step, written to cache slots slot..slot+len-1 (one kv_store each).
struct SlotRun {
  uint32_t row, slot, len;
};

struct StepPlan {
  uint32_t n = 0;                     // rows: the raw tokens and the beacon rows among them
  std::vector<int32_t> ids;           // the token each row embeds (a beacon row: EOS, see embed)
  std::vector<int32_t> positions;     // each row's RoPE position
  std::vector<uint32_t> beacon_rows;  // rows that are beacons, ascending
  std::vector<uint32_t> logit_rows;   // rows whose logits the step returns, in this order

  // The cache as attention sees it during the step.
  struct Kv {
    uint32_t n_kv = 0;                  // slots 0..n_kv-1 are read
    std::span<const int32_t> slot_pos;  // their positions (-1: empty), n_kv of them
    bool in_order = false;              // KvStep::in_order: the causal rule replaces the positions
    uint32_t first_slot = 0;            // row 0's slot: the causal rule's first query position
    std::vector<SlotRun> runs;          // where the rows' K and V are stored
    gpu::BufferRef row_pos, key_pos;    // positions of the rows and of the slots, on the device
    // Where the rows' queries and stored keys are rotated: row_pos, or with a Shifted key path
    // (model/key_path.h) the rows' positions plus key_offset, KvStep::key_offset (0 otherwise).
    gpu::BufferRef rot_pos;
    uint32_t key_offset = 0;
  } kv;
  // The sliding-window layers' ring (kv/sliding_window.h) when the Forward has one: the rows at
  // their text positions, the slots at theirs (never in_order: attention takes the positions).
  // Without one, those layers read kv.
  std::optional<Kv> swa;

  // Products. One row: Q, K, V (and gate, up) as one stacked product where the model stores
  // them stacked and their output parts lie back to back; each RMSNorm computed inside the
  // products that read it (ops::MatmulOptions::rms_norm_weight), the output norm in the head's.
  bool stack_qkv = false, stack_gate_up = false;
  bool norm_in_products = false;
  bool norm_in_head = false;

  uint32_t select_k = 0;    // entries each logit row selects on the device (0: none)
  uint32_t head_piece = 0;  // logit rows per piece of the output product
};

// Row i goes to slots[i]: the runs of rows that go to consecutive slots.
std::vector<SlotRun> slot_runs(std::span<const uint32_t> slots);

// What a Forward fixes for every step it plans.
struct StepRules {
  const ModelConfig* config = nullptr;
  int32_t eos = -1;             // the model's EOS id (-1: none)
  uint32_t max_rows = 0;        // rows a step may have
  uint32_t max_logit_rows = 0;  // logit rows a step may ask for
  uint32_t cache_slots = 0;
  bool keys_rotated = false;    // the cache holds rotated keys: every step must be in text order
  LlamaCppNumerics numerics;
  bool fusion = true, norm_fusion = true;
};

// Checks the step against the rules (Internal for a malformed step, InvalidArgument for a token
// outside the vocabulary, Unsupported for a cache out of text order where keys are rotated by
// llama.cpp's numerics) and plans it. tokens: the step's raw tokens (KvStep::n_raw of them), in
// row order; beacon rows take none. qkv_back_to_back / gate_up_back_to_back: whether one row's
// activation parts lie back to back (Forward's buffers), which stacked products need.
StepPlan plan_step(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, uint32_t select_k,
                   const StepRules& rules, bool qkv_back_to_back, bool gate_up_back_to_back);

}  // namespace tern

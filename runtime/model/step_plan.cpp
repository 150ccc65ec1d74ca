#include "model/step_plan.h"

#include <string>

#include "common/error.h"
#include "ops/top_k.h"

namespace tern {

std::vector<SlotRun> slot_runs(std::span<const uint32_t> slots) {
  std::vector<SlotRun> runs;
  for (uint32_t i = 0; i < slots.size(); ++i) {
    if (!runs.empty() && runs.back().slot + runs.back().len == slots[i])
      ++runs.back().len;
    else
      runs.push_back({i, slots[i], 1});
  }
  return runs;
}

StepPlan plan_step(const KvStep& step, std::span<const int32_t> tokens, LogitRows logits, uint32_t select_k,
                   const StepRules& r, bool qkv_back_to_back, bool gate_up_back_to_back) {
  const ModelConfig& c = *r.config;
  StepPlan p;
  p.n = uint32_t(step.rows.size());
  p.kv.n_kv = step.n_kv;
  check(p.n > 0 && p.n <= r.max_rows, Status::Internal, "forward batch out of range");
  check(step.slot_pos.size() == step.n_kv && step.n_kv > 0 && step.n_kv <= r.cache_slots, Status::Internal,
        "forward: slot positions out of range");
  check(tokens.size() == step.n_raw, Status::Internal, "forward: one token per raw row");
  check(select_k <= std::min(ops::k_top_k_max, c.n_vocab), Status::Internal, "forward: selection of too many entries");

  // Rows: tokens in order, beacon rows in between.
  size_t next = 0;
  for (uint32_t i = 0; i < p.n; ++i) {
    const KvRow& row = step.rows[i];
    check(row.slot < step.n_kv, Status::Internal, "forward: KV slot out of range");
    p.positions.push_back(row.position);
    if (row.beacon) {
      p.beacon_rows.push_back(i);
      p.ids.push_back(r.eos >= 0 ? r.eos : 0);  // training-free beacons embed as EOS (the reference's initialisation)
      continue;
    }
    check(next < tokens.size(), Status::Internal, "forward: more raw rows than tokens");
    const int32_t t = tokens[next++];
    check(t >= 0 && uint32_t(t) < c.n_vocab, Status::InvalidArgument, [&] {
      return "token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")";
    });
    p.ids.push_back(t);
    if (logits == LogitRows::All || p.logit_rows.empty()) p.logit_rows.push_back(i);
    else p.logit_rows.back() = i;  // LogitRows::Last: the last raw row
  }
  check(!p.logit_rows.empty() && p.logit_rows.size() <= r.max_logit_rows, Status::Internal,
        "forward: no logit rows, or more than max_logit_rows");

  // The cache: runs of rows going to consecutive slots, and whether it is in text order.
  p.kv.slot_pos = step.slot_pos;
  p.kv.in_order = step.in_order;
  p.kv.first_slot = step.rows[0].slot;
  std::vector<uint32_t> slots;
  for (const KvRow& row : step.rows) slots.push_back(row.slot);
  p.kv.runs = slot_runs(slots);
  check(!r.keys_rotated || r.numerics.rotates_keys_before_store() || p.kv.in_order, Status::Internal,
        "keys stored rotated need steps in text order");
  // Keys are rotated before they are stored, so a slot's position can never change.
  check(!r.numerics.rotates_keys_before_store() || p.kv.in_order, Status::Unsupported,
        "llama.cpp numerics need a dense KV cache in text order");

  // Products: one-row steps stack them and take the RMSNorms into them. Beacon projections read
  // the normalised input itself; llama.cpp's RMSNorm and its q8_0 products cannot take it.
  const bool one_row = p.n == 1;
  p.stack_qkv = r.fusion && one_row && qkv_back_to_back;
  p.stack_gate_up = r.fusion && one_row && gate_up_back_to_back;
  p.norm_in_products = r.fusion && r.norm_fusion && one_row && p.beacon_rows.empty() && !r.numerics.rms_norm &&
                       !r.numerics.q8_activations;
  p.norm_in_head = p.norm_in_products && p.logit_rows.size() == 1;
  p.select_k = select_k;
  return p;
}

}  // namespace tern

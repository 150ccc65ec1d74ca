// Shared by the attention kernels: push constants, -inf, and the f16 cache row addressing.
layout(push_constant) uniform Push {
  uint n_q, n_kv, n_head, n_head_kv;
  float scale;
  uint q_pos0;    // key index of query 0 (causal rule: query i sees keys j <= q_pos0 + i)
  uint has_mask;  // 1: binding 3 holds an additive f32 [n_q][n_kv] mask replacing the causal rule
  uint n_chunks;  // split kernel: key chunks per query row
} p;

#define NEG_INF uintBitsToFloat(0xff800000u)

// Keys [0, key_end) can be visible to query qi (the rest are causally hidden).
uint visible_key_end(uint qi) { return p.has_mask != 0u ? p.n_kv : min(p.n_kv, p.q_pos0 + qi + 1u); }

// First packed word of (key, kv head) in a cache laid out [slot][n_head_kv][HD] as f16 pairs.
uint kv_word(uint key, uint kvh, uint hd) { return (key * p.n_head_kv + kvh) * (hd / 2u); }

// Shared by the attention kernels: push constants, -inf, and the cache row addressing.
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

// The cache is read one pair of elements at a time: a uint of two f16 halves, or (KV_F32) a
// vec2 of two floats. Either way the pair index of an element is its index / 2.
#ifdef KV_F32
#define KV_PAIR vec2
#define KV_PAIR_ZERO vec2(0.0)
vec2 kv_load(vec2 pair) { return pair; }
#else
#define KV_PAIR uint
#define KV_PAIR_ZERO 0u
vec2 kv_load(uint pair) { return unpackHalf2x16(pair); }
#endif

// First pair of (key, kv head) in a cache laid out [slot][n_head_kv][HD].
uint kv_word(uint key, uint kvh, uint hd) { return (key * p.n_head_kv + kvh) * (hd / 2u); }

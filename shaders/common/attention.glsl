// Shared by the attention kernels: push constants, the position buffers, -inf, the visibility
// rule and the cache row addressing.
layout(push_constant) uniform Push {
  uint n_q, n_kv, n_head, n_head_kv;
  float scale;
  uint q_pos0;    // key index of query 0 (causal rule: query i sees keys j <= q_pos0 + i)
  uint n_chunks;  // split kernels: key chunks per query row (1: the output is written directly)
  uint has_pos;   // 1: bindings 4/5 hold int32 key_pos[n_kv] / query_pos[n_q] replacing the causal rule
  uint v_row_bytes;  // q8_0 V cache: bytes per slot
  uint k_row_bytes;  // q8_0 K cache: bytes per slot
  uint window;       // sliding window W (0: none): a query at position p sees keys p - W + 1 .. p
  float attn_factor; // keys rotated at load (ROPE != 0): cos/sin multiplier, as ops::rope_f16's
} p;

// Per-slot and per-query positions (placeholders when has_pos is 0): query i sees key j iff
// key_pos[j] >= 0 && key_pos[j] <= query_pos[i] (and, with a window, key_pos[j] > query_pos[i] - W).
layout(std430, binding = 4) readonly buffer KeyPos { int key_pos[]; };
layout(std430, binding = 5) readonly buffer QueryPos { int query_pos[]; };

#define NEG_INF uintBitsToFloat(0xff800000u)

// Keys [0, key_end) can be visible to query qi (the rest are causally hidden). With positions
// any slot can be visible.
uint visible_key_end(uint qi) {
  return p.has_pos != 0u ? p.n_kv : min(p.n_kv, p.q_pos0 + qi + 1u);
}

// Keys before visible_key_begin(qi) are hidden from query qi: those older than its sliding
// window under the causal rule (positions can put any slot in a window: 0).
uint visible_key_begin(uint qi) {
  const uint qp = p.q_pos0 + qi;
  return p.window == 0u || p.has_pos != 0u || qp < p.window ? 0u : qp + 1u - p.window;
}

// A key's position (key_pos, else its slot index) and a query's (query_pos, else q_pos0 + qi).
int key_position(uint key) { return p.has_pos != 0u ? key_pos[key] : int(key); }
int query_position(uint qi) { return p.has_pos != 0u ? query_pos[qi] : int(p.q_pos0 + qi); }

// Whether a query at position qp sees a key at position kp (kp -1: an empty slot). Kernels that
// test many (query, key) pairs take each position once and call this (a key_pos read is a gather
// on a CPU driver: once per key, not once per query row).
bool position_visible(int kp, int qp) {
  return kp >= 0 && kp <= qp && (p.window == 0u || kp > qp - int(p.window));
}

// Whether query qi sees key `key` (< visible_key_end(qi)). An invisible key is never read: its
// slot may hold garbage.
bool key_visible(uint qi, uint key) { return position_visible(key_position(key), query_position(qi)); }

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

#if defined(V_Q8) || defined(K_Q8)
#ifdef KV_F32
#error "q8_0 caches go with f16 keys or q8_0 keys"
#endif
// A q8_0 cache row (k/v_row_bytes bytes per slot) quantises its n_head_kv * HD values in blocks
// of 32 regardless of head boundaries (as llama.cpp does), so a head may start mid-block: element
// d of kv head kvh is element kvh * hd + d of the row that starts at byte v_q8_row(key).
uint v_q8_row(uint key) { return key * p.v_row_bytes; }
uint k_q8_row(uint key) { return key * p.k_row_bytes; }
uint v_q8_elem(uint kvh, uint hd, uint d) { return kvh * hd + d; }
#endif

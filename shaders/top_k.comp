#version 450
// The k best entries of each row, best first, as common/rank_key.glsl ranks them (the largest
// value, the lower index among equal values, NaN last). A grid of (blocks, rows) workgroups
// turns each chunk of p.chunk entries into its best k (key, index) pairs; MERGE dispatches do the
// same to those pairs until a row fits one chunk. That last dispatch (p.final_out = 1) writes
// (index, value) pairs, the value read from x by index so its bits are the logit's own.
//
// A workgroup keeps its best k so far sorted in slots 0..k-1 of shared memory. The chunk's first
// p.init entries are sorted (bitonic); then each round scans as many further entries as the free
// slots can take and appends only those that rank before slot k-1 (the k-th best when the slots
// were last sorted: a bound no entry of the final k can miss). The slots are sorted again, and
// the bound tightened, once p.sort_at candidates wait or the free slots run short, and at the
// end. On logits few entries pass, so the sorts after the first are small. SUBGROUP: the sort's
// compare-exchange steps between entries less than a subgroup apart go through subgroup shuffles
// instead of shared memory and barriers.
// @variant top_k
// @variant top_k_subgroup SUBGROUP=1
// @variant top_k_merge MERGE=1
// @variant top_k_merge_subgroup MERGE=1 SUBGROUP=1
#include "common/index.glsl"
#include "common/rank_key.glsl"
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

const uint S = 1024u;  // slots: ops::k_top_k_slots, 8 KiB of shared memory

layout(std430, binding = 0) readonly buffer X { uint x[]; };        // float bits, rows x n_values
layout(std430, binding = 1) readonly buffer In { uint pairs[]; };   // MERGE: (key, index), rows x n
layout(std430, binding = 2) writeonly buffer O { uint o[]; };
// n: entries per row of this dispatch's input (values, or MERGE's pairs); k <= S / 4;
// k <= init <= S (a power of two); chunk >= 2k.
layout(push_constant) uniform Push {
  uint n, n_values, k, chunk, final_out, init, sort_at;
} p;

shared uint s_key[S];
shared uint s_idx[S];
shared uint s_count;  // candidates appended after slot k-1

// Entry i of this workgroup's row.
void load_entry(uint row, uint i, out uint key, out uint idx) {
#ifdef MERGE
  key = pairs[2u * (row * p.n + i)];
  idx = pairs[2u * (row * p.n + i) + 1u];
#else
  key = rank_key(x[row * p.n_values + i]);
  idx = i;
#endif
}

uint pow2_at_least(uint v) {
  uint m = 2u;
  while (m < v) m <<= 1;
  return m;
}

// Orders slots a < b (b = a + j) of a bitonic merge: best first when best_first, else worst first.
void order_pair(uint a, uint b, bool best_first) {
  const uint ka = s_key[a], ia = s_idx[a], kb = s_key[b], ib = s_idx[b];
  if (ranks_before(kb, ib, ka, ia) == best_first) {
    s_key[a] = kb;
    s_idx[a] = ib;
    s_key[b] = ka;
    s_idx[b] = ia;
  }
}

// Sorts slots 0..m-1 best first (m a power of two, at most S). Called by the whole workgroup
// after a barrier; ends with one.
void sort_slots(uint m) {
  const uint t = gl_LocalInvocationID.x;
#ifdef SUBGROUP
  // This invocation's place when slots are dealt out subgroup by subgroup: slots e and e ^ j for
  // j < the subgroup size then live in one subgroup, lanes l and l ^ j. A permutation of 0..WG-1,
  // as the host uses this variant only when WG is a multiple of the subgroup size.
  const uint v = gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID;
#endif
  for (uint size = 2u; size <= m; size <<= 1) {
    uint j = size >> 1;
    for (; j > 0u; j >>= 1) {
#ifdef SUBGROUP
      if (j < gl_SubgroupSize) break;
#endif
      for (uint q = t; q < m / 2u; q += WG) {
        const uint a = ((q & ~(j - 1u)) << 1) | (q & (j - 1u));  // q with a 0 inserted at bit log2(j)
        order_pair(a, a | j, (a & size) == 0u);
      }
      barrier();
    }
#ifdef SUBGROUP
    if (j == 0u) continue;
    // Every lane runs the same iterations (shuffles need the whole subgroup); lanes past m only
    // lend their values and write nothing. Slot e's partner e ^ jj < m whenever e < m.
    for (uint e = v; e < max(m, WG); e += WG) {
      uint k = s_key[e], idx = s_idx[e];
      const bool best_first = (e & size) == 0u;
      for (uint jj = j; jj > 0u; jj >>= 1) {
        const uint ok = subgroupShuffleXor(k, jj), oi = subgroupShuffleXor(idx, jj);
        // The lower slot of a pair keeps the better entry when best_first, the worse otherwise.
        const bool lower = (e & jj) == 0u;
        if (ranks_before(ok, oi, k, idx) == (lower == best_first)) {
          k = ok;
          idx = oi;
        }
      }
      if (e < m) {
        s_key[e] = k;
        s_idx[e] = idx;
      }
    }
    barrier();
#endif
  }
}

// Sorts the best k and the count candidates after them; the rest of the power-of-two span is
// filled with entries that rank last. Leaves no candidates.
void sort_candidates(uint count) {
  const uint m = pow2_at_least(p.k + count);
  for (uint e = p.k + count + gl_LocalInvocationID.x; e < m; e += WG) {
    s_key[e] = 0u;
    s_idx[e] = RANK_NONE;
  }
  barrier();
  sort_slots(m);
  if (gl_LocalInvocationID.x == 0u) s_count = 0u;
  barrier();
}

void main() {
  const uint block = gl_WorkGroupID.x, row = gl_WorkGroupID.y;
  const uint t = gl_LocalInvocationID.x;
  const uint first = block * p.chunk, end = min(p.n, first + p.chunk);
  // The chunk's first entries, sorted; past the chunk's end (a short last chunk), entries that
  // rank last.
  const uint len = min(p.init, end - first);
  const uint m = pow2_at_least(max(len, p.k));
  for (uint e = t; e < m; e += WG) {
    uint key = 0u, idx = RANK_NONE;
    if (e < len) load_entry(row, first + e, key, idx);
    s_key[e] = key;
    s_idx[e] = idx;
  }
  if (t == 0u) s_count = 0u;
  barrier();
  sort_slots(m);
  uint next = first + len, count = 0u;
  while (next < end) {
    if (count >= p.sort_at || S - p.k - count < (S - p.k) / 4u) {
      sort_candidates(count);
      count = 0u;
    }
    const uint stop = min(end, next + (S - p.k - count));
    const uint bound_key = s_key[p.k - 1u], bound_idx = s_idx[p.k - 1u];
    for (uint i = next + t; i < stop; i += WG) {
      uint key, idx;
      load_entry(row, i, key, idx);
      if (ranks_before(key, idx, bound_key, bound_idx)) {
        const uint at = p.k + atomicAdd(s_count, 1u);
        s_key[at] = key;
        s_idx[at] = idx;
      }
    }
    barrier();
    count = s_count;
    next = stop;
    barrier();  // every invocation has read s_count before a sort may reset it
  }
  if (count > 0u) sort_candidates(count);
  for (uint j = t; j < p.k; j += WG) {
    const uint idx = s_idx[j];
    if (p.final_out != 0u) {
      const uint at = 2u * (row * p.k + j);
      o[at] = idx;
      o[at + 1u] = idx < p.n_values ? x[row * p.n_values + idx] : 0x7fc00000u;  // k <= n: never the NaN
    } else {
      const uint at = 2u * ((row * gl_NumWorkGroups.x + block) * p.k + j);
      o[at] = s_key[j];
      o[at + 1u] = idx;
    }
  }
}

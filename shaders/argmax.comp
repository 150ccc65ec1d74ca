#version 450
// Index of the best value of each row as common/rank_key.glsl ranks them (the largest, the lowest
// index among equals), NaN never (an all-NaN row gives 0xffffffff), in up to two dispatches. A grid of (blocks, rows) workgroups
// reduces chunks of p.chunk values to one (key, index) pair each; a MERGE dispatch (one workgroup
// per row) reduces a row's pairs. The last dispatch (p.final_out = 1) writes the bare index.
// @variant argmax
// @variant argmax_subgroup SUBGROUP=1
// @variant argmax_merge MERGE=1
// @variant argmax_merge_subgroup MERGE=1 SUBGROUP=1
#include "common/index.glsl"
#include "common/rank_key.glsl"
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

// Float bits, rows x n; MERGE: (key, index) pairs, rows x n.
layout(std430, binding = 0) readonly buffer X { uint x[]; };
// Pairs, rows x blocks; or one index per row when p.final_out.
layout(std430, binding = 1) writeonly buffer O { uint o[]; };
layout(push_constant) uniform Push { uint n; uint chunk; uint final_out; } p;

shared uint s_key[WG];
shared uint s_idx[WG];

void main() {
  const uint block = gl_WorkGroupID.x, row = gl_WorkGroupID.y;
  const uint t = gl_LocalInvocationID.x;
  const uint begin = block * p.chunk, end = min(p.n, begin + p.chunk);
  uint bk = 0u, bi = RANK_NONE;
  for (uint i = begin + t; i < end; i += WG) {
#ifdef MERGE
    const uint k = x[2u * (row * p.n + i)], idx = x[2u * (row * p.n + i) + 1u];
#else
    const uint k = rank_key(x[row * p.n + i]), idx = i;
#endif
    // A NaN (key 0) is never chosen: a row of nothing but NaN gives RANK_NONE (-1 as an id).
    if (k != 0u && ranks_before(k, idx, bk, bi)) {
      bk = k;
      bi = idx;
    }
  }
#ifdef SUBGROUP
  // The subgroup's best key, then the lowest index holding it; one pair per subgroup.
  const uint mk = subgroupMax(bk);
  const uint mi = subgroupMin(bk == mk ? bi : RANK_NONE);
  if (subgroupElect()) {
    s_key[gl_SubgroupID] = mk;
    s_idx[gl_SubgroupID] = mi;
  }
  barrier();
  const uint partials = gl_NumSubgroups;
#else
  s_key[t] = bk;
  s_idx[t] = bi;
  barrier();
  for (uint s = WG / 2u; s > 0u; s >>= 1) {
    if (t < s && ranks_before(s_key[t + s], s_idx[t + s], s_key[t], s_idx[t])) {
      s_key[t] = s_key[t + s];
      s_idx[t] = s_idx[t + s];
    }
    barrier();
  }
  const uint partials = 1u;
#endif
  if (t != 0u) return;
  bk = s_key[0];
  bi = s_idx[0];
  for (uint s = 1u; s < partials; ++s)
    if (ranks_before(s_key[s], s_idx[s], bk, bi)) {
      bk = s_key[s];
      bi = s_idx[s];
    }
  if (p.final_out != 0u) {
    o[row] = bi;
  } else {
    const uint at = 2u * (row * gl_NumWorkGroups.x + block);
    o[at] = bk;
    o[at + 1u] = bi;
  }
}

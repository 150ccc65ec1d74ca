// An RMSNorm fused into the load of a one-row product's input (ops::MatmulOptions::
// rms_norm_weight): with the specialization constant RMS_NORM on, the input is
// x[k] * scale * nw[k] (nw: binding 4), scale = 1 / sqrt(mean(x^2) + RMS_EPS), the bits
// ops::rms_norm writes. Every workgroup sums the squares itself (it reads all of x anyway) in
// the order of shaders/rms_norm.comp's reduction: RMS_WG strided partial sums, then either the
// shared-memory tree (RMS_SUBGROUP 0) or, for its subgroup variant on drivers whose subgroup
// order is known (lavapipe: lanes added in order), subgroups of RMS_SUBGROUP partials and their
// sums in order: with subgroupAdd where the includer defines RMS_SUBGROUP_ADD (it has subgroup
// arithmetic), else replayed through shared memory. rms_norm_begin() must be called by every
// invocation before the first xin (it may have barriers). Off, it all folds away. The includer
// declares float x[] and vec4 x4[], the push constant p.cols (the row length) and SPEC_RMS_NORM
// (4 constant ids from it).
layout(constant_id = SPEC_RMS_NORM) const bool RMS_NORM = false;
layout(constant_id = SPEC_RMS_NORM + 1) const float RMS_EPS = 0.0;
layout(constant_id = SPEC_RMS_NORM + 2) const uint RMS_WG = 256;  // ops::rms_norm's workgroup
layout(constant_id = SPEC_RMS_NORM + 3) const uint RMS_SUBGROUP = 0;
layout(std430, binding = 4) readonly buffer NormW { float nw[]; };
layout(std430, binding = 4) readonly buffer NormW4 { vec4 nw4[]; };
shared float rms_part[RMS_WG];
float rms_scale = 1.0;

void rms_norm_begin() {
  if (!RMS_NORM) return;
  const uint tid = gl_LocalInvocationID.x;
  // The expressions of rms_norm.comp, so a driver contracts or rounds them the same way.
  float ss = 0.0;
  if (RMS_SUBGROUP == 0u) {
    for (uint t = tid; t < RMS_WG; t += WG) {
      float part = 0.0;
      for (uint i = t; i < p.cols; i += RMS_WG) part += x[i] * x[i];
      rms_part[t] = part;
    }
    barrier();
    for (uint s = RMS_WG / 2u; s > 0u; s >>= 1) {  // RMS_WG is a power of two
      for (uint t = tid; t < s; t += WG) rms_part[t] += rms_part[t + s];
      barrier();
    }
    ss = rms_part[0];
  } else {
#ifdef RMS_SUBGROUP_ADD
    // The includer has subgroup arithmetic and subgroups of RMS_SUBGROUP lanes (the host
    // checks): lane l makes the partial sum rms_norm.comp's invocation 8g + l makes (its loads
    // contiguous across the lanes) and subgroupAdd sums them as rms_norm_subgroup does, the same
    // operation on the same lane values. Each subgroup does it on its own: no barrier, no
    // shared memory.
    const uint groups = min(RMS_WG / RMS_SUBGROUP, (p.cols + RMS_SUBGROUP - 1u) / RMS_SUBGROUP);
    for (uint g = 0u; g < groups; ++g) {
      float part = 0.0;
      for (uint i = g * RMS_SUBGROUP + gl_SubgroupInvocationID; i < p.cols; i += RMS_WG) part += x[i] * x[i];
      ss += subgroupAdd(part);
    }
#else
    // An invocation makes whole subgroups' sums, lane by lane, with no shared memory (on
    // lavapipe every shared load or store is a loop over the lanes). Subgroups past the row's
    // end add zeros (exact), so they are skipped.
    const uint groups = min(RMS_WG / RMS_SUBGROUP, (p.cols + RMS_SUBGROUP - 1u) / RMS_SUBGROUP);
    for (uint g = tid; g < groups; g += WG) {
      float v = 0.0;
      for (uint l = g * RMS_SUBGROUP; l < (g + 1u) * RMS_SUBGROUP; ++l) {
        float part = 0.0;
        for (uint i = l; i < p.cols; i += RMS_WG) part += x[i] * x[i];
        v += part;
      }
      rms_part[g] = v;
    }
    barrier();
    for (uint g = 0u; g < groups; ++g) ss += rms_part[g];
#endif
  }
  rms_scale = 1.0 / sqrt(ss / float(p.cols) + RMS_EPS);
}

float rms_norm_x(uint i) { return x[i] * rms_scale * nw[i]; }
vec4 rms_norm_x4(uint i) { return x4[i] * rms_scale * nw4[i]; }

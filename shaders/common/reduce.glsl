// Workgroup-wide sum and max for "one workgroup per row" kernels. Every invocation of the
// workgroup must call these (they contain barriers) and gets the same result back.
// WG must be a power of two (the host picks it). Defining SUBGROUP before the include
// reduces within subgroups first (needs subgroup arithmetic); otherwise a shared-memory tree.
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

shared float reduce_buf[WG];

#ifdef SUBGROUP
// One partial per subgroup in shared memory, then every invocation adds the partials in the
// same order, so all invocations agree bit for bit.
float reduce_sum(float v) {
  v = subgroupAdd(v);
  if (subgroupElect()) reduce_buf[gl_SubgroupID] = v;
  barrier();
  float s = 0.0;
  for (uint i = 0; i < gl_NumSubgroups; ++i) s += reduce_buf[i];
  barrier();
  return s;
}
float reduce_max(float v) {
  v = subgroupMax(v);
  if (subgroupElect()) reduce_buf[gl_SubgroupID] = v;
  barrier();
  float m = reduce_buf[0];
  for (uint i = 1; i < gl_NumSubgroups; ++i) m = max(m, reduce_buf[i]);
  barrier();
  return m;
}
#else
float reduce_sum(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_buf[t] = v;
  barrier();
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (t < s) reduce_buf[t] += reduce_buf[t + s];
    barrier();
  }
  const float r = reduce_buf[0];
  barrier();
  return r;
}
float reduce_max(float v) {
  const uint t = gl_LocalInvocationID.x;
  reduce_buf[t] = v;
  barrier();
  for (uint s = WG / 2; s > 0; s >>= 1) {
    if (t < s) reduce_buf[t] = max(reduce_buf[t], reduce_buf[t + s]);
    barrier();
  }
  const float r = reduce_buf[0];
  barrier();
  return r;
}
#endif

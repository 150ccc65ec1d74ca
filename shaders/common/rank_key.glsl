// How the selection kernels (argmax, top_k) rank logits, as the CPU sampler does: a larger value
// first, the lower index first among equal values (-0 and +0 are equal), and NaN after every
// number, -inf included, so a NaN is chosen only from a row with nothing else.
// rank_key turns a float's bits into a uint whose unsigned order is that order: NaN gets 0, the
// least key (-inf's is 0x007fffff). Integer arithmetic only, so no compiler or driver can fold
// the NaN test away.
const uint RANK_NONE = 0xffffffffu;  // index of an empty slot: ranks after every real entry

uint rank_key(uint bits) {
  const uint mag = bits & 0x7fffffffu;
  if (mag > 0x7f800000u) return 0u;  // NaN
  if (mag == 0u) return 0x80000000u;  // +0 and -0
  return (bits & 0x80000000u) != 0u ? ~bits : bits | 0x80000000u;
}

// Whether entry (ka, ia) ranks before (kb, ib).
bool ranks_before(uint ka, uint ia, uint kb, uint ib) { return ka > kb || (ka == kb && ia < ib); }

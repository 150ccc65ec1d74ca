// A residual add fused into a product's store (ops::MatmulOptions::accumulate): with the
// specialization constant ACCUMULATE on, y += v instead of y = v, one read-modify-write per
// output element by the invocation that computed it (y must alias no input; the host checks).
// y[i] + v is the same float as ops::add's x + (W x): addition is commutative. Off, it folds
// away at pipeline creation. The includer declares float y[] (not writeonly) and defines
// SPEC_ACCUMULATE, a constant id of its own.
layout(constant_id = SPEC_ACCUMULATE) const bool ACCUMULATE = false;

void store_y(uint i, float v) {
  if (ACCUMULATE) {
    precise float s = y[i] + v;  // one rounding, never contracted with v's own arithmetic
    y[i] = s;
  } else {
    y[i] = v;
  }
}

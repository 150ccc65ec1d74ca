// Correctly rounded fp32 arithmetic where GLSL only promises approximations (division 2.5 ULP,
// sqrt inherited from inversesqrt), done with integer operations so every driver gives the
// same bits as the CPU: kernels that imitate a CPU library's numerics use these.

// a / b rounded to nearest even, for positive normal a and b; 0 when the quotient would be
// subnormal. (Quotients of these operands are never exact ties except when exact.)
float div_rn(float a, float b) {
  const uint ab = floatBitsToUint(a), bb = floatBitsToUint(b);
  uint ma = (ab & 0x7fffffu) | 0x800000u;
  const uint mb = (bb & 0x7fffffu) | 0x800000u;
  int e = int(ab >> 23) - int(bb >> 23);
  if (ma < mb) {  // bring ma / mb into [1, 2)
    ma <<= 1;
    e -= 1;
  }
  uint q = 0u, r = ma;
  for (int i = 0; i < 25; ++i) {  // 24 significant bits, then a guard bit
    q <<= 1;
    if (r >= mb) {
      r -= mb;
      q |= 1u;
    }
    r <<= 1;
  }
  uint m = q >> 1;
  if ((q & 1u) != 0u && (r != 0u || (m & 1u) != 0u)) ++m;
  if (m == 0x1000000u) {
    m >>= 1;
    ++e;
  }
  if (e + 127 <= 0) return 0.0;
  return uintBitsToFloat((uint(e + 127) << 23) | (m & 0x7fffffu));
}

// sqrt(a) rounded to nearest even, for positive normal a: a = M * 2^(2t) with M < 2^25, and
// the root of M * 2^28 (27 result bits) is taken bit by bit; its remainder is the sticky bit.
float sqrt_rn(float a) {
  const uint ab = floatBitsToUint(a);
  int e = int(ab >> 23) - 150;  // a = m * 2^e, m a 24-bit integer
  uint m = (ab & 0x7fffffu) | 0x800000u;
  if ((e & 1) != 0) {  // make the exponent even
    m <<= 1;
    e -= 1;
  }
  // Radicand R = m * 2^28 (up to 53 bits), consumed two bits at a time from the top.
  uint root = 0u, rem = 0u;
  for (int i = 26; i >= 0; --i) {
    const int sh = 2 * i - 28;
    const uint two = sh >= 0 ? (m >> uint(sh)) & 3u : 0u;
    rem = (rem << 2) | two;
    const uint trial = (root << 2) | 1u;
    root <<= 1;
    if (rem >= trial) {
      rem -= trial;
      root |= 1u;
    }
  }
  // root = floor(sqrt(m * 2^28)): 26 or 27 bits; keep 24, round on the rest plus the remainder.
  const uint drop = root >= (1u << 26) ? 3u : 2u;
  uint q = root >> drop;
  const uint rest = root & ((1u << drop) - 1u), half_ulp = 1u << (drop - 1u);
  if (rest > half_ulp || (rest == half_ulp && (rem != 0u || (q & 1u) != 0u))) ++q;
  int ex = e / 2 - 14 + int(drop);  // sqrt(a) = q * 2^ex
  if (q == 0x1000000u) {
    q >>= 1;
    ++ex;
  }
  return uintBitsToFloat((uint(ex + 150) << 23) | (q & 0x7fffffu));
}

// Knuth's two-sum: s = fl(a + b) and the exact error e, a + b = s + e. `precise` keeps the
// compiler from simplifying the error terms away.
void two_sum(float a, float b, out float s, out float e) {
  precise float sum = a + b;
  precise float bv = sum - a;
  precise float av = sum - bv;
  precise float err = (a - av) + (b - bv);
  s = sum;
  e = err;
}

// (hi, lo) += v, keeping hi + lo within a few ulp of lo of the exact sum (double-float).
void df_add(inout float hi, inout float lo, float v) {
  float s, e;
  two_sum(hi, v, s, e);
  precise float l = lo + e;
  two_sum(s, l, hi, lo);
}

// Dekker's two-product: p = fl(a * b) and the exact error e, a * b = p + e (no overflow or
// underflow), with Veltkamp's split of each operand into 12-bit halves.
void split12(float a, out float hi, out float lo) {
  precise float c = 4097.0 * a;
  precise float h = c - (c - a);
  precise float l = a - h;
  hi = h;
  lo = l;
}
void two_prod(float a, float b, out float p, out float e) {
  float ah, al, bh, bl;
  split12(a, ah, al);
  split12(b, bh, bl);
  precise float prod = a * b;
  precise float err = ((ah * bh - prod) + ah * bl + al * bh) + al * bl;
  p = prod;
  e = err;
}

// a * b + c with one rounding, as a fused multiply-add: GLSL's fma() may round twice (lavapipe
// does), which CPU code built with FMA never does. Exact product and sum errors, then one last
// rounding of their total; a double rounding there is possible but needs a near-tie.
float fma_rn(float a, float b, float c) {
  float p, ep, s, es;
  two_prod(a, b, p, ep);
  two_sum(p, c, s, es);
  precise float r = s + (ep + es);
  return r;
}

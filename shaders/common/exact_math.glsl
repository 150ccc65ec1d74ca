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

// e^x for x <= 0 (what a softmax needs), correctly rounded but for rare near-ties (within about
// 2^-33 before the last rounding; the CPU's expf is within 0.502 ulp): GLSL's exp() is only
// specified to 3 + 2|x| ulp (lavapipe computes exp2(x * log2 e)). x = k ln2 + r with a
// double-float r (Cody-Waite: k * LN2_HI is exact), e^r = 1 + r + r^2/2 + r^3/6 + r^4 (...) with
// the low powers in double-float, then scaled by 2^k. Below -87.3 the result would be subnormal:
// plain exp() there (a softmax rounds such a term to 0 in f16 and its sum ignores it).
float exp_rn(float x) {
  if (x < -87.3) return exp(x);
  const float LN2_HI = 0.693145751953125, LN2_LO = 1.42860677e-06;
  const float SIXTH_HI = 0.1666666716337204, SIXTH_LO = -4.9670535e-09;
  const float k = roundEven(x * 1.44269504);
  precise float r1 = x - k * LN2_HI;
  precise float klo = k * LN2_LO;
  float r, rl;
  two_sum(r1, -klo, r, rl);
  float a, b;  // r^2 = a + b exactly
  two_prod(r, r, a, b);
  float c, d;  // r^3 = c + d + r * b
  two_prod(r, a, c, d);
  precise float e = d + r * b;
  float q, qe;  // r^3 / 6 = q + qe + (c * SIXTH_LO + e * SIXTH_HI)
  two_prod(c, SIXTH_HI, q, qe);
  precise float q_rest = qe + (c * SIXTH_LO + e * SIXTH_HI);
  precise float tail = a * a * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0 +
                       r * (1.0 / 40320.0 + r * (1.0 / 362880.0))))));
  float hi, lo;
  two_sum(1.0, r, hi, lo);
  df_add(hi, lo, 0.5 * a);
  df_add(hi, lo, q);
  precise float small = rl + 0.5 * b + q_rest + tail;
  df_add(hi, lo, small);
  return ldexp(hi, int(k));
}

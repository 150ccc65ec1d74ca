// cos/sin of a RoPE angle, defined as the fp32 product float(position) * theta (one rounding,
// as Hugging Face's float32 outer product does). GPU sin/cos are only specified on [-pi, pi],
// so the angle is first reduced mod 2*pi with a four-part Cody-Waite split of 2*pi: P1..P3
// carry 8 significant bits each, so k * Pj is exact for |k| < 2^16 (|angle| < ~4e5 rad) and
// the reduced angle is within ~2.4e-7 of the exact remainder. `precise` keeps the compiler
// from reassociating the subtractions (fusing them into fma is harmless: the products are
// exact). ref::rope computes cos/sin of the same fp32 angle in double, so the two agree to
// about 1e-7 plus the device's sin/cos error on [-pi, pi].
const float ROPE_INV_2PI = 0.15915493667125702;
const float ROPE_2PI_1 = 6.28125;
const float ROPE_2PI_2 = 0.00193023681640625;
const float ROPE_2PI_3 = 0.000005066394805908203125;
const float ROPE_2PI_4 = 3.968374517882011787e-9;

vec2 rope_cos_sin(int position, float theta) {
  precise float angle = float(position) * theta;
  precise float k = roundEven(angle * ROPE_INV_2PI);
  precise float r = angle - k * ROPE_2PI_1;
  r = r - k * ROPE_2PI_2;
  r = r - k * ROPE_2PI_3;
  r = r - k * ROPE_2PI_4;
  return vec2(cos(r), sin(r));
}

// Pair (x0, x1) rotated by cs = (cos, sin): one expression for every kernel that rotates (rope,
// rope_f16 and the attention kernels that rotate keys as they load them), so a key rotated into
// the cache and one rotated at attention time get the same bits.
vec2 rope_rotate(float x0, float x1, vec2 cs) { return vec2(x0 * cs.x - x1 * cs.y, x0 * cs.y + x1 * cs.x); }

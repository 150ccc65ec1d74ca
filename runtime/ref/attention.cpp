#include "ref/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/fp16.h"
#include "quant/ggml_types.h"
#include "quant/quantize.h"
#include "ref/rope.h"

namespace tern::ref {
namespace {

double element(uint16_t half) { return fp16_to_fp32(half); }
double element(float f) { return f; }

template <typename TK, typename TV>
void attention_impl(const AttentionShape& s, const float* q, const TK* k, const TV* v, const float* mask, float* out,
                    const int32_t* key_pos, const int32_t* query_pos) {
  const uint32_t group = s.n_head / s.n_head_kv;
  const size_t kv_row = size_t(s.n_head_kv) * s.head_dim;
  std::vector<double> score(s.n_kv), acc(s.head_dim);
  for (uint32_t i = 0; i < s.n_q; ++i) {
    for (uint32_t h = 0; h < s.n_head; ++h) {
      const float* qv = q + (size_t(i) * s.n_head + h) * s.head_dim;
      float* o = out + (size_t(i) * s.n_head + h) * s.head_dim;
      const size_t kv_off = size_t(h / group) * s.head_dim;
      double best = -std::numeric_limits<double>::infinity();
      for (uint32_t j = 0; j < s.n_kv; ++j) {
        // Positions (or, causally, key indices) of the key and the query: hidden when the key is
        // later, or (sliding window) window or more positions earlier.
        const int64_t kp = key_pos ? key_pos[j] : int64_t(j), qp = key_pos ? query_pos[i] : int64_t(s.q_pos0) + i;
        const bool hidden = (key_pos && kp < 0) || (!mask && (kp > qp || (s.window && kp <= qp - s.window)));
        if (hidden) {  // never read: the slot may hold garbage
          score[j] = -std::numeric_limits<double>::infinity();
          continue;
        }
        double d = 0;
        for (uint32_t e = 0; e < s.head_dim; ++e) d += double(qv[e]) * element(k[j * kv_row + kv_off + e]);
        d *= s.scale;
        if (mask) d += mask[size_t(i) * s.n_kv + j];
        score[j] = d;
        best = std::max(best, d);
      }
      for (uint32_t e = 0; e < s.head_dim; ++e) o[e] = 0.f;
      if (best == -std::numeric_limits<double>::infinity()) continue;  // nothing visible
      double sum = 0;
      for (uint32_t j = 0; j < s.n_kv; ++j) sum += score[j] = std::exp(score[j] - best);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (uint32_t j = 0; j < s.n_kv; ++j) {
        if (score[j] == 0) continue;  // masked: its value row is never read
        const TV* vr = v + j * kv_row + kv_off;
        for (uint32_t e = 0; e < s.head_dim; ++e) acc[e] += score[j] * element(vr[e]);
      }
      for (uint32_t e = 0; e < s.head_dim; ++e) o[e] = float(acc[e] / sum);
    }
  }
}

}  // namespace

void attention(const AttentionShape& s, const float* q, const uint16_t* k, const uint16_t* v, const float* mask,
               float* out, const int32_t* key_pos, const int32_t* query_pos) {
  attention_impl(s, q, k, v, mask, out, key_pos, query_pos);
}

void attention(const AttentionShape& s, const float* q, const float* k, const float* v, const float* mask, float* out,
               const int32_t* key_pos, const int32_t* query_pos) {
  attention_impl(s, q, k, v, mask, out, key_pos, query_pos);
}

void attention_ggml(const AttentionShape& s, const float* q, const uint16_t* k, const uint16_t* v, float* out) {
  const uint32_t group = s.n_head / s.n_head_kv;
  const size_t kv_row = size_t(s.n_head_kv) * s.head_dim;
  const uint32_t n_pad = (s.n_kv + 31) / 32 * 32;  // llama.cpp's KV cache view: a multiple of 32
  std::vector<float> p(n_pad);
  for (uint32_t i = 0; i < s.n_q; ++i) {
    for (uint32_t h = 0; h < s.n_head; ++h) {
      const float* qv = q + (size_t(i) * s.n_head + h) * s.head_dim;
      float* o = out + (size_t(i) * s.n_head + h) * s.head_dim;
      const size_t kv_off = size_t(h / group) * s.head_dim;
      float best = -std::numeric_limits<float>::infinity();
      for (uint32_t j = 0; j < n_pad; ++j) {
        p[j] = -std::numeric_limits<float>::infinity();
        if (j < s.n_kv && uint64_t(j) <= uint64_t(s.q_pos0) + i) {
          double d = 0;
          for (uint32_t e = 0; e < s.head_dim; ++e)
            d += double(fp16_to_fp32(fp32_to_fp16(qv[e]))) * fp16_to_fp32(k[j * kv_row + kv_off + e]);
          p[j] = float(d) * s.scale;
        }
        best = std::max(best, p[j]);
      }
      double sum = 0;
      for (uint32_t j = 0; j < n_pad; ++j) sum += p[j] = std::exp(p[j] - best);
      const float inv = float(1.0 / sum);
      for (uint32_t j = 0; j < n_pad; ++j) p[j] = fp16_to_fp32(fp32_to_fp16(p[j] * inv));
      for (uint32_t e = 0; e < s.head_dim; ++e) {
        float acc[4][8] = {};
        for (uint32_t j0 = 0; j0 < n_pad; j0 += 32)
          for (uint32_t a = 0; a < 4; ++a)
            for (uint32_t l = 0; l < 8; ++l) {
              const uint32_t j = j0 + a * 8 + l;
              const float vj = j < s.n_kv ? fp16_to_fp32(v[j * kv_row + kv_off + e]) : 0.f;
              acc[a][l] = std::fma(p[j], vj, acc[a][l]);
            }
        float t[4];
        for (uint32_t l = 0; l < 4; ++l) {
          const float lo = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
          const float hi = (acc[0][l + 4] + acc[2][l + 4]) + (acc[1][l + 4] + acc[3][l + 4]);
          t[l] = lo + hi;
        }
        o[e] = (t[0] + t[1]) + (t[2] + t[3]);
      }
    }
  }
}

void attention(const AttentionShape& s, const float* q, const uint16_t* k, Q8Rows v, const float* mask, float* out,
               const int32_t* key_pos, const int32_t* query_pos) {
  const size_t row = size_t(s.n_head_kv) * s.head_dim;
  std::vector<float> vf(s.n_kv * row);  // garbage rows dequantise to garbage that is never read
  for (uint32_t j = 0; j < s.n_kv; ++j)
    quant::dequantize_row(GgmlType::Q8_0, v.data + j * v.row_bytes, vf.data() + j * row, int64_t(row));
  attention_impl(s, q, k, vf.data(), mask, out, key_pos, query_pos);
}

namespace {

// Cache rows as floats; with rope, keys rotated by their position first.
std::vector<float> rows_as_floats(const AttentionShape& s, CacheView c, const int32_t* key_pos, const KeyRope* rope) {
  const size_t row = size_t(s.n_head_kv) * s.head_dim;
  std::vector<float> f(s.n_kv * row);
  for (uint32_t j = 0; j < s.n_kv; ++j) {
    const int32_t pos = key_pos ? key_pos[j] : int32_t(j);
    const uint8_t* src = static_cast<const uint8_t*>(c.data) + j * c.row_bytes;
    float* dst = f.data() + j * row;
    if (c.type == GgmlType::F16 || (c.type == GgmlType::Q8_0 && rope)) {
      std::vector<uint16_t> h(row);
      if (c.type == GgmlType::Q8_0)  // dequantised, rotated, rounded to f16
        rope_f16_from_q8_0(src, c.row_bytes, &pos, rope->freqs, h.data(), 1, s.n_head_kv, s.head_dim, rope->n_rot,
                           rope->mode, rope->attn_factor);
      else {
        std::copy_n(reinterpret_cast<const uint16_t*>(src), row, h.data());
        if (rope)
          rope_f16(h.data(), &pos, rope->freqs, h.data(), 1, s.n_head_kv, s.head_dim, rope->n_rot, rope->mode,
                   rope->attn_factor);
      }
      for (size_t e = 0; e < row; ++e) dst[e] = fp16_to_fp32(h[e]);
      continue;
    }
    if (c.type == GgmlType::F32)
      std::copy_n(reinterpret_cast<const float*>(src), row, dst);
    else
      quant::dequantize_row(c.type, src, dst, int64_t(row));
    if (rope) ref::rope(dst, &pos, rope->freqs, dst, 1, s.n_head_kv, s.head_dim, rope->n_rot, rope->mode, rope->attn_factor);
  }
  return f;
}

}  // namespace

void attention(const AttentionShape& s, const float* q, CacheView k, CacheView v, const float* mask, float* out,
               const int32_t* key_pos, const int32_t* query_pos, const KeyRope* rope) {
  const auto kf = rows_as_floats(s, k, key_pos, rope), vf = rows_as_floats(s, v, key_pos, nullptr);
  attention_impl(s, q, kf.data(), vf.data(), mask, out, key_pos, query_pos);
}

}  // namespace tern::ref

#include "ref/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/fp16.h"
#include "ggml_types.h"
#include "quantize.h"

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
        const bool hidden = key_pos ? key_pos[j] < 0 || key_pos[j] > query_pos[i]
                                    : !mask && uint64_t(j) > uint64_t(s.q_pos0) + i;
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

void attention(const AttentionShape& s, const float* q, const uint16_t* k, Q8Rows v, const float* mask, float* out,
               const int32_t* key_pos, const int32_t* query_pos) {
  const size_t row = size_t(s.n_head_kv) * s.head_dim;
  std::vector<float> vf(s.n_kv * row);  // garbage rows dequantise to garbage that is never read
  for (uint32_t j = 0; j < s.n_kv; ++j)
    quant::dequantize_row(GgmlType::Q8_0, v.data + j * v.row_bytes, vf.data() + j * row, int64_t(row));
  attention_impl(s, q, k, vf.data(), mask, out, key_pos, query_pos);
}

}  // namespace tern::ref

#include "bench/op_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "bench/bandwidth.h"
#include "bench/common.h"
#include "bench/device_data.h"
#include "bench/kernel_bench.h"
#include "common/error.h"
#include "common/fp16.h"
#include "gpu/buffer.h"
#include "model/rope_freqs.h"
#include "ops/argmax.h"
#include "ops/attention.h"
#include "ops/kv_store.h"
#include "ops/matmul.h"
#include "ops/top_k.h"
#include "quant/quantize.h"

namespace tern::bench {
namespace {

constexpr GgmlType k_types[] = {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0,
                                GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K};

nlohmann::json bench_matvec(gpu::Device& dev, gpu::Recorder& rec, std::mt19937_64& rng, const std::vector<Shape>& shapes,
                            uint32_t repeats) {
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\nmatrix-vector (batch 1): ms, and GB/s of weights read\n| type |");
  for (const auto& s : shapes) std::printf(" %ux%u ms | GB/s |", s.rows, s.cols);
  std::printf("\n|---|");
  for (size_t i = 0; i < shapes.size(); ++i) std::printf("---:|---:|");
  std::printf("\n");
  for (GgmlType t : k_types) {
    std::printf("| %s |", std::string(ggml_type_name(t)).c_str());
    for (const auto& s : shapes) {
      nlohmann::json r = {{"type", ggml_type_name(t)}, {"rows", s.rows}, {"cols", s.cols}};
      try {
        const DeviceWeight w = make_weight(dev, rng, t, s);
        const auto xh = random_floats(rng, s.cols);
        gpu::Buffer x = upload(dev, xh.data(), xh.size() * 4, "bench x");
        gpu::Buffer y = dev.allocator().create(uint64_t(s.rows) * 4, gpu::MemoryUse::Device, "bench y");
        const auto ms = time_submissions(rec, repeats, [&](gpu::Recorder& rr) { ops::matmul(rr, w.view, x, y, 1); });
        const Spread gbs = spread_of(ms, [&](double m) { return double(w.bytes) / (m * 1e-3) / 1e9; });
        r["weight_bytes"] = w.bytes;
        r["ms"] = to_json(spread(ms));
        r["weight_gb_per_s"] = to_json(gbs);
        std::printf(" %s | %.1f |", cell(spread(ms)).c_str(), gbs.median);
      } catch (const Error& e) {
        r["error"] = e.what();
        std::printf(" error: %s | |", e.what());
      }
      rows.push_back(r);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return rows;
}

nlohmann::json bench_matmul(gpu::Device& dev, gpu::Recorder& rec, std::mt19937_64& rng, Shape s,
                            const std::vector<uint32_t>& batches, uint32_t repeats) {
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\nmatrix-matrix, %ux%u weight: GFLOP/s (ms)\n| type |", s.rows, s.cols);
  for (uint32_t b : batches) std::printf(" batch %u |", b);
  std::printf("\n|---|");
  for (size_t i = 0; i < batches.size(); ++i) std::printf("---:|");
  std::printf("\n");
  for (GgmlType t : k_types) {
    std::printf("| %s |", std::string(ggml_type_name(t)).c_str());
    for (uint32_t b : batches) {
      nlohmann::json r = {{"type", ggml_type_name(t)}, {"rows", s.rows}, {"cols", s.cols}, {"batch", b}};
      try {
        const DeviceWeight w = make_weight(dev, rng, t, s);
        const auto xh = random_floats(rng, size_t(b) * s.cols);
        gpu::Buffer x = upload(dev, xh.data(), xh.size() * 4, "bench x");
        gpu::Buffer y = dev.allocator().create(uint64_t(b) * s.rows * 4, gpu::MemoryUse::Device, "bench y");
        const auto ms = time_submissions(rec, repeats, [&](gpu::Recorder& rr) { ops::matmul(rr, w.view, x, y, b); });
        const double flop = 2.0 * s.rows * s.cols * b;
        const Spread gf = spread_of(ms, [&](double m) { return flop / (m * 1e-3) / 1e9; });
        r["ms"] = to_json(spread(ms));
        r["gflop_per_s"] = to_json(gf);
        std::printf(" %.1f (%.1f ms) |", gf.median, spread(ms).median);
      } catch (const Error& e) {
        r["error"] = e.what();
        std::printf(" error: %s |", e.what());
      }
      rows.push_back(r);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return rows;
}

struct AttentionShape {
  const char* name;
  uint32_t n_head, n_head_kv, head_dim;
};

// Decode attention (one query) over caches of f16 and q8_0 keys and values, holding keys rotated
// (dense caches) or before RoPE (streaming policies: rotated as attention loads them), the latter
// also with slot positions as a full sinks + window cache has them after evicting (4 sinks, then
// the window's ring, its oldest slot half-way along; the query at the newest position): the
// positions path the forward pass takes for every policy but dense. K/V bytes
// read per call: every key and value of the cache once (what a kernel that shares each KV head
// between its query heads reads); GB/s of those against the copy bandwidth (read + write).
nlohmann::json bench_attention(gpu::Device& dev, gpu::Recorder& rec, std::mt19937_64& rng,
                               const std::vector<AttentionShape>& shapes, const std::vector<uint32_t>& keys,
                               double copy_gb_per_s, uint32_t repeats) {
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\ndecode attention (1 query): ms, K+V bytes read per call, GB/s of them (%% of the copy "
              "bandwidth, %.1f GB/s)\n| shape | KV | keys | K+V MiB | ms | GB/s | %% copy |\n"
              "|---|---|---:|---:|---:|---:|---:|\n",
              copy_gb_per_s);
  const auto f = random_floats(rng, 4096);
  for (const AttentionShape& s : shapes) {
    const uint32_t row = s.n_head_kv * s.head_dim;
    const auto freqs = tern::rope_freqs(int(s.head_dim), 10000.f, {});
    gpu::Buffer gfreqs = upload(dev, freqs.data(), freqs.size() * 4, "bench rope freqs");
    for (GgmlType t : {GgmlType::F16, GgmlType::Q8_0}) {
      for (int form_i : {0, 1, 2}) {
        const bool pre_rope = form_i > 0, with_pos = form_i == 2;
        for (uint32_t n_kv : keys) {
          const char* form = with_pos ? "pre-RoPE positions" : pre_rope ? "pre-RoPE" : "rotated";
          nlohmann::json r = {{"shape", s.name}, {"keys", n_kv},        {"n_head", s.n_head},
                              {"n_head_kv", s.n_head_kv}, {"head_dim", s.head_dim}, {"kv_type", ggml_type_name(t)},
                              {"keys_form", form}};
          try {
            ops::AttentionParams p;
            p.n_kv = n_kv;
            p.n_head = s.n_head;
            p.n_head_kv = s.n_head_kv;
            p.head_dim = s.head_dim;
            p.kv_type = t;
            const uint64_t row_bytes = ops::kv_row_bytes(t, row);
            // Rows repeat a pool of distinct random rows: the values do not change the speed.
            std::vector<uint8_t> pool(64 * row_bytes), cache(uint64_t(n_kv) * row_bytes);
            std::vector<float> frow(row);
            for (uint32_t j = 0; j < 64; ++j) {
              for (uint32_t e = 0; e < row; ++e) frow[e] = f[(size_t(j) * row + e) * 7919 % f.size()];
              if (t == GgmlType::F16)
                for (uint32_t e = 0; e < row; ++e) {
                  const uint16_t h = fp32_to_fp16(frow[e]);
                  std::memcpy(pool.data() + j * row_bytes + e * 2, &h, 2);
                }
              else
                quant::quantize_row(t, frow.data(), pool.data() + j * row_bytes, row);
            }
            for (uint32_t j = 0; j < n_kv; ++j)
              std::memcpy(cache.data() + uint64_t(j) * row_bytes, pool.data() + (j % 64) * row_bytes, row_bytes);
            const auto qh = random_floats(rng, size_t(s.n_head) * s.head_dim);
            gpu::Buffer q = upload(dev, qh.data(), qh.size() * 4, "bench q");
            gpu::Buffer k = upload(dev, cache.data(), cache.size(), "bench k cache");
            gpu::Buffer v = upload(dev, cache.data(), cache.size(), "bench v cache");
            gpu::Buffer o = dev.allocator().create(qh.size() * 4, gpu::MemoryUse::Device, "bench attention out");
            gpu::Buffer scratch = dev.allocator().create(std::max<uint64_t>(ops::attention_scratch_bytes(p), 16),
                                                         gpu::MemoryUse::Device, "bench attention scratch");
            const ops::AttentionRope rope{gfreqs, s.head_dim, RopeMode::Interleaved, 1.f};
            const uint32_t sinks = std::min<uint32_t>(4, n_kv), ring = n_kv - sinks;
            std::vector<int32_t> key_pos(n_kv);
            for (uint32_t j = 0; j < n_kv; ++j)
              key_pos[j] = j < sinks ? int32_t(j) : int32_t(sinks + (j - sinks + ring - ring / 2) % ring);
            const int32_t query_pos = int32_t(n_kv) - 1;
            gpu::Buffer kpos = upload(dev, key_pos.data(), key_pos.size() * 4, "bench key positions");
            gpu::Buffer qpos = upload(dev, &query_pos, 4, "bench query position");
            const ops::AttentionPositions positions{kpos, qpos};
            const auto ms = time_submissions(rec, repeats, [&](gpu::Recorder& rr) {
              ops::attention(rr, p, q, k, v, o, scratch, with_pos ? &positions : nullptr, pre_rope ? &rope : nullptr);
            });
            const double bytes = 2.0 * double(cache.size());
            const Spread gbs = spread_of(ms, [&](double m) { return bytes / (m * 1e-3) / 1e9; });
            r["kv_bytes"] = bytes;
            r["ms"] = to_json(spread(ms));
            r["kv_gb_per_s"] = to_json(gbs);
            r["copy_fraction"] = copy_gb_per_s > 0 ? gbs.median / copy_gb_per_s : 0.0;
            std::printf("| %s | %s %s | %u | %.1f | %s | %.2f | %.1f |\n", s.name, std::string(ggml_type_name(t)).c_str(), form, n_kv,
                        bytes / 1048576.0, cell(spread(ms), 3).c_str(), gbs.median,
                        copy_gb_per_s > 0 ? 100.0 * gbs.median / copy_gb_per_s : 0.0);
          } catch (const Error& e) {
            r["error"] = e.what();
            std::printf("| %s | %s %s | %u | error: %s | | | |\n", s.name, std::string(ggml_type_name(t)).c_str(), form, n_kv, e.what());
          }
          rows.push_back(r);
          std::fflush(stdout);
        }
      }
    }
  }
  return rows;
}

// The GPU sampling selections on one row of random logits: ops::argmax and ops::top_k.
nlohmann::json bench_selection(gpu::Device& dev, gpu::Recorder& rec, std::mt19937_64& rng,
                               const std::vector<uint32_t>& vocabs, uint32_t repeats) {
  nlohmann::json rows = nlohmann::json::array();
  const std::vector<uint32_t> ks = {1, 40, ops::k_top_k_max};
  std::printf("\nsampling selections on one row of logits (k = 1: ops::argmax; else ops::top_k, chunk %u)\n"
              "| logits | k | ms |\n|---:|---:|---:|\n",
              ops::top_k_chunk(dev));
  for (uint32_t n : vocabs) {
    auto x = random_floats(rng, n);
    for (auto& v : x) v *= 10.f;
    gpu::Buffer gx = upload(dev, x.data(), x.size() * 4, "bench logits");
    gpu::Buffer out = dev.allocator().create(ops::k_top_k_max * 8, gpu::MemoryUse::Device, "bench selection");
    const uint64_t scratch_bytes = std::max({ops::argmax_scratch_bytes(1, n),
                                             ops::top_k_scratch_bytes(dev, 1, n, ops::k_top_k_max), uint64_t(16)});
    gpu::Buffer scratch = dev.allocator().create(scratch_bytes, gpu::MemoryUse::Device, "bench selection scratch");
    for (uint32_t k : ks) {
      if (k > n) continue;
      const auto ms = time_submissions(rec, repeats, [&](gpu::Recorder& rr) {
        if (k == 1)
          ops::argmax(rr, gx, out, scratch, 1, n);
        else
          ops::top_k(rr, gx, out, scratch, 1, n, k);
      });
      rows.push_back({{"logits", n}, {"k", k}, {"ms", to_json(spread(ms))}});
      std::printf("| %u | %u | %s |\n", n, k, cell(spread(ms), 3).c_str());
    }
    std::fflush(stdout);
  }
  return rows;
}

}  // namespace

nlohmann::json run_op_bench(gpu::Device& device, const OpBenchOptions& o) {
  std::mt19937_64 rng(o.seed);
  gpu::Recorder rec(device);
  rec.set_profiling(true);  // GPU timestamps when the device has them
  const bool timestamps = device.info().timestamps;
  std::printf("\nop-level timings (%s, median of %u after a warm-up; ranges are min-max)\n",
              timestamps ? "GPU timestamps" : "wall clock", o.repeats);
  nlohmann::json out;
  out["timer"] = timestamps ? "gpu-timestamps" : "wall-clock";
  auto wanted = [&](const char* g) { return std::find(o.groups.begin(), o.groups.end(), g) != o.groups.end(); };
  if (wanted("matvec")) {
    const std::vector<Shape> mv = o.quick ? std::vector<Shape>{{256, 256}, {256, 512}, {300, 256}}
                                          : std::vector<Shape>{{4096, 4096}, {4096, 14336}, {11008, 4096}, {4096, 11008}};
    out["matvec"] = bench_matvec(device, rec, rng, mv, o.repeats);
  }
  if (wanted("matmul"))
    out["matmul"] = o.quick ? bench_matmul(device, rec, rng, {256, 256}, {16, 32}, o.repeats)
                            : bench_matmul(device, rec, rng, {4096, 4096}, {128, 512}, o.repeats);
  if (wanted("attention")) {
    // The attention rows set the K/V read rate against the copy bandwidth.
    const Bandwidth bw = measure_copy_bandwidth(device, o.quick ? (4u << 20) : (256u << 20), o.repeats);
    out["bandwidth"] = to_json(bw);
    const double copy_gbs = bw.bytes_per_s.median * 1e-9;
    out["attention"] =
        o.quick ? bench_attention(device, rec, rng, {{"tiny", 8, 2, 64}}, {64, 300}, copy_gbs, o.repeats)
                : bench_attention(device, rec, rng, {{"tinyllama-1.1b", 32, 4, 64}, {"llama-3-8b", 32, 8, 128}},
                                  {1024, 4096, 16384}, copy_gbs, o.repeats);
  }
  if (wanted("selection"))
    out["selection"] = o.quick ? bench_selection(device, rec, rng, {512, 3000}, o.repeats)
                               : bench_selection(device, rec, rng, {32000, 128256, 152064}, o.repeats);
  if (wanted("kernels")) out["kernels"] = bench_kernels(device, rec, o.seed, o.kernels, o.repeats);
  return out;
}

}  // namespace tern::bench

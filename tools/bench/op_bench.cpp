#include "bench/op_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "bench/common.h"
#include "common/error.h"
#include "common/fp16.h"
#include "gpu/buffer.h"
#include "ops/argmax.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/top_k.h"
#include "quant/quantize.h"

namespace tern::bench {
namespace {

constexpr GgmlType k_types[] = {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0,
                                GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K};

struct Shape {
  uint32_t rows, cols;
};

std::vector<float> random_floats(std::mt19937_64& rng, size_t n) {
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

gpu::Buffer upload(gpu::Device& dev, const void* data, uint64_t bytes, const char* what) {
  // Kernels read whole uint words: keep the bytes up to the next multiple of 4 in the buffer.
  gpu::Buffer b = dev.allocator().create((bytes + 3) / 4 * 4 + 4, gpu::MemoryUse::Device, what);
  dev.allocator().write(b, 0, data, bytes);
  return b;
}

// A rows x cols weight of type t on the device. Rows repeat a small pool of distinct random
// rows: the values do not change the kernels' speed, and quantising a few rows is fast.
struct DeviceWeight {
  gpu::Buffer buf;
  ops::WeightView view;
  uint64_t bytes = 0;
};
DeviceWeight make_weight(gpu::Device& dev, std::mt19937_64& rng, GgmlType t, Shape s) {
  constexpr uint32_t pool = 32;
  const uint64_t row_bytes = ggml_row_bytes(t, s.cols);
  check(row_bytes > 0, Status::InvalidArgument, "row length is not a multiple of the block size");
  std::vector<uint8_t> pool_rows(pool * row_bytes);
  const auto f = random_floats(rng, size_t(pool) * s.cols);
  for (uint32_t r = 0; r < pool; ++r)
    quant::quantize_row(t, f.data() + size_t(r) * s.cols, pool_rows.data() + r * row_bytes, s.cols);
  std::vector<uint8_t> host(uint64_t(s.rows) * row_bytes);
  for (uint32_t r = 0; r < s.rows; ++r)
    std::memcpy(host.data() + r * row_bytes, pool_rows.data() + (r % pool) * row_bytes, row_bytes);
  DeviceWeight w;
  w.bytes = host.size();
  w.buf = upload(dev, host.data(), host.size(), "bench weight");
  w.view.buf = gpu::BufferRef(w.buf);
  w.view.type = t;
  w.view.rows = s.rows;
  w.view.cols = s.cols;
  return w;
}

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

nlohmann::json bench_attention(gpu::Device& dev, gpu::Recorder& rec, std::mt19937_64& rng,
                               const std::vector<uint32_t>& keys, uint32_t n_head, uint32_t n_head_kv,
                               uint32_t head_dim, uint32_t repeats) {
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\nattention decode (1 query, %u heads, %u KV heads, head_dim %u, f16 KV)\n"
              "| keys | ms | GB/s of K+V read |\n|---:|---:|---:|\n",
              n_head, n_head_kv, head_dim);
  for (uint32_t n_kv : keys) {
    nlohmann::json r = {{"keys", n_kv}, {"n_head", n_head}, {"n_head_kv", n_head_kv}, {"head_dim", head_dim}};
    try {
      ops::AttentionParams p;
      p.n_q = 1;
      p.n_kv = n_kv;
      p.n_head = n_head;
      p.n_head_kv = n_head_kv;
      p.head_dim = head_dim;
      const auto qh = random_floats(rng, size_t(n_head) * head_dim);
      const size_t kv_elems = size_t(n_kv) * n_head_kv * head_dim;
      std::vector<uint16_t> kvh(kv_elems);
      const auto f = random_floats(rng, 4096);
      for (size_t i = 0; i < kv_elems; ++i) kvh[i] = fp32_to_fp16(f[(i * 7919) % f.size()]);
      gpu::Buffer q = upload(dev, qh.data(), qh.size() * 4, "bench q");
      gpu::Buffer k = upload(dev, kvh.data(), kvh.size() * 2, "bench k cache");
      gpu::Buffer v = upload(dev, kvh.data(), kvh.size() * 2, "bench v cache");
      gpu::Buffer o = dev.allocator().create(qh.size() * 4, gpu::MemoryUse::Device, "bench attention out");
      gpu::Buffer scratch = dev.allocator().create(std::max<uint64_t>(ops::attention_scratch_bytes(p), 16),
                                                   gpu::MemoryUse::Device, "bench attention scratch");
      const auto ms = time_submissions(
          rec, repeats, [&](gpu::Recorder& rr) { ops::attention(rr, p, q, k, v, o, std::nullopt, scratch); });
      const double bytes = 2.0 * kv_elems * 2;
      const Spread gbs = spread_of(ms, [&](double m) { return bytes / (m * 1e-3) / 1e9; });
      r["kv_bytes"] = bytes;
      r["ms"] = to_json(spread(ms));
      r["kv_gb_per_s"] = to_json(gbs);
      std::printf("| %u | %s | %.1f |\n", n_kv, cell(spread(ms), 3).c_str(), gbs.median);
    } catch (const Error& e) {
      r["error"] = e.what();
      std::printf("| %u | error: %s | |\n", n_kv, e.what());
    }
    rows.push_back(r);
    std::fflush(stdout);
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
  const std::vector<Shape> mv = o.quick ? std::vector<Shape>{{256, 256}, {256, 512}, {300, 256}}
                                        : std::vector<Shape>{{4096, 4096}, {4096, 14336}, {11008, 4096}, {4096, 11008}};
  out["matvec"] = bench_matvec(device, rec, rng, mv, o.repeats);
  out["matmul"] = o.quick ? bench_matmul(device, rec, rng, {256, 256}, {16, 32}, o.repeats)
                          : bench_matmul(device, rec, rng, {4096, 4096}, {128, 512}, o.repeats);
  out["attention"] = o.quick ? bench_attention(device, rec, rng, {64, 300}, 8, 2, 64, o.repeats)
                             : bench_attention(device, rec, rng, {1024, 4096, 16384}, 32, 8, 128, o.repeats);
  out["selection"] = o.quick ? bench_selection(device, rec, rng, {512, 3000}, o.repeats)
                             : bench_selection(device, rec, rng, {32000, 128256, 152064}, o.repeats);
  return out;
}

}  // namespace tern::bench

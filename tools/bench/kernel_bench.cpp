#include "bench/kernel_bench.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "bench/common.h"
#include "bench/device_data.h"
#include "common/error.h"
#include "gpu/buffer.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/quantize_q8_0.h"
#include "ops/silu_mul.h"

namespace tern::bench {
namespace {

struct Variant {
  std::string name;
  ops::MatmulTuning tuning;
  bool q8_activations = false, fused = false, unfused_ops = false;
};

uint32_t positive_number(const std::string& variant, const std::string& text, unsigned long max) {
  size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v == 0 || v > max)
    throw Error(Status::InvalidArgument,
                "kernel variant '" + variant + "': '" + text + "' is not a number in 1.." + std::to_string(max));
  return uint32_t(v);
}

Variant parse_variant(const std::string& spec) {
  Variant v;
  v.name = spec;
  std::string body = spec;
  for (const char* suffix : {"+fused", "+ops"}) {
    const std::string s = suffix;
    if (body.size() > s.size() && body.compare(body.size() - s.size(), s.size(), s) == 0) {
      (s == "+fused" ? v.fused : v.unfused_ops) = true;
      body.resize(body.size() - s.size());
      break;
    }
  }
  std::vector<std::string> parts;
  for (size_t at = 0; at <= body.size();) {
    const size_t colon = std::min(body.find(':', at), body.size());
    parts.push_back(body.substr(at, colon - at));
    at = colon + 1;
  }
  const std::string& kernel = parts[0];
  if (kernel == "auto") v.tuning.kernel = ops::MatmulKernel::Auto;
  else if (kernel == "gpu") v.tuning.kernel = ops::MatmulKernel::Gpu;
  else if (kernel == "lanes") v.tuning.kernel = ops::MatmulKernel::Lanes;
  else if (kernel == "q8act") v.q8_activations = true;
  else throw Error(Status::InvalidArgument, "kernel variant '" + spec + "': '" + kernel + "' is not auto, gpu, lanes or q8act");
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const size_t x = p.find('x'), eq = p.find('=');
    if (p == "words") v.tuning.word_loads = true;
    else if (p == "f16math") v.tuning.fp16_math = true;
    else if (p == "shared") v.tuning.shared_reduction = true;
    else if (eq != std::string::npos && p.substr(0, eq) == "rows") v.tuning.matvec_rows = positive_number(spec, p.substr(eq + 1), 1024);
    else if (eq != std::string::npos && p.substr(0, eq) == "wg") v.tuning.matvec_workgroup = positive_number(spec, p.substr(eq + 1), 1024);
    else if (x != std::string::npos && kernel == "lanes") {
      v.tuning.lanes_rows = positive_number(spec, p.substr(0, x), 32);  // larger tiles compile for seconds
      v.tuning.lanes_cols = positive_number(spec, p.substr(x + 1), 32);
    } else
      throw Error(Status::InvalidArgument, "kernel variant '" + spec + "': unknown option '" + p + "'");
  }
  if (v.q8_activations && v.unfused_ops)
    throw Error(Status::InvalidArgument, "kernel variant '" + spec + "': q8act with +ops is not a product Tern runs");
  return v;
}

}  // namespace

void check_kernel_variants(const std::vector<std::string>& variants) {
  if (variants.empty()) throw Error(Status::InvalidArgument, "no kernel variants given");
  for (const auto& s : variants) parse_variant(s);
}

nlohmann::json bench_kernels(gpu::Device& dev, gpu::Recorder& rec, uint64_t seed, const KernelCompareOptions& o,
                             uint32_t repeats) {
  std::vector<Variant> vs;
  for (const auto& s : o.variants) vs.push_back(parse_variant(s));
  std::mt19937_64 rng(seed);
  const Shape shape{o.rows, o.cols};
  const DeviceWeight w = make_weight(dev, rng, o.type, shape);
  const size_t nx = size_t(o.batch) * o.cols, ny = size_t(o.batch) * o.rows;
  const auto xh = random_floats(rng, nx), uph = random_floats(rng, nx), yh = random_floats(rng, ny);
  gpu::Buffer x = upload(dev, xh.data(), nx * 4, "kernel bench x");
  gpu::Buffer up = upload(dev, uph.data(), nx * 4, "kernel bench up");
  gpu::Buffer y = upload(dev, yh.data(), ny * 4, "kernel bench y");
  gpu::Buffer gated = dev.allocator().create(nx * 4, gpu::MemoryUse::Device, "kernel bench silu(gate)*up");
  gpu::Buffer product = dev.allocator().create(ny * 4, gpu::MemoryUse::Device, "kernel bench W x");
  gpu::Buffer q8 = dev.allocator().create(ops::q8_act_layout(dev, o.batch, o.cols).total() + 16,
                                          gpu::MemoryUse::Device, "kernel bench q8_0 activations");

  auto record = [&](const Variant& v, gpu::Recorder& rr) {
    ops::MatmulOptions opt;
    opt.q8_activations = v.q8_activations;
    if (v.q8_activations) opt.q8_scratch = q8;
    if (v.unfused_ops) {
      ops::silu_mul(rr, x, up, gated, uint32_t(nx));
      ops::matmul(rr, w.view, gated, product, o.batch, opt, v.tuning);
      ops::add(rr, y, product, y, uint32_t(ny));
      return;
    }
    if (v.fused) {
      opt.accumulate = true;
      opt.swiglu_up = up;
    }
    ops::matmul(rr, w.view, x, v.fused ? y : product, o.batch, opt, v.tuning);
  };

  // Round 0 compiles every variant's pipelines (a variant the device or shape cannot run is
  // reported with its error); then each round runs every variant once.
  std::vector<double> first_ms(vs.size());
  std::vector<std::string> error(vs.size());
  std::vector<std::vector<double>> ms(vs.size()), cpu(vs.size());
  for (uint32_t round = 0; round <= repeats; ++round)
    for (size_t i = 0; i < vs.size(); ++i) {
      if (!error[i].empty()) continue;
      const double c0 = process_cpu_ms(), t0 = now_ms();
      double gpu_ms = 0;
      try {
        gpu_ms = time_one_submission(rec, [&](gpu::Recorder& rr) { record(vs[i], rr); });
      } catch (const Error& e) {
        if (round > 0) throw;  // it ran before: not a refusal of the variant
        error[i] = e.what();
        continue;
      }
      if (round == 0) {
        first_ms[i] = now_ms() - t0;
        continue;
      }
      ms[i].push_back(gpu_ms);
      cpu[i].push_back(process_cpu_ms() - c0);
    }

  const std::string tname(ggml_type_name(o.type));
  std::printf("\nkernel A/B: %s %ux%u weight, batch %u, %u interleaved rounds (ms: median (min-max))\n"
              "| variant | ms | GFLOP/s | weight GB/s | CPU ms (all threads) | first run, with compile |\n"
              "|---|---:|---:|---:|---:|---:|\n",
              tname.c_str(), o.rows, o.cols, o.batch, repeats);
  nlohmann::json rows = nlohmann::json::array();
  const double flop = 2.0 * o.rows * o.cols * o.batch;
  for (size_t i = 0; i < vs.size(); ++i) {
    if (!error[i].empty()) {
      std::printf("| %s | error: %s | | | | |\n", vs[i].name.c_str(), error[i].c_str());
      rows.push_back({{"variant", vs[i].name}, {"type", tname}, {"error", error[i]}});
      continue;
    }
    const Spread t = spread(ms[i]), c = spread(cpu[i]);
    const double gflops = flop / (t.median * 1e-3) / 1e9, gbs = double(w.bytes) / (t.median * 1e-3) / 1e9;
    std::printf("| %s | %s | %.2f | %.2f | %.1f | %.0f |\n", vs[i].name.c_str(), cell(t).c_str(), gflops, gbs,
                c.median, first_ms[i]);
    rows.push_back({{"variant", vs[i].name}, {"type", tname}, {"rows", o.rows}, {"cols", o.cols},
                    {"batch", o.batch}, {"ms", to_json(t)}, {"cpu_ms", to_json(c)},
                    {"gflop_per_s", {{"median", gflops}}}, {"first_run_ms", first_ms[i]}});
  }
  std::fflush(stdout);
  return rows;
}

}  // namespace tern::bench

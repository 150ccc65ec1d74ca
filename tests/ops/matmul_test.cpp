#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "common/env.h"
#include "ops/add.h"
#include "ops/matmul.h"
#include "ops/silu_mul.h"
#include "quant/quantize.h"
#include "ref/matmul.h"
#include "support/gpu_fixture.h"

namespace tern::test {
namespace {

enum class Mode { Default, SplitRows, SharedReduction, ManySubgroups, WordLoads, Gpu, Lanes, LanesSmall };

struct Case {
  GgmlType type;
  uint32_t rows, cols, batch;
  Mode mode = Mode::Default;
  bool split = false;  // also bind the weight in many row ranges
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string s = std::string(ggml_type_name(c.type)) + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) +
                  "_b" + std::to_string(c.batch);
  if (c.mode == Mode::SplitRows || c.split) s += "_split";
  if (c.mode == Mode::SharedReduction) s += "_shmem";
  if (c.mode == Mode::ManySubgroups) s += "_wg32";
  if (c.mode == Mode::WordLoads) s += "_words";
  if (c.mode == Mode::Gpu) s += "_gpu";
  if (c.mode == Mode::Lanes) s += "_lanes";
  if (c.mode == Mode::LanesSmall) s += "_lanes2x3";
  return s;
}

class MatmulTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(MatmulTest, MatchesReference) {
  const Case c = GetParam();
  const auto w = random_weight(c.type, c.rows, c.cols, 11 + c.rows);
  const auto x = random_floats(size_t(c.batch) * c.cols, 7 + c.batch);
  std::vector<float> want(size_t(c.batch) * c.rows);
  ref::matmul(c.type, w.data(), c.rows, c.cols, x.data(), want.data(), c.batch);

  auto gw = upload(w), gx = upload(x);
  auto gy = poisoned(want.size() * 4);
  ops::MatmulTuning opt;
  if (c.mode == Mode::SplitRows || c.split) opt.max_weight_binding = 4096;  // forces many row ranges
  if (c.mode == Mode::SharedReduction) opt.shared_reduction = true, opt.matvec_workgroup = 32;
  if (c.mode == Mode::ManySubgroups) opt.matvec_workgroup = 32;
  if (c.mode == Mode::WordLoads) opt.word_loads = true;  // the uint-word kernel the uvec4 variants replace
  // The matvec tuning modes and Gpu exercise the GPU kernels (Auto may pick lanes on a CPU driver).
  if (c.mode == Mode::Gpu || c.mode == Mode::SharedReduction || c.mode == Mode::ManySubgroups ||
      c.mode == Mode::WordLoads)
    opt.kernel = ops::MatmulKernel::Gpu;
  if (c.mode == Mode::Lanes || c.mode == Mode::LanesSmall) opt.kernel = ops::MatmulKernel::Lanes;
  if (c.mode == Mode::LanesSmall) opt.lanes_rows = 2, opt.lanes_cols = 3;  // odd tile: more edge groups
  if (opt.kernel == ops::MatmulKernel::Lanes && !(dev().info().subgroup_size == 8 && dev().info().subgroup_shuffle && dev().info().subgroup_arithmetic))
    GTEST_SKIP() << "the lanes matmul kernel needs 8-lane subgroups with shuffles";
  rec().begin();
  ops::matmul(rec(), {gw, c.type, c.rows, c.cols}, gx, gy, c.batch, {}, opt);
  rec().submit_and_wait();
  const double err = rel_l2(want, download<float>(gy, want.size()));
  const std::string variant = c.mode == Mode::Lanes || c.mode == Mode::LanesSmall ? "_lanes"
                              : c.mode == Mode::Gpu                            ? "_gpu"
                                                                               : "";
  record_error(std::string(c.batch == 1 ? "matvec/" : "matmul/") + std::string(ggml_type_name(c.type)) + variant, err);
  EXPECT_LT(err, 1e-5);
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    for (Case c : {Case{t, 1, 256, 1}, Case{t, 13, 512, 1}, Case{t, 300, 512, 1}, Case{t, 127, 256, 2},
                   Case{t, 300, 512, 7}, Case{t, 64, 512, 64}, Case{t, 13, 256, 129}, Case{t, 127, 512, 512},
                   Case{t, 300, 512, 1, Mode::SplitRows}, Case{t, 300, 512, 7, Mode::SplitRows},
                   Case{t, 127, 512, 1, Mode::SharedReduction}, Case{t, 127, 512, 1, Mode::ManySubgroups},
                   Case{t, 127, 512, 1, Mode::WordLoads}, Case{t, 300, 512, 1, Mode::WordLoads}})
      v.push_back(c);
    // The matrix-matrix kernels one by one, at odd rows and batches (edges of every tile).
    for (Mode m : {Mode::Gpu, Mode::Lanes, Mode::LanesSmall})
      for (Case c : {Case{t, 13, 256, 2, m}, Case{t, 127, 512, 7, m}, Case{t, 300, 256, 129, m}, Case{t, 1, 512, 33, m},
                     Case{t, 300, 512, 13, m, true}, Case{t, 300, 512, 1, m}, Case{t, 13, 256, 1, m, true}})
        v.push_back(c);
    if (t == GgmlType::F32 || t == GgmlType::F16)  // widths that are not a multiple of 8 (and odd rows for F16)
      for (Case c : {Case{t, 13, 37, 1}, Case{t, 13, 100, 1}, Case{t, 13, 37, 7}, Case{t, 29, 37, 1, Mode::SplitRows}})
        v.push_back(c);
  }
  v.push_back({GgmlType::Q4_0, 4096, 4096, 1});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Types, MatmulTest, ::testing::ValuesIn(all_cases()), case_name);

// Matvec times for a 4096 x 14336 weight per type (llama.cpp's Vulkan numbers on this machine are
// the target). Run with --gtest_also_run_disabled_tests --gtest_filter='*Timing*'.
// On a CPU driver the process's CPU time (all threads) is a load-independent measure of the work;
// with the machine shared it is steadier than wall time.
class MatvecTiming : public GpuTest {};

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-3;
}

TEST_F(MatvecTiming, DISABLED_Timing) {
  constexpr uint32_t rows = 4096, cols = 14336;
  const uint32_t reps = uint32_t(std::stoul(env_string("TERN_MV_REPS").value_or("5")));
  const auto x = random_floats(cols, 3);
  auto gx = upload(x);
  auto gy = poisoned(rows * 4);
  rec().set_profiling(true);
  const std::optional<std::string> only = env_string("TERN_MV_TYPE");
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::F16, GgmlType::F32, GgmlType::Q4_K, GgmlType::Q6_K}) {
    if (only && *only != ggml_type_name(t)) continue;
    const uint64_t rb = ggml_row_bytes(t, cols);
    // Timing does not need meaningful weights: a repeating pattern of valid blocks will do.
    std::vector<uint8_t> w((rows * rb + 3) / 4 * 4);
    {
      const auto f = random_floats(cols, 5);
      std::vector<uint8_t> row(rb);
      quant::quantize_row(t, f.data(), row.data(), cols);
      for (uint32_t r = 0; r < rows; ++r) std::memcpy(w.data() + r * rb, row.data(), rb);
    }
    auto gw = upload(w);
    const ops::WeightView wv{gw, t, rows, cols};
    for (auto layout : {ops::MatvecLayout::SplitK}) {
    ops::MatmulTuning opt;
    opt.layout = layout;
    opt.kernel = ops::MatmulKernel::Gpu;  // the matvec kernels (MatmulTiming compares against lanes)
    if (const auto e = env_string("TERN_MV_NR")) opt.matvec_rows = uint32_t(std::stoul(*e));
    if (const auto e = env_string("TERN_MV_WG")) opt.matvec_workgroup = uint32_t(std::stoul(*e));
    opt.word_loads = env_string("TERN_MV_NOV4").has_value();
    double best_gpu = 1e30, best_wall = 1e30, best_cpu = 1e30;
    for (uint32_t i = 0; i < reps + 1; ++i) {
      const double c0 = cpu_ms();
      const auto t0 = std::chrono::steady_clock::now();
      rec().begin();
      ops::matmul(rec(), wv, gx, gy, 1, {}, opt);
      rec().submit_and_wait();
      const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = cpu_ms() - c0;
      if (i == 0) continue;  // pipeline creation
      best_wall = std::min(best_wall, wall);
      best_cpu = std::min(best_cpu, cpu);
      double gpu = 0;
      for (const auto& d : rec().timings())
        if (d.label != "begin") gpu += d.ms;
      if (!rec().timings().empty()) best_gpu = std::min(best_gpu, gpu);
    }
    std::printf("matvec %-5s %ux%u %-13s: best %.2f ms (GPU timestamps), %.2f ms (wall, with submit), "
                "%.2f ms CPU time (all threads)\n",
                std::string(ggml_type_name(t)).c_str(), rows, cols,
                layout == ops::MatvecLayout::SplitK ? "split-k" : "row-per-lane", best_gpu, best_wall, best_cpu);
    }
  }
}

// Matrix-matrix kernels compared interleaved (A/B in the same run, medians), since the machine is
// shared. TERN_MM_TYPE (default q4_0), TERN_MM_BATCH (128), TERN_MM_ROWS / _COLS (4096),
// TERN_MM_REPS (5), TERN_MM_TILES: "gpu,auto,lanes:8x16" (kernel[:rows x cols per invocation]);
// a "+fused" suffix makes the product a fused FFN down product (x = silu(gate) * up, y += W x:
// MatmulOptions::swiglu_up, ::accumulate) and "+ops" the unfused ops it replaces (ops::silu_mul,
// the product, ops::add), all dispatches of one submission timed together.
// Run with --gtest_also_run_disabled_tests --gtest_filter='*MatmulTiming*'.
class MatmulTiming : public GpuTest {};

TEST_F(MatmulTiming, DISABLED_Timing) {
  auto env = [](const char* n, uint32_t d) { return uint32_t(std::stoul(env_string(n).value_or(std::to_string(d)))); };
  const uint32_t rows = env("TERN_MM_ROWS", 4096), cols = env("TERN_MM_COLS", 4096), batch = env("TERN_MM_BATCH", 128);
  const uint32_t reps = env("TERN_MM_REPS", 5);
  const std::string tname = env_string("TERN_MM_TYPE").value_or("q4_0");
  GgmlType t = GgmlType::Q4_0;
  for (GgmlType c : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::Q6_K})
    if (tname == ggml_type_name(c)) t = c;
  struct Variant {
    std::string name;
    ops::MatmulTuning opt;
    std::vector<double> ms, cpu;
    double first_wall = 0;  // includes the pipeline compile
    bool fused = false, ops = false;
  };
  std::vector<Variant> vs;
  std::string spec = env_string("TERN_MM_TILES").value_or("gpu,lanes");
  for (size_t p = 0; p < spec.size();) {
    size_t e = spec.find(',', p);
    if (e == std::string::npos) e = spec.size();
    std::string item = spec.substr(p, e - p);
    p = e + 1;
    Variant v{item, {}, {}, {}};
    for (const char* suffix : {"+fused", "+ops"})
      if (const size_t at = item.find(suffix); at != std::string::npos) {
        (std::string(suffix) == "+fused" ? v.fused : v.ops) = true;
        item = item.substr(0, at);
      }
    if (item == "gpu") v.opt.kernel = ops::MatmulKernel::Gpu;
    else if (item == "auto") v.opt.kernel = ops::MatmulKernel::Auto;
    else {
      v.opt.kernel = ops::MatmulKernel::Lanes;
      const size_t c = item.find(':'), xx = item.find('x');
      if (c != std::string::npos && xx != std::string::npos) {
        v.opt.lanes_rows = uint32_t(std::atoi(item.c_str() + c + 1));
        v.opt.lanes_cols = uint32_t(std::atoi(item.c_str() + xx + 1));
      }
    }
    vs.push_back(v);
  }
  const auto w = random_weight(t, rows, cols, 5);
  const auto x = random_floats(size_t(batch) * cols, 3);
  const auto up = random_floats(size_t(batch) * cols, 4);
  auto gw = upload(w), gx = upload(x), gup = upload(up), gt = poisoned(size_t(batch) * cols * 4);
  auto gy = upload(random_floats(size_t(batch) * rows, 6)), gp = poisoned(size_t(batch) * rows * 4);
  rec().set_profiling(true);
  const ops::WeightView wv{gw, t, rows, cols};
  for (uint32_t i = 0; i < reps + 1; ++i)
    for (auto& v : vs) {
      const double c0 = cpu_ms();
      const auto t0 = std::chrono::steady_clock::now();
      rec().begin();
      if (v.fused) {
        ops::MatmulOptions o;
        o.accumulate = true;
        o.swiglu_up = gup;
        ops::matmul(rec(), wv, gx, gy, batch, o, v.opt);
      } else if (v.ops) {
        ops::silu_mul(rec(), gx, gup, gt, batch * cols);
        ops::matmul(rec(), wv, gt, gp, batch, {}, v.opt);
        ops::add(rec(), gy, gp, gy, batch * rows);
      } else {
        ops::matmul(rec(), wv, gx, gy, batch, {}, v.opt);
      }
      rec().submit_and_wait();
      const double cpu = cpu_ms() - c0;
      if (i == 0) v.first_wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      double gpu = 0;
      for (const auto& d : rec().timings())
        if (d.label != "begin") gpu += d.ms;
      if (i > 0) v.ms.push_back(gpu), v.cpu.push_back(cpu);  // the first round compiles pipelines
    }
  for (auto& v : vs) {
    std::sort(v.ms.begin(), v.ms.end());
    std::sort(v.cpu.begin(), v.cpu.end());
    const double med = v.ms[v.ms.size() / 2], cmed = v.cpu[v.cpu.size() / 2];
    std::printf("matmul %s %ux%u batch %u %-10s: median %.1f ms (min %.1f, max %.1f) = %.2f GFLOP/s; "
                "CPU time (all threads) median %.1f ms; first run with compile %.0f ms wall\n",
                tname.c_str(), rows, cols, batch, v.name.c_str(), med, v.ms.front(), v.ms.back(),
                2.0 * rows * cols * batch / (med * 1e6), cmed, v.first_wall);
  }
}

}  // namespace
}  // namespace tern::test

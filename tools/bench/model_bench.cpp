#include "bench/model_bench.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <random>

#include "api/context.h"
#include "bench/bandwidth.h"
#include "bench/common.h"
#include "common/error.h"
#include "model/model.h"

namespace tern::bench {
namespace {

uint64_t view_bytes(const ops::WeightView& v) { return v.rows ? uint64_t(v.rows) * ggml_row_bytes(v.type, v.cols) : 0; }

// Weight bytes one decode step reads: every matrix and vector once, the embedding table only
// for the one row it looks up (the output head is read in full even when tied to it).
uint64_t weight_bytes_per_token(const Model& m) {
  const ModelConfig& c = m.config();
  uint64_t b = view_bytes(m.output()) + view_bytes(m.output_norm());
  b += ggml_row_bytes(m.token_embd().type, m.token_embd().cols);
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = m.layer(l);
    for (const auto* v : {&L.attn_norm, &L.wq, &L.wk, &L.wv, &L.wo, &L.bq, &L.bk, &L.bv, &L.ffn_norm, &L.w_gate,
                          &L.w_up, &L.w_down})
      b += view_bytes(*v);
  }
  return b;
}

nlohmann::json kind_json(const KvLayerKindStats& k) {
  return {{"layers", k.layers}, {"bytes", k.bytes}, {"slots_used", k.slots_used}, {"slots_capacity", k.slots_capacity}};
}

std::vector<int32_t> random_tokens(std::mt19937_64& rng, uint32_t n, uint32_t n_vocab) {
  std::uniform_int_distribution<int32_t> d(0, int32_t(n_vocab) - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = d(rng);
  return t;
}

// Per-op time of profiled decode steps: each label's time summed within a step, then the
// median over steps (one step alone is easily skewed by other processes on a shared CPU).
nlohmann::json op_profile(const std::vector<std::vector<gpu::DispatchTiming>>& steps, const std::string& what,
                          uint32_t top) {
  std::map<std::string, std::vector<double>> per_label;
  std::map<std::string, uint32_t> count;
  std::vector<double> totals;
  for (const auto& step : steps) {
    std::map<std::string, double> sum;
    double total = 0;
    for (const auto& t : step) {
      sum[t.label] += t.ms;
      total += t.ms;
    }
    for (const auto& [label, ms] : sum) per_label[label].push_back(ms);
    totals.push_back(total);
  }
  for (const auto& t : steps.front()) count[t.label] += 1;
  std::vector<std::pair<std::string, double>> rows;
  for (const auto& [label, v] : per_label) rows.emplace_back(label, spread(v).median);
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  double sum_of_medians = 0;
  for (const auto& r : rows) sum_of_medians += r.second;
  const Spread total = spread(totals);
  nlohmann::json ops = nlohmann::json::array();
  std::printf("\nGPU time of %s: %s ms in %zu dispatches (timestamp queries, median of %zu runs)\n", what.c_str(),
              cell(total).c_str(), steps.front().size(), steps.size());
  std::printf("| op | dispatches | ms | share |\n|---|---:|---:|---:|\n");
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [label, ms] = rows[i];
    const double share = sum_of_medians > 0 ? ms / sum_of_medians : 0;
    ops.push_back({{"op", label}, {"dispatches", count[label]}, {"ms", ms}, {"share", share}});
    if (i < top) std::printf("| %s | %u | %.3f | %.1f%% |\n", label.c_str(), count[label], ms, 100 * share);
  }
  return {{"what", what}, {"steps", steps.size()}, {"total_ms", to_json(total)}, {"dispatches", steps.front().size()},
          {"ops", ops}};
}

// A decode A/B in one context: a setting switched on and off (both give the same tokens, so the
// two share one cache and one token stream and see the same load on a shared machine).
struct AbSwitch {
  const char* key;              // JSON field of the entries and profiles: "fusion", "gpu_sampling"
  const char* on_label;         // "fused", "GPU sampling"
  const char* off_label;        // "unfused", "CPU sampling"
  std::function<void(bool)> set;
  // Set: each step also samples the next token with these settings and feeds it (the time
  // includes the sampling); else the steps feed gen.
  std::optional<SamplerParams> sample;
};

// An A/B at one depth: repeats of n_gen steps from the same state, step i of repeat r with the
// setting on when i + r is even; then `repeats` profiled single steps per setting. ctx_of(on) is
// the context a step runs in: one context for a setting, two for two KV policies (--ab-kv), each
// stepping every other time. Prints a row and a profile per setting; returns the decode entries
// and the profiles.
std::pair<nlohmann::json, nlohmann::json> decode_ab(const std::function<Context&(int)>& ctx_of,
                                                    const std::function<void()>& restore,
                                                    const std::vector<int32_t>& gen, uint32_t depth, uint32_t repeats,
                                                    uint32_t top, const AbSwitch& sw) {
  if (sw.sample)
    for (int on : {0, 1}) ctx_of(on).expect_sampling(*sw.sample);
  std::vector<double> ms[2], cpu[2];  // per repeat: mean ms and CPU ms per token, [off, on]
  uint32_t timed[2] = {0, 0};         // steps timed in all
  for (uint32_t r = 0; r < repeats; ++r) {
    restore();
    double sum_ms[2] = {0, 0}, sum_cpu[2] = {0, 0};
    uint32_t count[2] = {0, 0};
    int32_t next = gen[0];
    for (uint32_t i = 0; i < gen.size(); ++i) {
      const int on = (i + r) % 2 == 0;
      sw.set(on);
      const int32_t t = sw.sample ? next : gen[i];
      Context& ctx = ctx_of(on);
      const double t0 = now_ms(), c0 = process_cpu_ms();
      ctx.eval(std::span<const int32_t>(&t, 1));
      if (sw.sample) next = ctx.sample(*sw.sample);
      sum_ms[on] += now_ms() - t0;
      sum_cpu[on] += process_cpu_ms() - c0;
      ++count[on];
      ++timed[on];
    }
    for (int on : {0, 1})
      if (count[on]) ms[on].push_back(sum_ms[on] / count[on]), cpu[on].push_back(sum_cpu[on] / count[on]);
  }
  std::vector<std::vector<gpu::DispatchTiming>> steps[2];
  for (int on : {0, 1}) ctx_of(on).set_profiling(true);
  for (uint32_t r = 0; r < repeats; ++r)
    for (int k : {0, 1}) {
      const int on = (k + r) % 2;
      restore();
      sw.set(on);
      Context& ctx = ctx_of(on);
      ctx.eval(std::span<const int32_t>(&gen[r % gen.size()], 1));
      if (!ctx.timings().empty()) steps[on].push_back(ctx.timings());
    }
  for (int on : {0, 1}) ctx_of(on).set_profiling(false);
  nlohmann::json dec = nlohmann::json::array(), profiles = nlohmann::json::array();
  for (int on : {0, 1}) {
    if (ms[on].empty()) continue;
    const Spread tps = spread_of(ms[on], [](double t) { return 1e3 / t; }), c = spread(cpu[on]);
    std::printf("| tg%zu @ d%u, %s (A/B, every other step) | %s | %s per token | CPU time %s ms/token |\n",
                gen.size(), depth, on ? sw.on_label : sw.off_label, cell(tps).c_str(), cell(spread(ms[on]), 2).c_str(),
                cell(c).c_str());
    dec.push_back({{"depth", depth}, {"n", timed[on]}, {sw.key, bool(on)},
                   {"tokens_per_s", to_json(tps)}, {"ms_per_token", to_json(spread(ms[on]))},
                   {"cpu_ms_per_token", to_json(c)}});
  }
  for (int on : {0, 1}) {
    if (steps[on].empty()) continue;
    nlohmann::json prof = op_profile(steps[on], std::string("one decode step at depth ") + std::to_string(depth) +
                                                    ", " + (on ? sw.on_label : sw.off_label), top);
    prof["depth"] = depth;
    prof[sw.key] = bool(on);
    profiles.push_back(prof);
  }
  return {dec, profiles};
}

}  // namespace

nlohmann::json run_model_bench(const ModelBenchOptions& o) {
  nlohmann::json out;
  // Every timed decode divides by n_gen and picks tokens modulo it.
  check(o.n_gen >= 1 && o.repeats >= 1, Status::InvalidArgument, "n_gen and repeats must be at least 1");
  ModelLoadOptions lo;
  lo.use_device = o.device;
  const double t_load = now_ms();
  std::shared_ptr<Model> model = Model::load(o.model_path, lo);
  const double load_ms = now_ms() - t_load;
  const ModelConfig& c = model->config();
  gpu::Device& dev = model->device();

  ContextParams cp;
  cp.n_batch = o.n_batch;
  cp.seed = o.seed;
  cp.kv = o.kv;
  cp.kv_type = o.kv_type;
  Context ctx(model, cp);
  // --ab-kv: a second context on the same model with the other KV policy (B), stepping in turn.
  std::unique_ptr<Context> ctx_b;
  if (o.ab_kv) {
    ContextParams cpb = cp;
    cpb.kv = *o.ab_kv;
    ctx_b = std::make_unique<Context>(model, cpb);
    out["ab_kv_policy"] = describe(ctx_b->kv_config());
  }
  const uint32_t n_ctx = ctx.n_ctx();
  // Tokens a context can take: the cache size for dense, unbounded for window policies.
  const uint64_t capacity = ctx_b ? std::min(ctx.room(), ctx_b->room()) : ctx.room();
  out["kv_policy"] = describe(ctx.kv_config());
  out["kv_type"] = ggml_type_name(o.kv_type);
  std::mt19937_64 rng(o.seed);

  nlohmann::json types = nlohmann::json::object();
  for (const auto& [name, bytes] : model->bytes_by_type()) types[name] = bytes;
  out["model"] = {{"path", o.model_path},   {"name", c.name},          {"arch", c.arch_name},
                  {"n_params", model->n_params()}, {"n_layer", c.n_layer}, {"n_embd", c.n_embd},
                  {"n_head", c.n_head},     {"n_head_kv", c.n_head_kv}, {"head_dim", c.head_dim},
                  {"n_ff", c.n_ff},         {"n_vocab", c.n_vocab},     {"n_ctx_train", c.n_ctx_train},
                  {"bytes_by_type", types}, {"load_ms", load_ms}};
  std::printf("model: %s (%s), %.1f M params, %u layers, weights %s; KV %s %s, batch %u\n", o.model_path.c_str(),
              c.arch_name.c_str(), double(model->n_params()) / 1e6, c.n_layer, mib(model->weight_bytes()).c_str(),
              describe(ctx.kv_config()).c_str(), std::string(ggml_type_name(o.kv_type)).c_str(),
              std::min(o.n_batch, n_ctx));

  // Roofline first, while nothing else is resident but the model.
  const Bandwidth bw = measure_copy_bandwidth(dev, o.bandwidth_bytes, o.repeats);
  out["bandwidth"] = to_json(bw);
  std::printf("copy bandwidth (read+write, %s buffers, %s): %s GB/s\n", mib(bw.buffer_bytes).c_str(),
              bw.gpu_timestamps ? "GPU timestamps" : "wall clock", cell(scaled(bw.bytes_per_s, 1e-9)).c_str());

  // Warm-up: creates the pipelines of the batched and single-token paths (only the latter when
  // nothing prefills: no prompt sizes and a synthetic depth fill).
  const bool prefills = o.depth_fill == DepthFill::Prefill ||
                        std::any_of(o.prompt_sizes.begin(), o.prompt_sizes.end(), [](uint32_t p) { return p > 0; });
  if (n_ctx >= 2) {
    const auto warm = random_tokens(rng, prefills ? std::min<uint32_t>(64, n_ctx - 1) : 1, c.n_vocab);
    const int32_t t = warm[0];
    for (Context* x : {&ctx, ctx_b.get()}) {
      if (!x) continue;
      x->eval(warm);
      x->eval(std::span<const int32_t>(&t, 1));
      x->reset();
    }
  }

  // Prompt processing.
  std::printf("\n| test | tokens/s | ms | notes |\n|---|---:|---:|---|\n");
  nlohmann::json pp = nlohmann::json::array(), prefill_profiles = nlohmann::json::array();
  for (uint32_t p : o.prompt_sizes) {
    if (p == 0) continue;
    if (p > capacity) {
      const std::string note = "skipped: " + std::to_string(p) + " tokens exceed the context length " + std::to_string(n_ctx);
      std::printf("| pp%u | | | %s |\n", p, note.c_str());
      pp.push_back({{"tokens", p}, {"skipped", note}});
      continue;
    }
    std::vector<double> ms;
    std::vector<gpu::DispatchTiming> profile;
    for (uint32_t r = 0; r < o.repeats; ++r) {
      const auto toks = random_tokens(rng, p, c.n_vocab);
      ctx.reset();
      // The last repeat also records per-dispatch GPU timestamps (cheap next to the work).
      if (r + 1 == o.repeats) ctx.set_profiling(true);
      const double t0 = now_ms();
      ctx.eval(toks);
      ms.push_back(now_ms() - t0);
      if (r + 1 == o.repeats) profile = ctx.timings(), ctx.set_profiling(false);
    }
    if (!profile.empty()) {
      nlohmann::json prof = op_profile({profile}, "prompt processing of " + std::to_string(p) + " tokens (last repeat)",
                                       o.top_ops);
      prof["tokens"] = p;
      prefill_profiles.push_back(prof);
    }
    const Spread tps = spread_of(ms, [&](double t) { return p / (t * 1e-3); });
    std::printf("| pp%u | %s | %s | |\n", p, cell(tps).c_str(), cell(spread(ms), 1).c_str());
    pp.push_back({{"tokens", p}, {"tokens_per_s", to_json(tps)}, {"ms", to_json(spread(ms))}});
  }
  out["prompt"] = pp;
  out["prompt_profile"] = prefill_profiles;

  // Decode at depths: fill by prefill once, save the state, and restore it before each repeat
  // so every repeat times the same n_gen steps from the same depth; or fill synthetically
  // (DepthFill) before each repeat.
  const bool synthetic = o.depth_fill == DepthFill::Synthetic;
  out["depth_fill"] = synthetic ? "synthetic" : "prefill";
  std::printf("\ndecode depths filled by %s\n",
              synthetic ? "a synthetic fill (the KV policy's steps committed, cache rows random; no forward pass)"
                        : "prefill of random tokens");
  const uint64_t w_bytes = weight_bytes_per_token(*model);
  // K and V bytes one key costs in the global layers and in the sliding-window layers (which
  // read at most their window W of keys, however deep the context).
  const uint32_t n_sliding = c.n_sliding_layers();
  const uint64_t global_key_bytes = KvCache::slot_bytes(c.n_layer - n_sliding, c.kv_dim());
  const uint64_t sliding_key_bytes = KvCache::slot_bytes(n_sliding, c.kv_dim());
  nlohmann::json dec = nlohmann::json::array(), profiles = nlohmann::json::array();
  std::vector<std::pair<uint32_t, std::vector<std::vector<gpu::DispatchTiming>>>> profiled;
  nlohmann::json ab_profiles = nlohmann::json::array();
  uint64_t decode_rss = 0;  // largest resident set seen right after timed decode steps
  for (uint32_t d : o.depths) {
    if (uint64_t(d) + o.n_gen > capacity) {
      const std::string note = "skipped: depth " + std::to_string(d) + " + " + std::to_string(o.n_gen) +
                               " decode tokens exceed the context length " + std::to_string(n_ctx) +
                               " (-c sets it)";
      std::printf("| tg%u @ d%u | | | %s |\n", o.n_gen, d, note.c_str());
      dec.push_back({{"depth", d}, {"n", o.n_gen}, {"skipped", note}});
      continue;
    }
    ctx.reset();
    const std::vector<int32_t> fill = random_tokens(rng, d, c.n_vocab);
    const double t_fill = now_ms();
    if (d && synthetic) ctx.fill_synthetic(fill, o.seed + d);
    else if (d) ctx.eval(fill);
    const double fill_ms = now_ms() - t_fill;
    const std::vector<uint8_t> state = d && !synthetic ? ctx.save_state() : std::vector<uint8_t>{};
    // Puts the context back at depth d before each repeat.
    const std::function<void()> restore = [&] {
      if (!d) ctx.reset();
      else if (synthetic) ctx.fill_synthetic(fill, o.seed + d);
      else ctx.load_state(state);
      if (ctx_b && !d) ctx_b->reset();
      else if (ctx_b) ctx_b->fill_synthetic(fill, o.seed + d);  // tern-bench requires the synthetic fill
    };
    const auto gen = random_tokens(rng, o.n_gen, c.n_vocab);
    if (o.ab_fusion || o.ab_norm_fusion || o.ab_gpu_sampling || ctx_b) {
      AbSwitch sw;
      const std::string label_a = describe(ctx.kv_config()), label_b = ctx_b ? describe(ctx_b->kv_config()) : "";
      if (ctx_b) {
        sw = {"ab_kv", label_b.c_str(), label_a.c_str(), [](bool) {}, std::nullopt};
      } else if (o.ab_fusion) {
        sw = {"fusion", "fused", "unfused", [&](bool on) { ctx.set_fusion(on); }, std::nullopt};
      } else if (o.ab_norm_fusion) {
        sw = {"norm_fusion", "norm fused", "norm unfused", [&](bool on) { ctx.set_norm_fusion(on); }, std::nullopt};
      } else {
        SamplerParams sp;  // the library's defaults with the given top_k; 0: greedy
        if (o.ab_sampling_top_k) sp.top_k = int32_t(o.ab_sampling_top_k);
        else sp.temperature = 0.f;
        sw = {"gpu_sampling", "GPU sampling", "CPU sampling", [&](bool on) { ctx.set_gpu_sampling(on); }, sp};
      }
      const bool fused = ctx.fusion(), norm_fused = ctx.norm_fusion(), gpu_sampling = ctx.gpu_sampling();
      if (o.ab_norm_fusion) ctx.set_fusion(true);
      auto [entries, profs] =
          decode_ab([&](int on) -> Context& { return on && ctx_b ? *ctx_b : ctx; }, restore, gen, d, o.repeats,
                    o.top_ops, sw);
      ctx.set_fusion(fused);
      ctx.set_norm_fusion(norm_fused);
      ctx.set_gpu_sampling(gpu_sampling);
      for (auto& e : entries) dec.push_back(e);
      for (auto& p : profs) ab_profiles.push_back(p);
      continue;
    }
    std::vector<double> ms, cpu_per_token;
    for (uint32_t r = 0; r < o.repeats; ++r) {
      restore();
      const double t0 = now_ms(), c0 = process_cpu_ms();
      for (uint32_t i = 0; i < o.n_gen; ++i) ctx.eval(std::span<const int32_t>(&gen[i], 1));
      ms.push_back(now_ms() - t0);
      decode_rss = std::max(decode_rss, current_rss_bytes());
      cpu_per_token.push_back((process_cpu_ms() - c0) / o.n_gen);
    }
    // `repeats` more single steps, profiled, each from the same depth.
    ctx.set_profiling(true);
    std::vector<std::vector<gpu::DispatchTiming>> steps;
    for (uint32_t r = 0; r < o.repeats; ++r) {
      restore();
      ctx.eval(std::span<const int32_t>(&gen[r % gen.size()], 1));
      if (!ctx.timings().empty()) steps.push_back(ctx.timings());
    }
    profiled.emplace_back(d, std::move(steps));
    ctx.set_profiling(false);

    const Spread tps = spread_of(ms, [&](double t) { return o.n_gen / (t * 1e-3); });
    // Keys read per step average over the timed steps: d+1 .. d+n_gen, at most the cache.
    const double avg_keys = std::min<double>(d + (o.n_gen + 1) / 2.0, n_ctx);
    const double kv_bytes_read =
        avg_keys * double(global_key_bytes) + std::min<double>(avg_keys, c.swa_window) * double(sliding_key_bytes);
    const double bytes_per_token = double(w_bytes) + kv_bytes_read;
    const double eff = bw.bytes_per_s.median > 0 ? tps.median * bytes_per_token / bw.bytes_per_s.median : 0;
    const Spread cpu = spread(cpu_per_token);
    std::printf("| tg%u @ d%u | %s | %s | %.1f MB/token, %.1f%% of copy bandwidth; CPU time %s ms/token; "
                "fill %.0f ms |\n",
                o.n_gen, d, cell(tps).c_str(), cell(spread(ms), 1).c_str(), bytes_per_token / 1e6, 100 * eff,
                cell(cpu).c_str(), fill_ms);
    dec.push_back({{"depth", d},
                   {"n", o.n_gen},
                   {"fill_ms", fill_ms},
                   {"tokens_per_s", to_json(tps)},
                   {"ms", to_json(spread(ms))},
                   {"cpu_ms_per_token", to_json(cpu)},
                   {"bytes_per_token", bytes_per_token},
                   {"weight_bytes_per_token", w_bytes},
                   {"kv_bytes_per_token", kv_bytes_read},
                   {"efficiency", eff}});
  }
  out["decode"] = dec;
  for (const auto& [d, t] : profiled) {
    if (t.empty()) {
      std::printf("\n(no per-op profile: the device has no timestamp queries)\n");
      break;
    }
    nlohmann::json prof = op_profile(t, "one decode step at depth " + std::to_string(d), o.top_ops);
    prof["depth"] = d;
    profiles.push_back(prof);
  }
  for (auto& p : ab_profiles) profiles.push_back(p);
  out["decode_profile"] = profiles;

  const ContextStats s = ctx.stats();
  out["memory"] = {{"weights_bytes", model->weight_bytes()},
                   {"context_bytes", s.device_bytes},
                   {"kv_bytes", s.kv_bytes},
                   {"kv_global", kind_json(s.kv_global)},
                   {"kv_sliding", kind_json(s.kv_sliding)},
                   {"device_total_bytes", model->weight_bytes() + s.device_bytes},
                   {"host_peak_rss_bytes", peak_rss_bytes()},
                   {"host_decode_rss_bytes", decode_rss}};
  // The target is host memory during decode <= the model's bytes + 100 MB: the mapped file is
  // released after upload, so the load-time peak (file + upload) does not count.
  std::printf("\nmemory: device %s (weights %s + context %s, of which KV %s); host RSS during decode %s, "
              "peak %s (loading included)%s\n",
              mib(model->weight_bytes() + s.device_bytes).c_str(), mib(model->weight_bytes()).c_str(),
              mib(s.device_bytes).c_str(), mib(s.kv_bytes).c_str(), decode_rss ? mib(decode_rss).c_str() : "-",
              mib(peak_rss_bytes()).c_str(),
              dev.info().unified_memory ? " (unified memory: device buffers count in the RSS too)" : "");
  if (s.kv_sliding.layers)
    std::printf("KV per layer kind: %u global layers %s (%u/%u slots each) | %u sliding-window layers %s (%u/%u slots each)\n",
                s.kv_global.layers, mib(s.kv_global.bytes).c_str(), s.kv_global.slots_used, s.kv_global.slots_capacity,
                s.kv_sliding.layers, mib(s.kv_sliding.bytes).c_str(), s.kv_sliding.slots_used,
                s.kv_sliding.slots_capacity);
  return out;
}

}  // namespace tern::bench

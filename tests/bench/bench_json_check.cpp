// bench_json_check FILE [--model] [--ops] [--kernels]: parses tern-bench's JSON and checks that the
// sections asked for are present and hold finite, positive measurements (no speed limits).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

bool fail(const std::string& why) {
  std::fprintf(stderr, "bench_json_check: %s\n", why.c_str());
  return false;
}

bool positive(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_object() || !j[key].contains("median") || !j[key]["median"].is_number())
    return fail(where + ": missing " + key + ".median");
  const double v = j[key]["median"].get<double>();
  if (!std::isfinite(v) || v <= 0) return fail(where + ": " + key + ".median is " + std::to_string(v));
  return true;
}

// Every entry of a list either measured `key` or says why it was skipped.
bool entries(const json& list, const char* key, const std::string& where) {
  if (!list.is_array() || list.empty()) return fail(where + " is missing or empty");
  bool measured = false;
  for (const auto& e : list) {
    if (e.contains("skipped") || e.contains("error")) continue;
    if (!positive(e, key, where)) return false;
    measured = true;
  }
  return measured || fail(where + ": nothing was measured");
}

bool check_model(const json& j) {
  if (!j.contains("model_bench")) return fail("no model_bench section");
  const json& m = j["model_bench"];
  if (!m.contains("model") || !m["model"].contains("n_params")) return fail("model description missing");
  if (!positive(m["bandwidth"], "read_write_bytes_per_s", "bandwidth")) return false;
  if (!entries(m["prompt"], "tokens_per_s", "prompt")) return false;
  if (!entries(m["decode"], "tokens_per_s", "decode")) return false;
  for (const char* k : {"weights_bytes", "context_bytes", "host_peak_rss_bytes"})
    if (!m["memory"].contains(k) || m["memory"][k].get<double>() <= 0) return fail(std::string("memory.") + k);
  if (!m.contains("decode_profile") || !m["decode_profile"].is_array()) return fail("decode_profile missing");
  return true;
}

// --ab-fusion (key "fusion") and --ab-norm-fusion ("norm_fusion"): a fused and an unfused
// decode entry and profile at every depth measured, the fused profile with fewer dispatches.
bool check_ab_fusion(const json& j, const char* key = "fusion") {
  const json& m = j["model_bench"];
  for (const auto& e : m["decode"]) {
    if (e.contains("skipped")) continue;
    if (!e.contains(key) || !e.contains("cpu_ms_per_token")) return fail("decode entry without fusion / cpu_ms_per_token");
  }
  std::map<double, std::map<bool, double>> dispatches;  // depth -> fusion -> dispatches
  for (const auto& p : m["decode_profile"])
    if (p.contains(key)) dispatches[p["depth"].get<double>()][p[key].get<bool>()] = p["dispatches"].get<double>();
  if (dispatches.empty()) return fail("no fusion profiles");
  for (const auto& [depth, d] : dispatches)
    if (d.size() != 2 || d.at(true) >= d.at(false)) return fail("fused profile does not have fewer dispatches");
  return true;
}

// --ab-kv: an entry and a profile of each KV policy (key "ab_kv": true for the B policy) at
// every depth measured, and the B policy named.
bool check_ab_kv(const json& j) {
  const json& m = j["model_bench"];
  if (!m.contains("ab_kv_policy")) return fail("no ab_kv_policy");
  std::map<double, std::map<bool, int>> entries, profiles;  // depth -> B -> count
  for (const auto& e : m["decode"]) {
    if (e.contains("skipped")) continue;
    if (!e.contains("ab_kv") || !e.contains("cpu_ms_per_token")) return fail("decode entry without ab_kv / cpu_ms_per_token");
    ++entries[e["depth"].get<double>()][e["ab_kv"].get<bool>()];
  }
  for (const auto& p : m["decode_profile"])
    if (p.contains("ab_kv")) ++profiles[p["depth"].get<double>()][p["ab_kv"].get<bool>()];
  if (entries.empty() || entries != profiles) return fail("KV A/B entries and profiles do not pair up");
  for (const auto& [depth, e] : entries)
    if (e.size() != 2) return fail("a depth lacks the A or the B policy");
  return true;
}

// --ab-gpu-sampling: a GPU-sampling and a CPU-sampling decode entry and profile at every depth
// measured, the GPU one with one dispatch more or two (the selection) per step.
bool check_ab_gpu_sampling(const json& j) {
  const json& m = j["model_bench"];
  std::map<double, std::map<bool, double>> entries_seen, dispatches;  // depth -> gpu_sampling -> ...
  for (const auto& e : m["decode"]) {
    if (e.contains("skipped")) continue;
    if (!e.contains("gpu_sampling") || !e.contains("cpu_ms_per_token")) return fail("decode entry without gpu_sampling");
    entries_seen[e["depth"].get<double>()][e["gpu_sampling"].get<bool>()] = 1;
  }
  for (const auto& p : m["decode_profile"])
    if (p.contains("gpu_sampling"))
      dispatches[p["depth"].get<double>()][p["gpu_sampling"].get<bool>()] = p["dispatches"].get<double>();
  if (entries_seen.empty() || dispatches.empty()) return fail("no gpu_sampling entries or profiles");
  for (const auto& [depth, e] : entries_seen)
    if (e.size() != 2) return fail("a depth lacks the GPU or the CPU sampling entry");
  for (const auto& [depth, d] : dispatches)
    if (d.size() != 2 || d.at(true) <= d.at(false) || d.at(true) > d.at(false) + 2)
      return fail("the GPU sampling profile does not have one or two dispatches more");
  return true;
}

bool check_ops(const json& j) {
  if (!j.contains("ops")) return fail("no ops section");
  const json& o = j["ops"];
  if (!(entries(o["matvec"], "ms", "ops.matvec") && entries(o["matmul"], "gflop_per_s", "ops.matmul") &&
        entries(o["attention"], "kv_gb_per_s", "ops.attention") && entries(o["selection"], "ms", "ops.selection")))
    return false;
  // Attention rows: f16 and q8_0 caches, keys rotated, before RoPE, and before RoPE with slot
  // positions (sinks + window), with the K/V bytes they
  // read and the fraction of the copy bandwidth.
  std::map<std::string, int> forms;
  for (const auto& r : o["attention"]) {
    if (!r.contains("kv_bytes") || !r.contains("copy_fraction") || r["kv_bytes"].get<double>() <= 0)
      return fail("ops.attention row without kv_bytes / copy_fraction");
    ++forms[r["kv_type"].get<std::string>() + " " + r["keys_form"].get<std::string>()];
  }
  for (const char* f : {"f16 rotated", "f16 pre-RoPE", "f16 pre-RoPE positions", "q8_0 rotated",
                        "q8_0 pre-RoPE", "q8_0 pre-RoPE positions"})
    if (!forms.count(f)) return fail(std::string("ops.attention has no ") + f + " rows");
  return o.contains("bandwidth") || fail("ops has no copy bandwidth");
}

// --op-groups kernels: one row per variant, each measured or refused with its error, and at
// least one measured with a positive GPU time, CPU time and rate.
bool check_kernels(const json& j) {
  if (!j.contains("ops") || !j["ops"].contains("kernels")) return fail("no ops.kernels section");
  const json& rows = j["ops"]["kernels"];
  if (!entries(rows, "ms", "ops.kernels")) return false;
  for (const auto& r : rows) {
    if (!r.contains("variant")) return fail("ops.kernels row without variant");
    if (r.contains("error")) continue;
    if (!positive(r, "cpu_ms", "ops.kernels") || !positive(r, "gflop_per_s", "ops.kernels")) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_json_check FILE [--model] [--ops] [--kernels]\n");
    return 2;
  }
  json j;
  try {
    std::ifstream f(argv[1]);
    if (!f) return fail(std::string("cannot open ") + argv[1]) ? 0 : 1;
    j = json::parse(f);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_json_check: %s does not parse: %s\n", argv[1], e.what());
    return 1;
  }
  if (!j.contains("device") || !j["device"].contains("name")) return fail("device missing") ? 0 : 1;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && !check_model(j)) return 1;
    if (a == "--ops" && !check_ops(j)) return 1;
    if (a == "--kernels" && !check_kernels(j)) return 1;
    if (a == "--ab-fusion" && !check_ab_fusion(j)) return 1;
    if (a == "--ab-norm-fusion" && !check_ab_fusion(j, "norm_fusion")) return 1;
    if (a == "--ab-gpu-sampling" && !check_ab_gpu_sampling(j)) return 1;
    if (a == "--ab-kv" && !check_ab_kv(j)) return 1;
  }
  std::printf("bench_json_check: %s is well-formed\n", argv[1]);
  return 0;
}

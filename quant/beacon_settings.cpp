#include "quant/beacon_settings.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_writer.h"
#include "quant/json_file.h"

namespace tern {
namespace {

uint32_t number_after(const std::string& s, const std::string& prefix) {
  if (s.rfind(prefix, 0) != 0) return 0;
  try {
    return uint32_t(std::stoul(s.substr(prefix.size())));
  } catch (const std::exception&) {
    return 0;
  }
}

void check_consistent(const BeaconSettings& s, const std::string& where) {
  check(s.window > 0 && s.window <= (1u << 24), Status::BadModel, where + ": beacon window out of range");
  check(!s.ratios.empty(), Status::BadModel, where + ": no beacon ratios");
  for (uint32_t r : s.ratios) check(r >= 1 && r <= s.window, Status::BadModel, where + ": beacon ratio out of range");
  for (const auto& p : s.params)
    check(p == "q" || p == "k" || p == "v" || p == "o", Status::BadModel, where + ": unknown beacon param '" + p + "'");
}

}  // namespace

std::string BeaconSettings::unsupported() const {
  if (!present) return "";
  if (attention != "full-coverage" && attention != "sliding")
    return "beacon attention mode '" + attention + "' is not implemented (Tern runs full-coverage and sliding)";
  if (position != "interleave")
    return "beacon position mode '" + position + "' is not implemented (Tern runs interleave)";
  if (attention == "full-coverage" && stride != window)
    return "beacon stride " + std::to_string(stride) + " differs from the window " + std::to_string(window) +
           " (Tern implements stride == window)";
  return "";
}

uint32_t BeaconSettings::fixed_ratio() const { return number_after(ratio_mix, "fixed-"); }

uint32_t BeaconSettings::adapt_margin() const {
  const uint32_t n = number_after(ratio_mix, "adapt-");
  return n ? n : 1024;
}

std::string BeaconSettings::describe() const {
  if (!present) return "";
  std::string r;
  for (size_t i = 0; i < ratios.size(); ++i) r += (i ? "," : "") + std::to_string(ratios[i]);
  std::string p;
  for (const auto& x : params) p += x;
  return attention + ", " + position + ", window " + std::to_string(window) + ", stride " + std::to_string(stride) +
         ", ratios " + r + " (" + ratio_mix + "), sinks " + std::to_string(sink_size) + ", trained " +
         (p.empty() ? std::string("-") : p) + ", embedding from " + (embed_init.empty() ? "?" : embed_init);
}

BeaconSettings read_beacon_settings(const GgufFile& f) {
  BeaconSettings s;
  for (const auto& kv : f.kvs())
    if (kv.key.rfind("beacon.", 0) == 0) s.present = true;
  if (!s.present) return s;
  s.window = f.get_u32("beacon.window").value_or(0);
  s.stride = f.get_u32("beacon.stride").value_or(s.window);
  if (auto r = f.get_i32_array("beacon.ratios"))
    for (int32_t x : *r) s.ratios.push_back(uint32_t(std::max(0, x)));
  s.ratio_mix = std::string(f.get_string("beacon.ratio_mix").value_or("adapt-1024"));
  s.attention = std::string(f.get_string("beacon.attention").value_or("full-coverage"));
  s.position = std::string(f.get_string("beacon.position").value_or("interleave"));
  s.sink_size = f.get_u32("beacon.sink_size").value_or(0);
  if (auto p = f.get_string_array("beacon.param"))
    for (auto x : *p) s.params.emplace_back(x);
  s.embed_init = std::string(f.get_string("beacon.embed_init").value_or(""));
  s.attend_prev = f.get_bool("beacon.attend_prev").value_or(true);
  s.parallel_window = f.get_u32("beacon.parallel_window").value_or(1);
  check_consistent(s, "model metadata");
  return s;
}

void write_beacon_settings(GgufWriter& g, const BeaconSettings& s) {
  if (!s.present) return;
  g.set_u32("beacon.window", s.window);
  g.set_u32("beacon.stride", s.stride);
  g.set_array("beacon.ratios", s.ratios);
  g.set_string("beacon.ratio_mix", s.ratio_mix);
  g.set_string("beacon.attention", s.attention);
  g.set_string("beacon.position", s.position);
  g.set_u32("beacon.sink_size", s.sink_size);
  g.set_array("beacon.param", s.params);
  g.set_string("beacon.embed_init", s.embed_init);
  g.set_bool("beacon.attend_prev", s.attend_prev);
  g.set_u32("beacon.parallel_window", s.parallel_window);
}

BeaconSettings beacon_settings_from_hf_config(const nlohmann::json& cfg) {
  BeaconSettings s;
  if (!cfg.contains("beacon_window")) return s;
  s.present = true;
  try {
    // Counts through json_uint: get<uint32_t>() of a float or negative number is no error.
    auto count = [&](const nlohmann::json& v, const char* key) {
      return uint32_t(quant::json_uint(v, UINT32_MAX, std::string("config.json ") + key));
    };
    auto count_or = [&](const char* key, uint32_t fallback) { return cfg.contains(key) ? count(cfg.at(key), key) : fallback; };
    s.window = count(cfg.at("beacon_window"), "beacon_window");
    s.stride = count_or("beacon_stride", s.window);
    const auto& r = cfg.contains("beacon_ratio") ? cfg.at("beacon_ratio") : nlohmann::json::array({8});
    if (r.is_array())
      for (const auto& x : r) s.ratios.push_back(count(x, "beacon_ratio"));
    else
      s.ratios.push_back(count(r, "beacon_ratio"));
    s.ratio_mix = cfg.value("beacon_ratio_mix", std::string("adapt-1024"));
    s.attention = cfg.value("beacon_attn", std::string("full-coverage"));
    s.position = cfg.value("beacon_pos", std::string("interleave"));
    s.sink_size = count_or("beacon_sink_size", 0);
    // beacon_param: a list such as ["q", "k", "v"] (or one string "qkv").
    if (cfg.contains("beacon_param")) {
      const auto& p = cfg.at("beacon_param");
      if (p.is_array())
        for (const auto& x : p) s.params.push_back(x.get<std::string>());
      else
        for (char ch : p.get<std::string>()) s.params.emplace_back(1, ch);
    }
    s.embed_init = cfg.value("beacon_embed_init", std::string("eos"));
    s.attend_prev = cfg.value("beacon_attend_prev", true);
    s.parallel_window = count_or("beacon_parallel_window", 1);
  } catch (const nlohmann::json::exception& e) {
    throw Error(Status::BadModel, std::string("config.json: malformed beacon settings: ") + e.what());
  }
  check_consistent(s, "config.json");
  return s;
}

}  // namespace tern

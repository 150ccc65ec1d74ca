#include "perplexity/policy_spec.h"

#include <stdexcept>
#include <vector>

#include "perplexity/parse_util.h"

namespace tern::ppl {

namespace {

std::vector<std::string> split_colons(const std::string& s) {
  std::vector<std::string> parts;
  size_t at = 0;
  for (;;) {
    const size_t colon = s.find(':', at);
    parts.push_back(s.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
    if (colon == std::string::npos) return parts;
    at = colon + 1;
  }
}

[[noreturn]] void bad(const std::string& spec, const std::string& why) {
  throw std::invalid_argument("policy '" + spec + "': " + why +
                              " (expected dense[:N], window, sinks:S, beacon:R[:W], beacon-sinks:R[:W][:S] or sliding:R[:W][:S])");
}

int32_t field(const std::string& spec, const std::string& text, const char* what, int32_t min) {
  int32_t v = 0;
  if (!parse_int(text, v)) bad(spec, std::string(what) + " '" + text + "' is not an integer");
  if (v < min) bad(spec, std::string(what) + " must be at least " + std::to_string(min));
  return v;
}

}  // namespace

PolicySpec parse_policy_spec(const std::string& spec) {
  const std::vector<std::string> p = split_colons(spec);
  const std::string& kind = p[0];
  PolicySpec s;
  s.label = spec;
  auto arity = [&](size_t lo, size_t hi) {
    if (p.size() - 1 < lo || p.size() - 1 > hi)
      bad(spec, kind + " takes " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                    " parameter(s)");
  };
  if (kind == "dense") {
    arity(0, 1);
    s.policy = TERN_KV_DENSE;
    if (p.size() == 2) s.ctx = field(spec, p[1], "context length", 1);
  } else if (kind == "window") {
    arity(0, 0);
    s.policy = TERN_KV_WINDOW;
  } else if (kind == "sinks") {
    arity(1, 1);
    s.policy = TERN_KV_SINKS_WINDOW;
    s.sinks = field(spec, p[1], "sink count", 1);
  } else if (kind == "sliding") {
    arity(1, 3);
    s.policy = TERN_KV_BEACON_SLIDING;
    s.ratio = field(spec, p[1], "ratio", 1);
    if (p.size() >= 3 && !p[2].empty()) s.beacon_window = field(spec, p[2], "raw window", 1);
    if (s.beacon_window > 0 && s.beacon_window < s.ratio)
      bad(spec, "raw window " + std::to_string(s.beacon_window) + " is smaller than ratio " + std::to_string(s.ratio));
    s.sinks = p.size() == 4 ? field(spec, p[3], "sink count", 0) : 0;
  } else if (kind == "beacon" || kind == "beacon-sinks") {
    const bool with_sinks = kind == "beacon-sinks";
    arity(1, with_sinks ? 3 : 2);
    s.policy = TERN_KV_BEACON;
    s.ratio = field(spec, p[1], "ratio", 1);
    if (p.size() >= 3 && !p[2].empty()) s.beacon_window = field(spec, p[2], "beacon window", 1);
    if (s.beacon_window > 0 && s.beacon_window % s.ratio != 0)
      bad(spec, "beacon window " + std::to_string(s.beacon_window) + " is not a multiple of ratio " +
                    std::to_string(s.ratio));
    s.sinks = with_sinks ? (p.size() == 4 ? field(spec, p[3], "sink count", 1) : 4) : 0;
  } else {
    bad(spec, "unknown policy '" + kind + "'");
  }
  return s;
}

KvSettings kv_settings_for(const PolicySpec& spec, int32_t slots, uint64_t bytes_per_slot) {
  if (slots <= 0) throw std::invalid_argument("KV slots must be positive");
  KvSettings k;
  k.policy = spec.policy;
  k.kv_sinks = spec.sinks;
  switch (spec.policy) {
    case TERN_KV_DENSE:
      k.n_ctx = spec.ctx > 0 ? spec.ctx : slots;
      break;
    case TERN_KV_WINDOW:
    case TERN_KV_SINKS_WINDOW:
      if (spec.sinks >= slots)
        throw std::invalid_argument("policy '" + spec.label + "': " + std::to_string(spec.sinks) +
                                    " sinks leave no window in " + std::to_string(slots) + " slots");
      k.kv_window = slots;  // total slots, sinks included
      break;
    case TERN_KV_BEACON:
    case TERN_KV_BEACON_SLIDING:
      if (bytes_per_slot == 0) throw std::invalid_argument("bytes per KV slot unknown (no dense probe)");
      k.kv_budget_bytes = uint64_t(slots) * bytes_per_slot;
      k.beacon_ratio = spec.ratio;
      k.beacon_window = spec.beacon_window;
      break;
  }
  return k;
}

const char* default_policy_list() {
  return "dense,window,sinks:4,beacon:2,beacon:4,beacon:8,beacon-sinks:2,beacon-sinks:4,beacon-sinks:8";
}

}  // namespace tern::ppl

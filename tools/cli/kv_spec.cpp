#include "cli/kv_spec.h"

#include <stdexcept>
#include <vector>

#include "cli/cli_parse.h"

namespace tern::tools {
namespace {

enum class Field { Slots, Sinks, Ratio, Window };

struct Param {
  Field field;
  bool required;
  const char* name;  // in messages
  int32_t min;
};

// The kinds: name, policy, parameters in order, and the sinks a kind has when S is not given.
struct Kind {
  const char* name;
  tern_kv_policy policy;
  std::vector<Param> params;
  int32_t default_sinks;
  const char* grammar;
};

const std::vector<Kind>& kinds() {
  static const Param slots{Field::Slots, false, "slot count", 1};
  static const Param ratio{Field::Ratio, false, "ratio", 0};
  static const Param window{Field::Window, false, "beacon window", 0};
  static const Param sinks{Field::Sinks, false, "sink count", 0};
  static const std::vector<Kind> k = {
      {"dense", TERN_KV_DENSE, {slots}, 0, "dense[:N]"},
      {"window", TERN_KV_WINDOW, {slots}, 0, "window[:N]"},
      {"sinks", TERN_KV_SINKS_WINDOW, {{Field::Sinks, true, "sink count", 1}, slots}, 0, "sinks:S[:N]"},
      {"beacon", TERN_KV_BEACON, {ratio, window, sinks}, 0, "beacon[:R[:W[:S]]]"},
      {"beacon-sinks", TERN_KV_BEACON, {{Field::Ratio, true, "ratio", 1}, window, sinks}, 4, "beacon-sinks:R[:W[:S]]"},
      {"sliding", TERN_KV_BEACON_SLIDING, {{Field::Ratio, true, "ratio", 1}, {Field::Window, false, "raw window", 1}, sinks},
       0, "sliding:R[:W[:S]]"},
  };
  return k;
}

[[noreturn]] void bad(const std::string& spec, const std::string& why) {
  throw std::invalid_argument("KV spec '" + spec + "': " + why + " (expected " + kv_spec_grammar() + ")");
}

int32_t number(const std::string& spec, const std::string& text, const Param& p) {
  int32_t v = 0;
  if (!cli::parse_int(text, v)) bad(spec, std::string(p.name) + " '" + text + "' is not an integer");
  if (v < p.min) bad(spec, std::string(p.name) + " must be at least " + std::to_string(p.min));
  return v;
}

}  // namespace

std::string kv_spec_grammar() {
  std::string g;
  for (const Kind& k : kinds()) g += (g.empty() ? "" : ", ") + std::string(k.grammar);
  return g;
}

KvSpec parse_kv_spec(const std::string& spec) {
  const std::vector<std::string> p = cli::split(spec, ':');
  const Kind* kind = nullptr;
  for (const Kind& k : kinds())
    if (p[0] == k.name) kind = &k;
  if (!kind) bad(spec, "unknown kind '" + p[0] + "'");
  if (p.size() - 1 > kind->params.size())
    bad(spec, std::string(kind->name) + " takes at most " + std::to_string(kind->params.size()) + " parameter(s)");
  KvSpec s;
  s.policy = kind->policy;
  s.sinks = kind->default_sinks;
  s.label = spec;
  for (size_t i = 0; i < kind->params.size(); ++i) {
    const Param& param = kind->params[i];
    const bool given = i + 1 < p.size() && !p[i + 1].empty();
    if (!given) {
      if (param.required) bad(spec, std::string(kind->name) + " needs a " + param.name);
      continue;
    }
    const int32_t v = number(spec, p[i + 1], param);
    switch (param.field) {
      case Field::Slots: s.slots = v; break;
      case Field::Sinks: s.sinks = v; break;
      case Field::Ratio: s.ratio = v; break;
      case Field::Window: s.beacon_window = v; break;
    }
  }
  if (s.slots > 0 && s.sinks >= s.slots && s.policy == TERN_KV_SINKS_WINDOW)
    bad(spec, std::to_string(s.sinks) + " sinks leave no window in " + std::to_string(s.slots) + " slots");
  // The sliding mode's raw window need not be a multiple of R, but must hold one beacon's tokens.
  if (s.policy == TERN_KV_BEACON_SLIDING && s.beacon_window > 0 && s.beacon_window < s.ratio)
    bad(spec, "raw window " + std::to_string(s.beacon_window) + " is smaller than ratio " + std::to_string(s.ratio));
  if (s.policy == TERN_KV_BEACON && s.ratio > 0 && s.beacon_window > 0 && s.beacon_window % s.ratio != 0)
    bad(spec, "beacon window " + std::to_string(s.beacon_window) + " is not a multiple of ratio " +
                  std::to_string(s.ratio));
  return s;
}

void apply_kv_spec(const KvSpec& s, tern_context_params& p) {
  p.kv_policy = s.policy;
  if (s.slots > 0) (s.policy == TERN_KV_DENSE ? p.n_ctx : p.kv_window) = s.slots;
  p.kv_sinks = s.sinks;
  p.beacon_ratio = s.ratio;
  p.beacon_window = s.beacon_window;
}

int32_t parse_kv_type(const std::string& text) {
  if (text == "f16") return TERN_KV_TYPE_F16;
  if (text == "f32") return TERN_KV_TYPE_F32;
  if (text == "q8_0") return TERN_KV_TYPE_Q8_0;
  throw std::invalid_argument("'" + text + "' is not a KV type (f16, f32 or q8_0)");
}

}  // namespace tern::tools

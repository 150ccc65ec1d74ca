#include "perplexity/args.h"

#include <stdexcept>

#include "cli/cli_parse.h"
#include "perplexity/passkey_prompt.h"

namespace tern::ppl {

using namespace tern::cli;

const char* usage_text() {
  return "usage: tern-perplexity -m MODEL.gguf -f TEXT.txt [options]      streaming perplexity\n"
         "       tern-perplexity -m MODEL.gguf --passkey [options]         passkey retrieval\n"
         "       tern-perplexity --passkey-merge A.csv,B.csv [--passkey-csv F] [--passkey-svg F]\n"
         "                                                                  one table of several runs\n"
         "\n"
         "  -m, --model FILE      GGUF model\n"
         "  -f, --file FILE       text to score token by token (BOS first)\n"
         "  --kv SPEC             KV policy, repeatable or comma-separated (--policy too), in the\n"
         "                        grammar tern-chat and tern-bench share:\n"
         "                          dense[:N]               every token, N slots (default: --kv-slots)\n"
         "                          window[:N]              the last N tokens (default: --kv-slots)\n"
         "                          sinks:S[:N]             S first tokens + the last (N - S)\n"
         "                          beacon[:R[:W[:S]]]      Activation Beacon, ratio R, W raw tokens per\n"
         "                                                  chunk (both derived when left out), S sinks (0)\n"
         "                          beacon-sinks:R[:W[:S]]  the same with S defaulting to 4\n"
         "                          sliding:R[:W[:S]]       sliding beacon mode: W raw tokens kept raw, a\n"
         "                                                  beacon per R for what leaves, S sinks (0)\n"
         "                        default: dense,window,sinks:4,beacon:2,beacon:4,beacon:8,\n"
         "                                 beacon-sinks:2,beacon-sinks:4,beacon-sinks:8\n"
         "  --dense-ctx N         add a dense run with N slots (e.g. the model's training length)\n"
         "  --kv-slots N          KV slots of every policy: equal KV bytes (default 256); beacon gets\n"
         "                        kv_budget_bytes = N x the bytes of one dense slot\n"
         "  --kv-type f16|f32|q8_0  KV cache elements (default f16)\n"
         "  --numerics default|llamacpp  llama.cpp's CPU arithmetic (dense policies only)\n"
         "  --segment N           scored tokens per reported segment (default 512)\n"
         "  --max-tokens N        feed at most N tokens (default: the whole text)\n"
         "  --loop                repeat the text (without BOS) until --max-tokens are fed\n"
         "  --timing-at LIST      report decode ms/token over the 64 tokens up to each t (default 1024,16384)\n"
         "  --csv FILE            one row per (policy, segment)\n"
         "  --svg FILE            plot of segment perplexity against tokens consumed, per policy\n"
         "  -q, --quiet           no live table, only the summaries\n"
         "\n"
         "passkey retrieval (--passkey):\n"
         "  --lengths LIST        prompt lengths in tokens (default 256,512,1024)\n"
         "  --depths LIST         key depths in [0, 1] (default 0,0.25,0.5,0.75,1)\n"
         "  --trials N            random keys per (length, depth) (default 5)\n"
         "  --seed S              key seed (default 1)\n"
         "  --gen N               greedy tokens generated for the answer (default 8)\n"
         "  --needle key|word     what is hidden: a 5-digit pass key (default) or a secret word\n"
         "  --filler FILE         filler sentences from FILE, in order (default: 5 repeated sentences)\n"
         "  --n-batch N           prompt tokens per submit (default: the library's, 512); window\n"
         "                        policies evict a submit's worth of tokens at once, so small N\n"
         "                        is closer to token-by-token\n"
         "  --passkey-csv FILE    one row per (policy, length, depth)\n"
         "  --passkey-trials-csv FILE  one row per trial: the needle, the prompt length, the answer\n"
         "  --passkey-svg FILE    heat map of accuracy by length and depth, one panel per policy\n"
         "  --passkey-merge LIST  per-cell CSVs of earlier --passkey runs (comma-separated, repeatable):\n"
         "                        trials, skips and correct answers summed per (policy, length, depth)\n"
         "                        into one table, --passkey-csv and --passkey-svg; runs no model, and\n"
         "                        refuses files whose needle kind or filler differ\n"
         "  --title TEXT          the passkey heat map's title (default: the model, filler and KV\n"
         "                        slots of a run, the number of runs of a merge)\n"
         "\n"
         "  --device SEL          Vulkan device index or name substring\n"
         "  -h, --help            this text\n";
}

namespace {

template <class T>
T positive(const std::string& opt, const std::string& v) {
  uint64_t x = 0;
  if (!parse_u64(v, x) || x == 0 || x > uint64_t(INT32_MAX))
    throw std::invalid_argument(opt + " needs a positive integer, not '" + v + "'");
  return T(x);
}

}  // namespace

Options parse_args(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") o.help = true;
    else if (a == "-m" || a == "--model") o.model = value();
    else if (a == "-f" || a == "--file") o.text_file = value();
    else if (a == "--device") o.device = value();
    else if (a == "--kv" || a == "--policy") {
      for (const auto& spec : split_commas(value())) o.policies.push_back(parse_policy_spec(spec));
    } else if (a == "--dense-ctx") {
      o.policies.push_back(parse_policy_spec("dense:" + std::to_string(positive<int32_t>(a, value()))));
    } else if (a == "--kv-slots") o.kv_slots = positive<int32_t>(a, value());
    else if (a == "--kv-type") {
      o.kv_type = tern::tools::parse_kv_type(value());
    } else if (a == "--numerics") {
      const std::string n = value();
      if (n == "default") o.numerics = TERN_NUMERICS_DEFAULT;
      else if (n == "llamacpp") o.numerics = TERN_NUMERICS_LLAMACPP;
      else throw std::invalid_argument("--numerics: '" + n + "' is not default or llamacpp");
    } else if (a == "--segment") o.segment = positive<uint32_t>(a, value());
    else if (a == "--max-tokens") o.max_tokens = positive<uint64_t>(a, value());
    else if (a == "--loop") o.loop = true;
    else if (a == "--timing-at") o.timing_at = parse_int_list(value(), "--timing-at");
    else if (a == "--csv") o.csv = value();
    else if (a == "--svg") o.svg = value();
    else if (a == "-q" || a == "--quiet") o.quiet = true;
    else if (a == "--passkey") o.passkey = true;
    else if (a == "--lengths") o.lengths = parse_int_list(value(), "--lengths");
    else if (a == "--depths") o.depths = parse_double_list(value(), "--depths");
    else if (a == "--trials") o.trials = positive<int32_t>(a, value());
    else if (a == "--seed") {
      const std::string v = value();
      if (!parse_u64(v, o.seed)) throw std::invalid_argument("--seed needs an unsigned integer, not '" + v + "'");
    } else if (a == "--gen") o.gen_tokens = positive<int32_t>(a, value());
    else if (a == "--needle") {
      o.needle = value();
      parse_needle_kind(o.needle);  // throws on anything but key or word
    } else if (a == "--filler") o.filler_file = value();
    else if (a == "--n-batch") o.n_batch = positive<int32_t>(a, value());
    else if (a == "--passkey-csv") o.passkey_csv = value();
    else if (a == "--passkey-trials-csv") o.passkey_trials_csv = value();
    else if (a == "--passkey-svg") o.passkey_svg = value();
    else if (a == "--passkey-merge") {
      for (const auto& f : split_commas(value())) o.passkey_merge.push_back(f);
    } else if (a == "--title") o.title = value();
    else throw std::invalid_argument("unknown argument '" + a + "' (see --help)");
  }
  if (o.help) return o;
  if (!o.passkey_merge.empty()) {
    if (!o.model.empty() || !o.text_file.empty() || o.passkey)
      throw std::invalid_argument("--passkey-merge runs no model: leave out -m, -f and --passkey");
    if (!o.passkey_trials_csv.empty())
      throw std::invalid_argument("--passkey-merge has per-cell rows only: leave out --passkey-trials-csv");
    return o;
  }
  if (o.model.empty()) throw std::invalid_argument("no model: give -m MODEL.gguf");
  if (o.text_file.empty() && !o.passkey) throw std::invalid_argument("nothing to do: give -f TEXT.txt and/or --passkey");
  if (o.loop && o.max_tokens == 0) throw std::invalid_argument("--loop needs --max-tokens");
  for (int32_t l : o.lengths)
    if (l <= 0) throw std::invalid_argument("--lengths: lengths must be positive");
  for (double d : o.depths)
    if (d < 0 || d > 1) throw std::invalid_argument("--depths: depths must lie in [0, 1]");
  for (int32_t t : o.timing_at)
    if (t <= 0) throw std::invalid_argument("--timing-at: token counts must be positive");
  if (o.policies.empty())
    for (const auto& spec : split_commas(default_policy_list())) o.policies.push_back(parse_policy_spec(spec));
  for (const auto& p : o.policies) kv_settings_for(p, o.kv_slots, 1);  // e.g. sinks >= slots
  return o;
}

}  // namespace tern::ppl

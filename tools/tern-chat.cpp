// tern-chat: interactive chat (or one-shot completion) with a GGUF model through the C API.
// Streams tokens as they come; Ctrl-C stops the current answer, not the program; with a
// non-terminal stdin each line is one user message, so it can be scripted.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/kv_spec.h"
#include "cli/cli_parse.h"
#include "common/env.h"
#include "platform/console.h"
#include "tern.h"

namespace {

tern_context* g_ctx = nullptr;
volatile std::sig_atomic_t g_interrupted = 0;

void on_interrupt() {
  g_interrupted = 1;
  if (g_ctx) tern_cancel(g_ctx);  // only sets an atomic flag: async-signal-safe in practice
}

struct Options {
  std::string model, prompt, system, chat_template;
  int n_predict = 256;
  bool raw = false, verbose = false, raw_forced_off = false;
  tern_sampler_params sampler = tern_sampler_default_params();
  tern_context_params ctx = tern_context_default_params();
  tern::tools::KvSpec kv;  // applied to ctx after the options (its N wins over --ctx)
};

void usage() {
  std::printf(
      "usage: tern-chat [-m MODEL.gguf] [options]\n"
      "  -m, --model FILE        GGUF model (default: $TERN_MODEL, then models/default.gguf)\n"
      "  -p, --prompt TEXT       one-shot: answer TEXT and exit\n"
      "  -n, --n-predict N       max new tokens per answer (default 256; -1 or 0: until the end of text)\n"
      "      --system TEXT       system prompt\n"
      "      --raw               plain completion, no chat template (base models)\n"
      "      --template NAME     chat template: chatml llama2 llama3 mistral zephyr gemma tinyllama\n"
      "      --temp T            temperature (0 = greedy; default 0.8)\n"
      "      --top-k K  --top-p P  --min-p P\n"
      "      --repeat-penalty R  --frequency-penalty F  --presence-penalty P  --repeat-last-n N\n"
      "      --seed S            sampler seed (default 0)\n"
      "      --ctx N             context length in tokens (default: the model's); beacon: tokens expected\n"
      "      --kv SPEC           KV policy (README, Long context), one of\n"
      "                          %s\n"
      "                          (N: slots, default from --kv-budget or --ctx; S: sinks; R: raw tokens per\n"
      "                          beacon, W: raw tokens per chunk, both derived when left out; default dense)\n"
      "      --kv-budget BYTES   KV cache memory budget (suffixes K, M, G)\n"
      "      --kv-type TYPE      KV cache elements: f16 (default), f32 (exact, twice the memory) or q8_0 (0.53x)\n"
      "      --numerics NAME     default, or llamacpp: llama.cpp's CPU arithmetic (q8_0 activations for\n"
      "                          Q8_0/Q4_0 weights, ...; dense f16 cache, llama-style models only)\n"
      "      --rope-scaling none|linear|ntk|yarn|llama3   override the model's RoPE scaling\n"
      "      --rope-scale F  --rope-freq-base F  --rope-orig-ctx N\n"
      "      --verbose           print speed and memory after each answer\n"
      "In chat: /reset /stats /save FILE /load FILE /help /quit. Ctrl-C stops an answer.\n"
      "A message that cannot be answered (invalid UTF-8, a full context) is reported and the chat goes\n"
      "on; the exit status is then 1.\n",
      tern::tools::kv_spec_grammar().c_str());
}

bool parse_args(int argc, char** argv, Options& o) try {
  using tern::cli::float_option;
  using tern::cli::int_option;
  constexpr int64_t k_int_max = INT32_MAX;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tern-chat: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") { usage(); std::exit(0); }
    else if (a == "-m" || a == "--model") o.model = next();
    else if (a == "-p" || a == "--prompt") o.prompt = next();
    else if (a == "-n" || a == "--n-predict") o.n_predict = int_option(a, next(), -1, k_int_max);
    else if (a == "--system") o.system = next();
    else if (a == "--raw") o.raw = true;
    else if (a == "--template") o.chat_template = next();
    else if (a == "--temp") o.sampler.temperature = float_option(a, next(), 0, 1e6);
    else if (a == "--top-k") o.sampler.top_k = int_option(a, next(), 0, k_int_max);
    else if (a == "--top-p") o.sampler.top_p = float_option(a, next(), 0, 1);
    else if (a == "--min-p") o.sampler.min_p = float_option(a, next(), 0, 1);
    else if (a == "--repeat-penalty") o.sampler.repeat_penalty = float_option(a, next(), 1e-3, 1e3);
    else if (a == "--frequency-penalty") o.sampler.frequency_penalty = float_option(a, next(), -1e3, 1e3);
    else if (a == "--presence-penalty") o.sampler.presence_penalty = float_option(a, next(), -1e3, 1e3);
    else if (a == "--repeat-last-n") o.sampler.penalty_last_n = int_option(a, next(), -1, k_int_max);
    else if (a == "--seed") o.ctx.seed = tern::cli::u64_option(a, next());
    else if (a == "--ctx") o.ctx.n_ctx = int_option(a, next(), 0, k_int_max);
    else if (a == "--kv") o.kv = tern::tools::parse_kv_spec(next());
    else if (a == "--kv-budget") o.ctx.kv_budget_bytes = tern::cli::byte_size_option(a, next());
    else if (a == "--kv-policy" || a == "--kv-window" || a == "--kv-sinks" || a == "--beacon-ratio" ||
               a == "--beacon-window") {
      std::fprintf(stderr, "tern-chat: %s was replaced by --kv SPEC (%s)\n", a.c_str(),
                   tern::tools::kv_spec_grammar().c_str());
      return false;
    } else if (a == "--kv-type") {
      try {
        o.ctx.kv_type = tern::tools::parse_kv_type(next());
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "tern-chat: --kv-type: %s\n", e.what());
        return false;
      }
    } else if (a == "--numerics") {
      const std::string n = next();
      if (n == "default") o.ctx.numerics = TERN_NUMERICS_DEFAULT;
      else if (n == "llamacpp") o.ctx.numerics = TERN_NUMERICS_LLAMACPP;
      else { std::fprintf(stderr, "tern-chat: unknown numerics '%s' (default or llamacpp)\n", n.c_str()); return false; }
    } else if (a == "--rope-scaling") {
      const std::string r = next();
      if (r == "none") o.ctx.rope_scaling = TERN_ROPE_SCALING_NONE;
      else if (r == "linear") o.ctx.rope_scaling = TERN_ROPE_SCALING_LINEAR;
      else if (r == "ntk") o.ctx.rope_scaling = TERN_ROPE_SCALING_NTK;
      else if (r == "yarn") o.ctx.rope_scaling = TERN_ROPE_SCALING_YARN;
      else if (r == "llama3") o.ctx.rope_scaling = TERN_ROPE_SCALING_LLAMA3;
      else { std::fprintf(stderr, "tern-chat: unknown RoPE scaling '%s'\n", r.c_str()); return false; }
    // Any finite number: tern_context_create says which RoPE values are usable.
    } else if (a == "--rope-scale") o.ctx.rope_scale_factor = float_option(a, next(), -1e30, 1e30);
    else if (a == "--rope-freq-base") o.ctx.rope_freq_base = float_option(a, next(), -1e30, 1e30);
    else if (a == "--rope-orig-ctx") o.ctx.rope_original_ctx = int_option(a, next(), 0, k_int_max);
    else if (a == "--verbose") o.verbose = true;
    else { std::fprintf(stderr, "tern-chat: unknown option '%s' (see --help)\n", a.c_str()); return false; }
  }
  tern::tools::apply_kv_spec(o.kv, o.ctx);
  return true;
} catch (const std::invalid_argument& e) {
  std::fprintf(stderr, "tern-chat: %s\n", e.what());
  return false;
}

int progress_bar(float p, void*) {
  if (!tern::platform::is_terminal(stderr)) return 1;
  const int width = 40, filled = int(p * width);
  std::fprintf(stderr, "\rloading [%.*s%*s] %3d%%", filled, "########################################", width - filled, "",
               int(p * 100));
  if (p >= 1.f) std::fprintf(stderr, "\r%*s\r", width + 20, "");
  return 1;
}

int print_piece(const char* piece, size_t len, void*) {
  std::fwrite(piece, 1, len, stdout);
  std::fflush(stdout);
  return 1;
}

void print_stats(tern_context* ctx) {
  tern_context_stats s{};
  s.struct_size = sizeof(s);
  if (tern_context_get_stats(ctx, &s) != TERN_OK) return;
  std::fprintf(stderr,
               "[prompt %.0f tokens, %.1f tok/s | generation %.0f tokens, %.1f tok/s | %llu tokens consumed | KV %d/%d "
               "slots (%d sink, %d raw, %d beacon), %.1f MiB | context memory %.1f MiB]\n",
               s.prompt_tokens, s.prompt_ms > 0 ? s.prompt_tokens * 1000 / s.prompt_ms : 0.0, s.decode_tokens,
               s.decode_ms > 0 ? s.decode_tokens * 1000 / s.decode_ms : 0.0, (unsigned long long)s.tokens_consumed,
               s.kv_slots_used, s.kv_slots_capacity, s.kv_sink_slots, s.kv_raw_slots, s.kv_beacon_slots,
               double(s.kv_bytes) / 1048576.0, double(s.device_bytes) / 1048576.0);
  // Models with sliding-window layers: the policy's slots above are the global layers'; each
  // sliding-window layer keeps its own ring of the last W positions.
  if (s.kv_sliding_layers > 0)
    std::fprintf(stderr, "[KV per layer kind: %d global layers %.1f MiB | %d sliding-window layers %d/%d slots each %.1f MiB]\n",
                 s.kv_global_layers, double(s.kv_global_bytes) / 1048576.0, s.kv_sliding_layers,
                 s.kv_sliding_slots_used, s.kv_sliding_slots_capacity, double(s.kv_sliding_bytes) / 1048576.0);
}

int check(tern_status s, const char* what) {
  if (s == TERN_OK) return 0;
  std::fprintf(stderr, "tern-chat: %s: %s (%s)\n", what, tern_last_error(), tern_status_string(s));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  tern::platform::init_console();
  const std::vector<std::string> args = tern::platform::utf8_arguments(argc, argv);  // UTF-8 on every OS
  std::vector<char*> arg_ptrs;
  for (const auto& a : args) arg_ptrs.push_back(const_cast<char*>(a.c_str()));
  Options o;
  if (!parse_args(int(arg_ptrs.size()), arg_ptrs.data(), o)) return 2;
  if (o.model.empty()) {
    if (const auto env = tern::env_string("TERN_MODEL")) o.model = *env;
    else if (tern::platform::file_readable("models/default.gguf")) o.model = "models/default.gguf";
    else {
      std::fprintf(stderr,
                   "tern-chat: no model given. Run scripts/chat.sh (converts ../shared/models/stories260K.bin), "
                   "or pass any llama/qwen2 GGUF file: tern-chat -m path/to/model.gguf (or set TERN_MODEL).\n");
      return 2;
    }
  }
  tern_model_params mp = tern_model_default_params();
  mp.progress = progress_bar;
  tern_model* model = nullptr;
  if (check(tern_model_load(o.model.c_str(), &mp, &model), "loading the model")) return 1;
  tern_model_info info{};
  info.struct_size = sizeof(info);
  tern_model_get_info(model, &info);
  if (!o.raw && o.chat_template.empty() && std::strcmp(tern_chat_template_name(model), "none") == 0) {
    o.raw = true;  // a base model: plain completion is the only thing that makes sense
    std::fprintf(stderr, "(model has no chat template: plain completion mode; use --template NAME to force one)\n");
  }
  std::fprintf(stderr, "%s: %s, %d layers, %.1f M params, %.1f MiB on %s (%s)\n", info.name, info.architecture,
               info.n_layer, double(info.n_params) / 1e6, double(info.weight_bytes) / 1048576.0, info.device_name,
               info.weight_types);
  if (info.beacon_settings)
    std::fprintf(stderr, "beacon settings: %s; %s\n", info.beacon_settings,
                 info.has_beacon_weights ? "beacon weights trained" : "no beacon weights (training-free)");
  else if (info.has_beacon_weights)
    std::fprintf(stderr, "beacon weights trained (no beacon settings in the file)\n");

  tern_context* ctx = nullptr;
  if (check(tern_context_create(model, &o.ctx, &ctx), "creating the context")) {
    tern_model_free(model);
    return 1;
  }
  g_ctx = ctx;
  tern::platform::on_interrupt(on_interrupt);

  std::vector<std::string> roles, contents;  // chat history
  if (!o.system.empty()) {
    roles.push_back("system");
    contents.push_back(o.system);
  }
  std::string fed;  // the rendered conversation text already in the context
  // One turn; a failed turn is undone (its message dropped, the context as it was or reset)
  // and reported, so the conversation goes on.
  auto answer = [&](const std::string& user) -> int {
    const size_t n_messages = roles.size();
    const std::string fed_before = fed;
    std::string prompt;
    if (o.raw) {
      prompt = user;
    } else {
      roles.push_back("user");
      contents.push_back(user);
      std::vector<tern_chat_message> msgs;
      for (size_t i = 0; i < roles.size(); ++i) msgs.push_back({roles[i].c_str(), contents[i].c_str()});
      size_t needed = 0;
      const char* tmpl = o.chat_template.empty() ? nullptr : o.chat_template.c_str();
      tern_chat_apply_template(model, tmpl, msgs.data(), msgs.size(), 1, nullptr, 0, &needed);
      std::string buf(needed, '\0');
      if (check(tern_chat_apply_template(model, tmpl, msgs.data(), msgs.size(), 1, buf.data(), buf.size(), &needed),
                "applying the chat template")) {
        roles.resize(n_messages);
        contents.resize(n_messages);
        return 1;
      }
      buf.resize(needed - 1);
      if (buf.rfind(fed, 0) == 0) {
        prompt = buf.substr(fed.size());  // only what is new since the last turn
      } else {  // history diverged (e.g. after /load): start over
        tern_context_reset(ctx);
        prompt = buf;
      }
      fed = buf;
    }
    tern_generate_params gp = tern_generate_default_params();
    gp.sampler = o.sampler;
    gp.max_tokens = o.n_predict;
    if (o.raw) std::fputs(user.c_str(), stdout);
    std::string reply;
    auto collect = [](const char* piece, size_t len, void* ud) -> int {
      static_cast<std::string*>(ud)->append(piece, len);
      return print_piece(piece, len, nullptr);
    };
    int32_t n = 0;
    g_interrupted = 0;
    const tern_status s = tern_generate(ctx, prompt.c_str(), &gp, collect, &reply, &n);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (s == TERN_ERR_CANCELLED) {
      std::fprintf(stderr, "[stopped]\n");
    } else if (s != TERN_OK) {
      check(s, "generating");
      roles.resize(n_messages);
      contents.resize(n_messages);
      if (s == TERN_ERR_INVALID_UTF8 || s == TERN_ERR_CONTEXT_FULL) {
        fed = fed_before;  // refused before anything was fed: the context is as it was
      } else {
        tern_context_reset(ctx);  // whatever was fed is unknown: the next turn starts over
        fed.clear();
      }
      if (s == TERN_ERR_CONTEXT_FULL)
        std::fprintf(stderr, "(the conversation no longer fits the context: /reset starts over; /save FILE keeps it first)\n");
      else
        std::fprintf(stderr, "(that message was not answered; the conversation goes on)\n");
      return 1;
    }
    if (!o.raw) {
      roles.push_back("assistant");
      contents.push_back(reply);
      fed += reply;  // the turn's closing marker is fed with the next prompt
    }
    if (o.verbose) print_stats(ctx);
    return 0;
  };

  int rc = 0;  // 1 when a turn failed (the session still goes on to the end of its input)
  if (!o.prompt.empty()) {
    rc = answer(o.prompt);
    if (o.verbose) print_stats(ctx);
  } else {
    const bool tty = tern::platform::is_terminal(stdin);
    if (tty) std::fprintf(stderr, "Type a message (/help for commands, Ctrl-D to quit).\n");
    std::string line;
    while (true) {
      if (tty) std::fputs("> ", stdout), std::fflush(stdout);
      if (!tern::platform::read_line(line)) break;
      if (line.empty()) continue;
      if (line == "/quit" || line == "/exit") break;
      if (line == "/help") {
        std::printf("/reset  forget the conversation\n/stats  speed and memory\n/save FILE  save the context\n"
                    "/load FILE  restore a saved context\n/quit   leave\n");
        continue;
      }
      if (line == "/reset") {
        tern_context_reset(ctx);
        roles.resize(o.system.empty() ? 0 : 1);
        contents.resize(roles.size());
        fed.clear();
        std::printf("(conversation reset)\n");
        continue;
      }
      if (line == "/stats") {
        print_stats(ctx);
        continue;
      }
      if (line.rfind("/save ", 0) == 0) {
        if (!check(tern_state_save_file(ctx, line.substr(6).c_str()), "saving")) std::printf("(saved)\n");
        continue;
      }
      if (line.rfind("/load ", 0) == 0) {
        if (!check(tern_state_load_file(ctx, line.substr(6).c_str()), "loading")) {
          fed.clear();  // the restored tokens are opaque to the chat history kept here
          std::printf("(loaded)\n");
        }
        continue;
      }
      if (answer(line)) rc = 1;
    }
    print_stats(ctx);
  }
  tern::platform::on_interrupt(nullptr);  // no handler may reach the context once it is freed
  g_ctx = nullptr;
  tern_context_free(ctx);
  tern_model_free(model);
  return rc;
}

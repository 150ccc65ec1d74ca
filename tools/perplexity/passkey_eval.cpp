#include "perplexity/passkey_eval.h"

#include <algorithm>
#include <stdexcept>

#include "perplexity/context_setup.h"
#include "perplexity/passkey_prompt.h"

namespace tern::ppl {

std::vector<tern_token> tokenize(const tern_model* model, const std::string& text, bool add_bos) {
  size_t n = 0;
  tern_status st = tern_tokenize(model, text.data(), text.size(), add_bos, 0, nullptr, 0, &n);
  if (st != TERN_OK && st != TERN_ERR_BUFFER_TOO_SMALL) throw std::runtime_error("tokenize: " + api_error(st));
  std::vector<tern_token> tokens(n);
  st = tern_tokenize(model, text.data(), text.size(), add_bos, 0, tokens.data(), tokens.size(), &n);
  if (st != TERN_OK) throw std::runtime_error("tokenize: " + api_error(st));
  tokens.resize(n);
  return tokens;
}

namespace {

std::string detokenize(const tern_model* model, const std::vector<tern_token>& tokens) {
  size_t n = 0;
  tern_status st = tern_detokenize(model, tokens.data(), tokens.size(), 0, nullptr, 0, &n);
  if (st != TERN_OK && st != TERN_ERR_BUFFER_TOO_SMALL) throw std::runtime_error("detokenize: " + api_error(st));
  std::string text(n + 1, '\0');  // room for a terminator, in case the API writes one
  st = tern_detokenize(model, tokens.data(), tokens.size(), 0, text.data(), text.size(), &n);
  if (st != TERN_OK) throw std::runtime_error("detokenize: " + api_error(st));
  text.resize(n);
  return text;
}

}  // namespace

uint32_t filler_count_for(const tern_model* model, int32_t length, const Needle& needle, const Filler& filler,
                          double depth) {
  auto fits = [&](uint32_t n) {
    return tokenize(model, needle_prompt(needle, filler, n, depth), true).size() <= size_t(length);
  };
  if (!fits(0)) return 0;
  // Grow an upper bound, then bisect with lo fitting and hi not: a prompt grows with its
  // filler, so this ends at a count that fits whose successor does not. Every sentence holds a
  // character, so more sentences than length x 4 never fit; the cap only bounds the search.
  const uint64_t cap = uint64_t(length) * 4 + 4;
  uint32_t lo = 0, hi = 1;
  while (fits(hi)) {
    lo = hi;
    if (hi > cap) return lo;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const uint32_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

PasskeyResult run_passkey(tern_model* model, const tern_context_params& params, const std::string& label,
                          const PasskeyConfig& cfg) {
  PasskeyResult r;
  r.label = label;
  tern_context* ctx = nullptr;
  tern_status st = tern_context_create(model, &params, &ctx);
  if (st != TERN_OK) {
    r.error = "cannot create the context: " + api_error(st);
    return r;
  }
  r.ok = true;
  tern_sampler_params greedy = tern_sampler_default_params();
  greedy.temperature = 0;
  greedy.repeat_penalty = 1;
  greedy.frequency_penalty = 0;
  greedy.presence_penalty = 0;
  uint64_t trial_seed = cfg.seed;
  for (int32_t length : cfg.lengths) {
    for (double depth : cfg.depths) {
      PasskeyCell cell;
      cell.length = length;
      cell.depth = depth;
      for (int32_t t = 0; t < cfg.trials; ++t) {
        ++cell.trials;
        PasskeyTrial run;
        const Needle needle = needle_from_seed(cfg.needle, trial_seed++);
        run.needle = needle.value;
        const std::string text =
            needle_prompt(needle, cfg.filler, filler_count_for(model, length, needle, cfg.filler, depth), depth);
        const std::vector<tern_token> prompt = tokenize(model, text, true);
        run.prompt_tokens = cell.prompt_tokens = int32_t(prompt.size());
        if (cell.prompt_tokens > length)
          cell.note = "the shortest prompt is " + std::to_string(cell.prompt_tokens) + " tokens";
        st = tern_context_reset(ctx);
        if (st == TERN_OK) st = tern_eval(ctx, prompt.data(), prompt.size());
        std::vector<tern_token> answer;
        for (int32_t g = 0; st == TERN_OK && g < cfg.gen_tokens; ++g) {
          tern_token tok = 0;
          st = tern_sample(ctx, &greedy, &tok);
          if (st != TERN_OK || tern_token_is_eog(model, tok)) break;
          answer.push_back(tok);
          if (g + 1 < cfg.gen_tokens) st = tern_eval(ctx, &tok, 1);
        }
        if (st != TERN_OK) {
          ++cell.skipped;
          run.skipped = true;
          run.note = cell.note = api_error(st);
        } else {
          run.answer = cell.last_answer = detokenize(model, answer);
          run.correct = answer_has_needle(run.answer, needle);
          cell.correct += run.correct ? 1 : 0;
        }
        cell.runs.push_back(std::move(run));
      }
      r.cells.push_back(cell);
    }
  }
  tern_context_free(ctx);
  return r;
}

}  // namespace tern::ppl

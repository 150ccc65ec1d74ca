#include "api/context.h"

#include <chrono>
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "common/options.h"
#include "common/error.h"
#include "kv/kv_budget.h"
#include "kv/kv_layout.h"
#include "quant/model_limits.h"
#include "ops/top_k.h"

namespace tern {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Length of the longest suffix of text that is a proper prefix of some stop string.
size_t held_back(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops)
    for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k)
      if (text.substr(text.size() - k) == std::string_view(s).substr(0, k)) {
        hold = k;
        break;
      }
  return hold;
}

}  // namespace

Context::Context(std::shared_ptr<const Model> model, const ContextParams& params)
    : model_(std::move(model)), params_(params), sampler_(params.seed) {
  const ModelConfig& c = model_->config();
  check(params.n_batch > 0, Status::InvalidArgument, "n_batch must be positive");
  const bool dense = params.kv.kind == KvPolicyKind::Dense;
  check(!params.numerics.any() || dense, Status::Unsupported,
        "llama.cpp numerics need the dense KV policy (keys are stored rotated)");
  KvRequest req = params.kv;
  req.file_beacon = &model_->beacon_settings();
  // Global layers follow the policy; sliding-window layers keep a ring of their last W text
  // positions (W + n_batch - 1 slots, fewer for a shorter dense context), whatever the policy.
  KvLayerShape shape;
  shape.n_sliding = c.n_sliding_layers();
  shape.n_global = c.n_layer - shape.n_sliding;
  shape.window = c.swa_window;
  shape.row_bytes = KvCache::row_bytes(c.kv_dim(), params.kv_type);
  const KvPlan plan = plan_kv(req, c.n_ctx_train, shape, std::max(2u, params.n_batch));
  const KvPolicyConfig& kc = plan.global;
  policy_ = std::make_unique<KvPolicy>(kc);
  std::vector<uint32_t> layer_slots(c.n_layer, kc.slots);
  if (plan.sliding_slots) {
    ring_ = std::make_unique<SlidingWindowCache>(std::min(c.swa_window, plan.sliding_slots), plan.sliding_slots);
    for (uint32_t l = 0; l < c.n_layer; ++l)
      if (c.sliding(l)) layer_slots[l] = plan.sliding_slots;
  }
  kv_ = std::make_unique<KvCache>(model_->device(), layer_slots, c.kv_dim(), params.kv_type);
  const EnvOptions env = read_env_options();
  ForwardOptions fo;
  fo.fusion = params.fusion.value_or(env.fusion.value_or(true));
  fo.norm_fusion = params.norm_fusion ? params.norm_fusion : env.norm_fusion;  // then the device's default
  fo.numerics = params.numerics;
  fo.keys = key_storage_for(kc.kind, params.kv_type);
  if (fo.keys == KeyStorage::Shifted && !params.shifted_keys.value_or(env.shifted_keys.value_or(true)))
    fo.keys = KeyStorage::PreRope;
  fo.sinks = kc.sinks;
  fo.max_logit_rows = 1;  // each step asks logits for its last row only (Context::eval)
  fo.sliding = ring_.get();
  if (params.rope_scaling || params.rope_freq_base > 0.f) {
    // The model's table with the context's overrides (Llama-3 per-pair factors still apply).
    const tern::RopeScaling scaling = params.rope_scaling.value_or(c.rope_scaling);
    const float base = params.rope_freq_base > 0.f ? params.rope_freq_base : c.rope_base;
    Rotary::Table& t = fo.rope.emplace();
    t.freqs = tern::rope_freqs(int(c.n_rot), base, scaling, &t.attn_factor);
    for (size_t i = 0; i < model_->rope_freq_factors().size(); ++i) t.freqs[i] /= model_->rope_freq_factors()[i];
    limits::check_rope_table(t.freqs, t.attn_factor, Status::InvalidArgument, "the context's RoPE overrides");
  }
  // A beacon step may be a token and its beacon, so every forward takes at least two rows.
  const uint32_t max_rows = std::max(2u, std::min(params.n_batch, kc.slots));
  forward_ = std::make_unique<Forward>(model_, *kv_, max_rows, fo);
  forward_->recorder().set_profiling(params.profile);
  gpu_sampling_ = params.gpu_sampling.value_or(env.gpu_sampling.value_or(true));
}

std::span<const float> Context::logits() const {
  if (has_logits_ && !logits_on_host_) {
    forward_->read_logits(last_logits_);
    logits_on_host_ = true;
  }
  return last_logits_;
}

void Context::logits_on_device(uint32_t selected_k) {
  has_logits_ = true;
  logits_on_host_ = false;
  last_logits_.clear();
  selected_k_ = selected_k;
}

void Context::expect_sampling(const SamplerParams& p) {
  const uint32_t need = best_needed(p, model_->config().n_vocab);
  select_k_ = need <= ops::k_top_k_max ? need : 0;
}

int32_t Context::sample(const SamplerParams& p) {
  check(has_logits_, Status::InvalidArgument, "no logits yet: evaluate tokens first");
  expect_sampling(p);  // select_k_: the best entries these settings need, 0 when the GPU cannot give them
  if (!gpu_sampling_ || select_k_ == 0 || selected_k_ < select_k_) return sampler_.sample(logits(), p);
  const auto& sel = forward_->selected();
  // An argmax of -1: a row of nothing but NaN. The logits are read so the sampler says so.
  if (selected_k_ == 1 && sel[0].id < 0) return sampler_.sample(logits(), p);
  if (selected_k_ == 1) {  // the argmax: greedy, no draw
    sampler_.accept(sel[0].id);
    return sel[0].id;
  }
  std::vector<Candidate> best(selected_k_);
  for (uint32_t j = 0; j < selected_k_; ++j) best[j] = {sel[j].id, sel[j].logit, 0.f};
  return sampler_.sample_best(best, p);
}

void Context::reset() {
  policy_->reset();
  if (ring_) ring_->reset();
  history_.clear();
  has_logits_ = false;
  logits_on_host_ = true;
  last_logits_.clear();
  selected_k_ = 0;
  sampler_.clear_history();
  stats_ = {};
  cancel_ = false;
}

void Context::check_cancel() {
  if (cancel_.exchange(false)) throw Error(Status::Cancelled, "cancelled");
}

void Context::check_tokens(std::span<const int32_t> tokens) const {
  check(!tokens.empty(), Status::InvalidArgument, "no tokens to evaluate");
  check(tokens.size() <= policy_->room(), Status::ContextFull, [&] {
    return std::to_string(tokens.size()) + " tokens do not fit: " + std::to_string(policy_->usage().used()) + " of " +
           std::to_string(n_ctx()) + " context slots are used";
  });
  for (int32_t t : tokens)
    check(t >= 0 && uint32_t(t) < model_->config().n_vocab, Status::InvalidArgument,
          [&] { return "token id " + std::to_string(t) + " is outside the vocabulary"; });
}

void Context::rebase_keys_if_due() {
  if (!policy_->wants_rebase()) return;
  forward_->rebase_keys(policy_->slot_positions(), policy_->key_offset());
  policy_->rebase_keys();
}

KvStep Context::plan_step(size_t remaining) const {
  uint32_t avail = uint32_t(std::min<size_t>(params_.n_batch, remaining));
  // A step ends where the sliding-window ring wraps: its rows then go to consecutive slots.
  if (ring_) avail = std::min(avail, ring_->slots() - uint32_t(ring_->consumed() % ring_->slots()));
  return policy_->plan(avail, forward_->max_batch());
}

void Context::commit_step(const KvStep& step) {
  policy_->commit(step);
  if (ring_) ring_->commit(uint32_t(step.rows.size()));
}

void Context::eval(std::span<const int32_t> tokens) {
  check_tokens(tokens);
  const auto start = Clock::now();
  size_t done = 0;
  while (done < tokens.size()) {
    check_cancel();
    rebase_keys_if_due();
    const KvStep step = plan_step(tokens.size() - done);
    const size_t next = done + step.n_raw;
    // Only the last step's logits are sampled from.
    const uint32_t select = gpu_sampling_ && next == tokens.size() ? select_k_ : 0;
    forward_->run(step, tokens.subspan(done, step.n_raw), LogitRows::Last, select);
    logits_on_device(select);
    commit_step(step);
    history_.insert(history_.end(), tokens.begin() + std::ptrdiff_t(done), tokens.begin() + std::ptrdiff_t(next));
    done = next;
  }
  if (!gpu_sampling_) logits();  // the path before GPU sampling: every eval reads them back
  const double ms = ms_since(start);
  if (tokens.size() == 1) {
    stats_.decode_ms += ms;
    stats_.decode_tokens += 1;
  } else {
    stats_.prompt_ms += ms;
    stats_.prompt_tokens += double(tokens.size());
  }
  stats_.tokens_consumed += tokens.size();
}

int32_t Context::generate(std::string_view prompt, const GenerateParams& gp,
                          const std::function<bool(std::string_view)>& on_piece, int32_t* produced_out) {
  cancel_ = false;  // a cancel meant for an earlier call (e.g. Ctrl-C at a prompt) must not stop this one
  int32_t produced_local = 0;
  int32_t& produced = produced_out ? *produced_out : produced_local;
  produced = 0;
  const Tokenizer& tok = model_->tokenizer();
  // A prompt that cannot fit is refused before it is tokenized: no token covers more than the
  // vocabulary's longest piece, so it needs at least this many.
  const uint64_t at_least = tok.min_tokens(prompt.size());
  check(at_least <= policy_->room(), Status::ContextFull, [&] {
    return "the prompt (" + std::to_string(prompt.size()) + " bytes, at least " + std::to_string(at_least) +
           " tokens) does not fit: " + std::to_string(policy_->room()) + " of " + std::to_string(n_ctx()) +
           " context slots are free";
  });
  auto ids = tok.encode(prompt, gp.add_bos && history_.empty() && tok.vocab().add_bos, gp.parse_special);
  expect_sampling(gp.sampler);
  if (!ids.empty()) {
    for (int32_t t : ids) sampler_.accept(t);
    eval(ids);
  }
  check(has_logits_, Status::InvalidArgument, "nothing to continue from: the prompt is empty");
  Utf8Stream utf8;
  std::string pending;  // text held back while it may be the start of a stop string
  bool stop = false;
  auto emit = [&](std::string text, bool final) {
    pending += text;
    for (const auto& s : gp.stop) {
      if (s.empty()) continue;
      const size_t at = pending.find(s);
      if (at != std::string::npos) {
        if (at > 0) on_piece(std::string_view(pending).substr(0, at));  // stopping anyway
        pending.clear();
        stop = true;
        return;
      }
    }
    const size_t hold = final ? 0 : held_back(pending, gp.stop);
    if (pending.size() > hold) {
      if (!on_piece(std::string_view(pending).substr(0, pending.size() - hold))) stop = true;
      pending.erase(0, pending.size() - hold);
    }
  };
  while (!stop && (gp.max_tokens <= 0 || produced < gp.max_tokens)) {
    const int32_t t = sample(gp.sampler);
    ++produced;
    if (tok.is_eog(t)) break;
    emit(utf8.push(tok.token_text(t)), false);
    if (stop) break;
    if (policy_->room() == 0) break;  // dense cache full: stop cleanly
    eval(std::span<const int32_t>(&t, 1));
  }
  if (!stop) emit(utf8.flush(), true);
  return produced;
}

ContextStats Context::stats() const {
  ContextStats s = stats_;
  s.kv_usage = policy_->usage();
  s.kv_slots_used = s.kv_usage.used();
  s.kv_slots_capacity = s.kv_usage.capacity;
  s.kv_bytes = kv_->bytes();
  s.device_bytes = kv_->bytes() + forward_->device_bytes();
  s.kv_global.slots_used = s.kv_slots_used;
  s.kv_global.slots_capacity = s.kv_slots_capacity;
  if (ring_) {
    s.kv_sliding.slots_used = ring_->used();
    s.kv_sliding.slots_capacity = ring_->slots();
  }
  for (uint32_t l = 0; l < kv_->n_layer(); ++l) {
    KvLayerKindStats& k = ring_ && model_->config().sliding(l) ? s.kv_sliding : s.kv_global;
    k.layers += 1;
    k.bytes += uint64_t(kv_->slots(l)) * kv_->row_bytes() * 2;  // K and V
  }
  return s;
}

StateTarget Context::state_target() const {
  const ModelConfig& c = model_->config();
  StateTarget t;
  t.fingerprint = model_->fingerprint();
  t.n_layer = c.n_layer;
  t.n_vocab = c.n_vocab;
  t.kv_type = uint32_t(kv_->dtype());
  t.key_storage = uint32_t(forward_->key_storage());
  t.row_elems = kv_->row_elems();
  t.row_bytes = kv_->row_bytes();
  t.policy = policy_->config();
  if (ring_) {
    t.sliding.resize(c.n_layer);
    for (uint32_t l = 0; l < c.n_layer; ++l) t.sliding[l] = c.sliding(l) ? 1 : 0;
    t.ring_slots = ring_->slots();
    t.ring_words = ring_->save().size();
  }
  return t;
}

std::vector<uint8_t> Context::save_state() const {
  check(!params_.numerics.any(), Status::Unsupported,
        "saved states are not supported with llama.cpp numerics (its cache holds keys rotated by ggml's arithmetic)");
  const StateTarget t = state_target();
  const uint32_t n_kv = policy_->n_kv();
  auto& alloc = model_->device().allocator();
  const std::vector<uint32_t> ring = ring_ ? ring_->save() : std::vector<uint32_t>{};
  return encode_state(t, history_, logits(), policy_->save(), ring, n_kv, [&](uint32_t layer, bool v, uint8_t* dst) {
    alloc.read(v ? kv_->v(layer) : kv_->k(layer), 0, dst, uint64_t(t.rows(layer, n_kv)) * t.row_bytes);
  });
}

void Context::load_state(std::span<const uint8_t> data) {
  check(!params_.numerics.any(), Status::Unsupported,
        "saved states are not supported with llama.cpp numerics (its cache holds keys rotated by ggml's arithmetic)");
  // Everything is validated before anything of this context changes.
  const StateTarget t = state_target();
  DecodedState st = decode_state(data, t);
  std::optional<SlidingWindowCache> ring;
  if (ring_) {
    ring.emplace(*ring_);
    ring->restore(st.ring);
  }
  reset();
  *policy_ = st.policy;
  if (ring) *ring_ = *ring;
  history_ = std::move(st.history);
  last_logits_ = std::move(st.logits);
  has_logits_ = !last_logits_.empty();
  auto& alloc = model_->device().allocator();
  const uint8_t* p = st.kv;
  for (uint32_t l = 0; l < t.n_layer; ++l) {
    const uint64_t bytes = uint64_t(t.rows(l, st.n_kv)) * t.row_bytes;
    if (!bytes) continue;
    alloc.write(kv_->k(l), 0, p, bytes);
    p += bytes;
    alloc.write(kv_->v(l), 0, p, bytes);
    p += bytes;
  }
  for (int32_t id : history_) sampler_.accept(id);
  stats_.tokens_consumed = history_.size();
}

}  // namespace tern

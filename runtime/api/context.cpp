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
#include "ops/top_k.h"

namespace tern {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr char k_state_magic[8] = {'T', 'E', 'R', 'N', 'S', 'T', 'A', 'T'};
// Version 4: any KV policy (its bookkeeping follows the logits); keys as the context's Forward
// stores them: rotated for a dense f16/f32 cache (KeyStorage::Rotated), else before RoPE. States
// of other versions cannot be loaded (3 held a dense cache's keys before RoPE). A model with
// sliding-window layers adds its ring's words after the policy's (SlidingWindowCache::save) and
// saves every ring slot of those layers (n_kv rows of the global layers).
constexpr uint32_t k_state_version = 4;

struct StateHeader {
  char magic[8];
  uint32_t version;
  uint32_t n_layer;
  uint64_t fingerprint;
  uint32_t kv_type;  // GgmlType of the cache rows
  uint32_t row_elems;
  uint32_t policy, slots, sinks, beacon_window, beacon_ratio;
  uint32_t n_kv;       // cache rows saved per layer (slots 0..n_kv-1)
  uint64_t n_history;
  uint64_t n_logits;
  uint64_t n_policy_words;
};

std::string kv_type_label(uint32_t t) {
  if (t == uint32_t(GgmlType::F16)) return "f16";
  if (t == uint32_t(GgmlType::F32)) return "f32";
  if (t == uint32_t(GgmlType::Q8_0)) return "q8_0";
  // Built with append: GCC 12 at -O3 gives a false -Wrestrict for "literal" + std::string.
  std::string label = "type ";
  label.append(std::to_string(t)).append(" (unknown)");
  return label;
}

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
  fo.keys = key_storage_for(dense, params.kv_type);
  fo.max_logit_rows = 1;  // each step asks logits for its last row only (Context::eval)
  fo.sliding = ring_.get();
  if (params.rope_scaling || params.rope_freq_base > 0.f) {
    // The model's table with the context's overrides (Llama-3 per-pair factors still apply).
    const tern::RopeScaling scaling = params.rope_scaling.value_or(c.rope_scaling);
    const float base = params.rope_freq_base > 0.f ? params.rope_freq_base : c.rope_base;
    Rotary::Table& t = fo.rope.emplace();
    t.freqs = tern::rope_freqs(int(c.n_rot), base, scaling, &t.attn_factor);
    for (size_t i = 0; i < model_->rope_freq_factors().size(); ++i) t.freqs[i] /= model_->rope_freq_factors()[i];
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
  check(tokens.size() <= policy_->room(), Status::ContextFull,
        std::to_string(tokens.size()) + " tokens do not fit: " + std::to_string(policy_->usage().used()) + " of " +
            std::to_string(n_ctx()) + " context slots are used");
  for (int32_t t : tokens)
    check(t >= 0 && uint32_t(t) < model_->config().n_vocab, Status::InvalidArgument,
          "token id " + std::to_string(t) + " is outside the vocabulary");
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

int32_t Context::generate(const std::string& prompt, const GenerateParams& gp,
                          const std::function<bool(std::string_view)>& on_piece) {
  cancel_ = false;  // a cancel meant for an earlier call (e.g. Ctrl-C at a prompt) must not stop this one
  const Tokenizer& tok = model_->tokenizer();
  auto ids = tok.encode(prompt, gp.add_bos && history_.empty() && tok.vocab().add_bos, gp.parse_special);
  expect_sampling(gp.sampler);
  if (!ids.empty()) {
    for (int32_t t : ids) sampler_.accept(t);
    eval(ids);
  }
  check(has_logits_, Status::InvalidArgument, "nothing to continue from: the prompt is empty");
  Utf8Stream utf8;
  std::string pending;  // text held back while it may be the start of a stop string
  int32_t produced = 0;
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

uint32_t Context::state_rows(uint32_t layer, uint32_t n_kv) const {
  return ring_ && model_->config().sliding(layer) ? ring_->slots() : n_kv;
}

uint64_t Context::state_kv_bytes(uint32_t n_kv) const {
  uint64_t rows = 0;
  for (uint32_t l = 0; l < model_->config().n_layer; ++l) rows += state_rows(l, n_kv);
  return rows * kv_->row_bytes();  // K or V
}

std::vector<uint8_t> Context::save_state() const {
  check(!params_.numerics.any(), Status::Unsupported,
        "saved states are not supported with llama.cpp numerics (its cache holds keys rotated by ggml's arithmetic)");
  const ModelConfig& c = model_->config();
  const KvPolicyConfig& kc = policy_->config();
  std::vector<uint32_t> words = policy_->save();
  const std::span<const float> last_logits = logits();
  StateHeader h{};
  std::memcpy(h.magic, k_state_magic, 8);
  h.version = k_state_version;
  h.n_layer = c.n_layer;
  h.fingerprint = model_->fingerprint();
  h.kv_type = uint32_t(kv_->dtype());
  h.row_elems = kv_->row_elems();
  h.policy = uint32_t(kc.kind);
  h.slots = kc.slots;
  h.sinks = kc.sinks;
  h.beacon_window = kc.beacon_window;
  h.beacon_ratio = kc.beacon_ratio;
  h.n_kv = policy_->n_kv();
  h.n_history = history_.size();
  h.n_logits = last_logits.size();
  h.n_policy_words = words.size();
  if (ring_) {
    const auto ring = ring_->save();
    words.insert(words.end(), ring.begin(), ring.end());
  }
  const uint64_t kv_bytes = state_kv_bytes(h.n_kv);
  std::vector<uint8_t> out(sizeof(h) + h.n_history * 4 + h.n_logits * 4 + words.size() * 4 + 2 * kv_bytes);
  uint8_t* p = out.data();
  auto put = [&](const void* src, size_t bytes) {
    if (bytes) std::memcpy(p, src, bytes);
    p += bytes;
  };
  put(&h, sizeof(h));
  put(history_.data(), h.n_history * 4);
  put(last_logits.data(), h.n_logits * 4);
  put(words.data(), words.size() * 4);
  auto& alloc = model_->device().allocator();
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const uint64_t bytes = uint64_t(state_rows(l, h.n_kv)) * kv_->row_bytes();
    if (!bytes) continue;
    alloc.read(kv_->k(l), 0, p, bytes);
    p += bytes;
    alloc.read(kv_->v(l), 0, p, bytes);
    p += bytes;
  }
  return out;
}

void Context::load_state(std::span<const uint8_t> data) {
  check(!params_.numerics.any(), Status::Unsupported,
        "saved states are not supported with llama.cpp numerics (its cache holds keys rotated by ggml's arithmetic)");
  const ModelConfig& c = model_->config();
  const KvPolicyConfig& kc = policy_->config();
  StateHeader h{};
  check(data.size() >= 12, Status::StateMismatch, "state is too short to hold a header");
  std::memcpy(&h, data.data(), 12);
  check(std::memcmp(h.magic, k_state_magic, 8) == 0, Status::StateMismatch, "not a Tern state (bad magic)");
  check(h.version == k_state_version, Status::StateMismatch,
        "state format version " + std::to_string(h.version) + " is not " + std::to_string(k_state_version) +
            (h.version < k_state_version ? " (the format changed; create the state again)" : ""));
  check(data.size() >= sizeof(h), Status::StateMismatch, "state is too short to hold a header");
  std::memcpy(&h, data.data(), sizeof(h));
  check(h.fingerprint == model_->fingerprint() && h.n_layer == c.n_layer && h.row_elems == kv_->row_elems(),
        Status::StateMismatch, "state was saved with a different model");
  check(h.kv_type == uint32_t(kv_->dtype()), Status::StateMismatch,
        "state holds a KV cache of type " + kv_type_label(h.kv_type) + " but this context's cache is " +
            kv_type_label(uint32_t(kv_->dtype())));
  check(h.policy == uint32_t(kc.kind) && h.slots == kc.slots && h.sinks == kc.sinks &&
            h.beacon_window == kc.beacon_window && h.beacon_ratio == kc.beacon_ratio,
        Status::StateMismatch, "state was saved with another KV policy or size than this context's (" + describe(kc) + ")");
  check(h.n_kv <= kc.slots, Status::StateMismatch, "state holds more cache rows than this context has");
  check(h.n_logits == 0 || h.n_logits == c.n_vocab, Status::StateMismatch, "state logits have the wrong size");
  check(h.n_history <= (1ull << 32) && h.n_policy_words <= 4ull * kc.slots + 16, Status::StateMismatch,
        "state lengths are absurd");
  const uint64_t ring_words = ring_ ? ring_->save().size() : 0;
  const uint64_t kv_bytes = state_kv_bytes(h.n_kv);
  const uint64_t need =
      sizeof(h) + h.n_history * 4 + h.n_logits * 4 + (h.n_policy_words + ring_words) * 4 + 2 * kv_bytes;
  check(data.size() == need, Status::StateMismatch, "state size does not match its header");
  const uint8_t* p = data.data() + sizeof(h);
  std::vector<uint32_t> words(h.n_policy_words);
  std::vector<int32_t> history(h.n_history);
  std::vector<float> logits(h.n_logits);
  auto get = [&](void* dst, size_t bytes) {
    if (bytes) std::memcpy(dst, p, bytes);
    p += bytes;
  };
  get(history.data(), h.n_history * 4);
  get(logits.data(), h.n_logits * 4);
  get(words.data(), h.n_policy_words * 4);
  std::vector<uint32_t> ring_state(ring_words);
  get(ring_state.data(), ring_words * 4);
  KvPolicy restored(kc);
  restored.restore(words);  // validates before anything of this context changes
  check(restored.n_kv() <= h.n_kv, Status::StateMismatch, "state's policy uses cache rows it did not save");
  std::optional<SlidingWindowCache> ring;
  if (ring_) {
    ring.emplace(*ring_);
    ring->restore(ring_state);
  }
  reset();
  *policy_ = restored;
  if (ring) *ring_ = *ring;
  history_ = std::move(history);
  last_logits_ = std::move(logits);
  has_logits_ = !last_logits_.empty();
  auto& alloc = model_->device().allocator();
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    const uint64_t bytes = uint64_t(state_rows(l, h.n_kv)) * kv_->row_bytes();
    if (!bytes) continue;
    alloc.write(kv_->k(l), 0, p, bytes);
    p += bytes;
    alloc.write(kv_->v(l), 0, p, bytes);
    p += bytes;
  }
  for (int32_t t : history_) sampler_.accept(t);
  stats_.tokens_consumed = h.n_history;
}

}  // namespace tern

#include "api/context.h"

#include <chrono>
#include <cstddef>
#include <cstring>

#include "common/error.h"

namespace tern {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr char k_state_magic[8] = {'T', 'E', 'R', 'N', 'S', 'T', 'A', 'T'};
// Version 2 added kv_type; a version 1 state (its header ends before kv_type) holds an f16 cache.
constexpr uint32_t k_state_version = 2;

struct StateHeader {
  char magic[8];
  uint32_t version;
  uint32_t n_layer;
  uint64_t fingerprint;
  uint32_t n_past;
  uint32_t row_elems;
  uint64_t n_history;
  uint64_t n_logits;
  uint32_t kv_type;  // GgmlType of the cache rows that follow
  uint32_t reserved;
};
constexpr size_t k_state_v1_header_bytes = offsetof(StateHeader, kv_type);

std::string kv_type_label(uint32_t t) {
  if (t == uint32_t(GgmlType::F16)) return "f16";
  if (t == uint32_t(GgmlType::F32)) return "f32";
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
  n_ctx_ = params.n_ctx ? params.n_ctx : c.n_ctx_train;
  check(params.n_batch > 0, Status::InvalidArgument, "n_batch must be positive");
  const uint64_t slot_bytes = KvCache::slot_bytes(c.n_layer, c.kv_dim(), params.kv_type);
  if (params.kv_budget_bytes) {
    check(params.kv_budget_bytes >= slot_bytes, Status::InvalidArgument,
          "KV budget of " + std::to_string(params.kv_budget_bytes) + " bytes is too small for one token (" +
              std::to_string(slot_bytes) + " bytes per token for this model)");
    n_ctx_ = uint32_t(std::min<uint64_t>(n_ctx_, params.kv_budget_bytes / slot_bytes));
  }
  check(n_ctx_ > 0 && n_ctx_ <= (1u << 24), Status::InvalidArgument, "context length out of range");
  kv_ = std::make_unique<KvCache>(model_->device(), c.n_layer, n_ctx_, c.kv_dim(), params.kv_type);
  if (params.rope_scaling || params.rope_freq_base > 0.f) {
    // The model's table with the context's overrides (Llama-3 per-pair factors still apply).
    Forward::Rope rope;
    const ops::RopeScaling scaling = params.rope_scaling.value_or(c.rope_scaling);
    const float base = params.rope_freq_base > 0.f ? params.rope_freq_base : c.rope_base;
    rope.freqs = ops::rope_freqs(int(c.n_rot), base, scaling, &rope.attn_factor);
    for (size_t i = 0; i < model_->rope_freq_factors().size(); ++i) rope.freqs[i] /= model_->rope_freq_factors()[i];
    forward_ = std::make_unique<Forward>(model_, *kv_, std::min(params.n_batch, n_ctx_), &rope);
  } else {
    forward_ = std::make_unique<Forward>(model_, *kv_, std::min(params.n_batch, n_ctx_));
  }
  forward_->recorder().set_profiling(params.profile);
}

void Context::reset() {
  n_past_ = 0;
  history_.clear();
  last_logits_.clear();
  sampler_.clear_history();
  stats_ = {};
  cancel_ = false;
}

void Context::check_cancel() {
  if (cancel_.exchange(false)) throw Error(Status::Cancelled, "cancelled");
}

void Context::eval(std::span<const int32_t> tokens) {
  check(!tokens.empty(), Status::InvalidArgument, "no tokens to evaluate");
  check(uint64_t(n_past_) + tokens.size() <= n_ctx_, Status::ContextFull,
        std::to_string(tokens.size()) + " tokens do not fit: " + std::to_string(n_past_) + " of " +
            std::to_string(n_ctx_) + " context slots are used");
  for (int32_t t : tokens)
    check(t >= 0 && uint32_t(t) < model_->config().n_vocab, Status::InvalidArgument,
          "token id " + std::to_string(t) + " is outside the vocabulary");
  const auto start = Clock::now();
  size_t done = 0;
  while (done < tokens.size()) {
    check_cancel();
    const uint32_t n = uint32_t(std::min<size_t>(forward_->max_batch(), tokens.size() - done));
    std::vector<int32_t> pos(n);
    for (uint32_t i = 0; i < n; ++i) pos[i] = int32_t(n_past_ + i);
    ForwardStep step;
    step.tokens = tokens.subspan(done, n);
    step.positions = pos;
    step.first_slot = n_past_;
    step.n_kv = n_past_ + n;
    forward_->run(step, last_logits_);
    for (uint32_t i = 0; i < n; ++i) {
      history_.push_back(tokens[done + i]);
    }
    n_past_ += n;
    done += n;
  }
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
  auto ids = tok.encode(prompt, gp.add_bos && n_past_ == 0 && tok.vocab().add_bos, gp.parse_special);
  if (!ids.empty()) {
    for (int32_t t : ids) sampler_.accept(t);
    eval(ids);
  }
  check(!last_logits_.empty(), Status::InvalidArgument, "nothing to continue from: the prompt is empty");
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
    if (n_past_ >= n_ctx_) break;  // dense cache full: stop cleanly
    eval(std::span<const int32_t>(&t, 1));
  }
  if (!stop) emit(utf8.flush(), true);
  return produced;
}

ContextStats Context::stats() const {
  ContextStats s = stats_;
  s.kv_slots_used = n_past_;
  s.kv_slots_capacity = n_ctx_;
  s.kv_bytes = kv_->bytes();
  s.device_bytes = kv_->bytes() + forward_->device_bytes();
  return s;
}

std::vector<uint8_t> Context::save_state() const {
  const ModelConfig& c = model_->config();
  StateHeader h{};
  std::memcpy(h.magic, k_state_magic, 8);
  h.version = k_state_version;
  h.n_layer = c.n_layer;
  h.fingerprint = model_->fingerprint();
  h.n_past = n_past_;
  h.row_elems = kv_->row_elems();
  h.n_history = history_.size();
  h.n_logits = last_logits_.size();
  h.kv_type = uint32_t(kv_->dtype());
  const uint64_t kv_bytes = uint64_t(n_past_) * kv_->row_bytes();
  std::vector<uint8_t> out(sizeof(h) + h.n_history * 4 + h.n_logits * 4 + 2 * c.n_layer * kv_bytes);
  uint8_t* p = out.data();
  std::memcpy(p, &h, sizeof(h));
  p += sizeof(h);
  std::memcpy(p, history_.data(), h.n_history * 4);
  p += h.n_history * 4;
  std::memcpy(p, last_logits_.data(), h.n_logits * 4);
  p += h.n_logits * 4;
  auto& alloc = model_->device().allocator();
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    alloc.read(kv_->k(l), 0, p, kv_bytes);
    p += kv_bytes;
    alloc.read(kv_->v(l), 0, p, kv_bytes);
    p += kv_bytes;
  }
  return out;
}

void Context::load_state(std::span<const uint8_t> data) {
  const ModelConfig& c = model_->config();
  StateHeader h{};
  check(data.size() >= k_state_v1_header_bytes, Status::StateMismatch, "state is too short to hold a header");
  std::memcpy(&h, data.data(), k_state_v1_header_bytes);
  check(std::memcmp(h.magic, k_state_magic, 8) == 0, Status::StateMismatch, "not a Tern state (bad magic)");
  check(h.version == 1 || h.version == k_state_version, Status::StateMismatch,
        "state format version " + std::to_string(h.version) + " is not 1 or " + std::to_string(k_state_version));
  size_t header_bytes = k_state_v1_header_bytes;
  h.kv_type = uint32_t(GgmlType::F16);
  if (h.version >= 2) {
    header_bytes = sizeof(h);
    check(data.size() >= header_bytes, Status::StateMismatch, "state is too short to hold a header");
    std::memcpy(&h, data.data(), header_bytes);
  }
  check(h.fingerprint == model_->fingerprint() && h.n_layer == c.n_layer && h.row_elems == kv_->row_elems(),
        Status::StateMismatch, "state was saved with a different model");
  check(h.kv_type == uint32_t(kv_->dtype()), Status::StateMismatch,
        "state holds a KV cache of type " + kv_type_label(h.kv_type) + " but this context's cache is " +
            kv_type_label(uint32_t(kv_->dtype())));
  check(h.n_past <= n_ctx_, Status::ContextFull, "state holds more tokens than this context's length");
  check(h.n_logits == 0 || h.n_logits == c.n_vocab, Status::StateMismatch, "state logits have the wrong size");
  check(h.n_history <= (1ull << 32), Status::StateMismatch, "state history length is absurd");
  const uint64_t kv_bytes = uint64_t(h.n_past) * kv_->row_bytes();
  const uint64_t need = header_bytes + h.n_history * 4 + h.n_logits * 4 + 2 * c.n_layer * kv_bytes;
  check(data.size() == need, Status::StateMismatch, "state size does not match its header");
  const uint8_t* p = data.data() + header_bytes;
  reset();
  history_.resize(h.n_history);
  std::memcpy(history_.data(), p, h.n_history * 4);
  p += h.n_history * 4;
  last_logits_.resize(h.n_logits);
  std::memcpy(last_logits_.data(), p, h.n_logits * 4);
  p += h.n_logits * 4;
  auto& alloc = model_->device().allocator();
  for (uint32_t l = 0; l < c.n_layer; ++l) {
    alloc.write(kv_->k(l), 0, p, kv_bytes);
    p += kv_bytes;
    alloc.write(kv_->v(l), 0, p, kv_bytes);
    p += kv_bytes;
  }
  n_past_ = h.n_past;
  for (int32_t t : history_) sampler_.accept(t);
  stats_.tokens_consumed = h.n_history;
}

}  // namespace tern

// The C API (include/tern.h) over the C++ runtime. Every entry point catches every exception
// and turns it into a tern_status plus a thread-local message; handles are checked against a
// registry of live objects so a freed or foreign pointer is reported, not dereferenced.
#include "tern.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>

#include "api/c_api_internal.h"
#include "api/c_params.h"
#include "api/context.h"
#include "chat/chat_template.h"
#include "common/error.h"
#include "model/model.h"
#include "platform/file_io.h"
#include "quant/model_limits.h"

static_assert(int(tern::Status::Internal) == TERN_ERR_INTERNAL, "tern_status and tern::Status must agree");
static_assert(int(tern::Status::StateMismatch) == TERN_ERR_STATE_MISMATCH, "tern_status and tern::Status must agree");

struct tern_model {
  std::shared_ptr<tern::Model> model;
  std::string arch, name, device_name, chat_template, template_name, weight_types, beacon_settings;
  std::vector<int32_t> beacon_ratios;
};

struct tern_context {
  static constexpr uint64_t k_magic = 0x7465726e63747821ull;  // "tern ctx!"
  // Checked lock-free by tern_cancel (which may run in a signal handler).
  std::atomic<uint64_t> magic{k_magic};
  std::shared_ptr<tern::Model> model;  // keeps the model alive while the context lives
  std::unique_ptr<tern::Context> ctx;
  // Guarded by g_handles_mutex (ContextCall): calls running on the context (one thread's call
  // and the calls its callbacks make), their thread, and a free asked for by one of them.
  int calls = 0;
  std::thread::id owner;
  bool free_pending = false;
};

namespace {

thread_local std::string g_last_error;

// "q4_0 590.4 MiB, f32 0.2 MiB": device bytes per weight type, largest first.
std::string weight_types_text(const std::map<std::string, uint64_t>& bytes_by_type) {
  std::vector<std::pair<std::string, uint64_t>> v(bytes_by_type.begin(), bytes_by_type.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [type, bytes] : v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.1f MiB", out.empty() ? "" : ", ", type.c_str(), double(bytes) / 1048576.0);
    out += buf;
  }
  return out;
}

std::mutex g_handles_mutex;
std::condition_variable g_calls_done;  // a context's last running call returned
std::unordered_set<const void*> g_handles;

void register_handle(const void* h) {
  std::lock_guard lock(g_handles_mutex);
  g_handles.insert(h);
}
bool unregister_handle(const void* h) {
  std::lock_guard lock(g_handles_mutex);
  return g_handles.erase(h) > 0;
}
bool live(const void* h) {
  std::lock_guard lock(g_handles_mutex);
  return g_handles.count(h) > 0;
}

// Sets this thread's message (prefix + msg) and returns s. Never throws: when even the message
// cannot be stored (out of memory), the status alone reports the failure.
tern_status fail(tern_status s, std::string_view msg, std::string_view prefix = {}) noexcept {
  try {
    g_last_error.assign(prefix);
    g_last_error.append(msg);
  } catch (...) {
    g_last_error.clear();
  }
  return s;
}

// Params structs grow at their end, and struct_size says how much of ours a caller knows:
// read_struct copies the caller's part over our defaults (out holds them on entry), write_struct
// our first min(struct_size, sizeof) bytes into the caller's, with that size as struct_size.
// Nothing past the caller's struct_size is ever read or written.
template <class T>
tern_status read_struct(const T* in, T& out, const char* what) {
  if (!in) return TERN_OK;
  const size_t size = in->struct_size;
  if (size < sizeof(size_t) || size > (1u << 16))
    return fail(TERN_ERR_INVALID_ARGUMENT, ".struct_size is not set (initialise it with its tern_*_default_params)", what);
  const size_t n = std::min(size, sizeof(T));
  std::memcpy(static_cast<void*>(&out), in, n);
  out.struct_size = sizeof(T);
  return TERN_OK;
}

template <class T>
void write_struct(T* out, T ours) {
  const size_t n = std::min(out->struct_size, sizeof(T));  // read before anything is written
  ours.struct_size = n;
  std::memcpy(static_cast<void*>(out), &ours, n);
}

// A call's claim on a context while it runs. Another thread's call is refused (a context is
// used by one thread at a time), and so is a callback's call that would change the context
// under the call it came from; tern_context_free waits for the claim to end (or, called from
// the claiming thread's own callback, leaves the delete to it).
class ContextCall {
 public:
  enum Access { Shared, Exclusive };  // Shared: reads only; may nest inside the thread's call
  ContextCall() = default;
  ContextCall(const ContextCall&) = delete;
  ContextCall& operator=(const ContextCall&) = delete;
  ~ContextCall() { release(); }

  tern_status claim(const tern_context* handle, Access access) {
    if (!handle) return fail(TERN_ERR_INVALID_ARGUMENT, "context is NULL");
    std::lock_guard lock(g_handles_mutex);
    if (!g_handles.count(handle))
      return fail(TERN_ERR_INVALID_HANDLE, "context handle is not a live tern_context (freed or foreign)");
    auto* c = const_cast<tern_context*>(handle);
    if (c->calls > 0 && c->owner != std::this_thread::get_id())
      return fail(TERN_ERR_INVALID_ARGUMENT,
                  "the context is in use by another thread's call (a tern_context is used by one thread at a time)");
    if (c->calls > 0 && access == Exclusive)
      return fail(TERN_ERR_INVALID_ARGUMENT,
                  "a callback called into the context its running call uses (only tern_get_logits, "
                  "tern_context_get_stats and tern_cancel may be called from there)");
    if (access == Exclusive && c->model->device().lost())
      return fail(TERN_ERR_DEVICE_LOST, "the Vulkan device was lost: free this context and its model and load again");
    c->owner = std::this_thread::get_id();
    ++c->calls;
    c_ = c;
    return TERN_OK;
  }

  tern::Context& ctx() const { return *c_->ctx; }

 private:
  void release() {
    if (!c_) return;
    bool destroy = false;
    {
      std::lock_guard lock(g_handles_mutex);
      destroy = --c_->calls == 0 && c_->free_pending;
    }
    g_calls_done.notify_all();
    if (destroy) delete c_;
  }

  tern_context* c_ = nullptr;
};

// Runs f, mapping exceptions to statuses.
template <class F>
tern_status guarded(F&& f) {
  try {
    g_last_error.clear();
    return f();
  } catch (const tern::Error& e) {
    return fail(tern_status(int(e.status())), e.what());
  } catch (const std::bad_alloc&) {
    return fail(TERN_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
  } catch (const std::exception& e) {
    return fail(TERN_ERR_INTERNAL, e.what(), "internal error: ");
  } catch (...) {
    return fail(TERN_ERR_INTERNAL, "internal error: unknown exception");
  }
}

#define TERN_CHECK_ARG(cond, what) \
  if (!(cond)) return fail(TERN_ERR_INVALID_ARGUMENT, what)
#define TERN_CHECK_MODEL(m) \
  if (!(m)) return fail(TERN_ERR_INVALID_ARGUMENT, "model is NULL"); \
  if (!live(m)) return fail(TERN_ERR_INVALID_HANDLE, "model handle is not a live tern_model (freed or foreign)")
// Claims context c for this call (ContextCall) as `call`, or returns the refusal.
#define TERN_CLAIM_CTX(call, c, access)                                        \
  ContextCall call;                                                            \
  if (const tern_status claim_status = call.claim(c, ContextCall::access)) return claim_status

// Copies bytes into a caller buffer with the (buf, capacity, needed) convention.
tern_status copy_out(const void* src, size_t bytes, void* buf, size_t capacity, size_t* needed) {
  if (needed) *needed = bytes;
  if (capacity < bytes) return fail(TERN_ERR_BUFFER_TOO_SMALL, "buffer of " + std::to_string(capacity) +
                                                                   " bytes is too small; " + std::to_string(bytes) + " needed");
  if (bytes) std::memcpy(buf, src, bytes);
  return TERN_OK;
}

// The integer in a C enum field. Callers may store any int there; loading it as the C++ enum
// type would be undefined behaviour for values outside the enumerators, so copy the bits.
template <class E>
int32_t enum_bits(const E& field) {
  static_assert(sizeof(E) == sizeof(int32_t), "C enums are int-sized on supported ABIs");
  int32_t v;
  std::memcpy(&v, &field, sizeof v);
  return v;
}

// Copies s and a terminating NUL into a caller buffer, or reports the bytes needed.
tern_status copy_string_out(const std::string& s, char* buf, size_t capacity) {
  if (capacity < s.size() + 1)
    return fail(TERN_ERR_BUFFER_TOO_SMALL, "buffer too small: " + std::to_string(s.size() + 1) + " bytes needed");
  std::memcpy(buf, s.c_str(), s.size() + 1);
  return TERN_OK;
}

tern::SamplerParams to_cpp(const tern_sampler_params& p) {
  tern::SamplerParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.repeat_penalty = p.repeat_penalty;
  s.frequency_penalty = p.frequency_penalty;
  s.presence_penalty = p.presence_penalty;
  s.penalty_last_n = p.penalty_last_n;
  return s;
}

// tern_model_load's work once the options are known (also tern::internal::model_load_on_device).
tern_status load_model(const char* path, const tern::ModelLoadOptions& o, tern_model** out) {
  auto h = std::make_unique<tern_model>();
  h->model = tern::Model::load(path, o);
  h->arch = h->model->config().arch_name;
  h->name = h->model->config().name.empty() ? std::string(path) : h->model->config().name;
  h->device_name = h->model->device().info().name;
  h->chat_template = h->model->chat_template();
  h->weight_types = weight_types_text(h->model->bytes_by_type());
  h->beacon_settings = h->model->beacon_settings().describe();
  for (uint32_t r : h->model->beacon_settings().ratios) h->beacon_ratios.push_back(int32_t(r));
  const auto tmpl = tern::detect_chat_template(h->chat_template);
  h->template_name = tmpl ? std::string(tern::chat_template_name(*tmpl)) : "none";
  register_handle(h.get());  // may throw (out of memory): h still owns the model then
  *out = h.release();
  return TERN_OK;
}

tern::ChatTemplate model_template(const tern_model* m) {
  if (auto t = tern::detect_chat_template(m->model->chat_template())) return *t;
  return tern::ChatTemplate::ChatML;
}

}  // namespace

namespace tern::internal {

tern_status model_load_on_device(const char* path, std::shared_ptr<gpu::Device> device, tern_model** out) {
  if (out) *out = nullptr;
  TERN_CHECK_ARG(out && path, "out or path is NULL");
  ModelLoadOptions o;
  return guarded([&] {
    o.use_device = std::move(device);
    return load_model(path, o, out);
  });
}

Model& model_of(const tern_model* m) { return *m->model; }

}  // namespace tern::internal

extern "C" {

const char* tern_version(void) { return "0.1.0"; }
uint32_t tern_api_version(void) { return TERN_API_VERSION; }
const char* tern_last_error(void) { return g_last_error.c_str(); }
const char* tern_status_string(tern_status s) {
  if (s == TERN_ERR_BUFFER_TOO_SMALL) return "buffer too small";
  return tern::status_name(tern::Status(int(s)));
}

// Callers built before pipeline_cache_path existed pass the old sizeof as struct_size; the
// field must lie wholly past it (not in its tail padding) so they get the default.
static_assert(offsetof(tern_model_params, pipeline_cache_path) >=
                  (offsetof(tern_model_params, validation) + sizeof(int32_t) + alignof(tern_model_params) - 1) /
                      alignof(tern_model_params) * alignof(tern_model_params),
              "tern_model_params.pipeline_cache_path overlaps the older struct size");

tern_model_params tern_model_default_params(void) {
  tern_model_params p{};
  p.struct_size = sizeof(p);
  return p;
}

tern_status tern_model_load(const char* path, const tern_model_params* params, tern_model** out) {
  if (out) *out = nullptr;
  TERN_CHECK_ARG(out, "out is NULL");
  TERN_CHECK_ARG(path && *path, "path is NULL or empty");
  tern_model_params p = tern_model_default_params();
  if (const tern_status s = read_struct(params, p, "params")) return s;  // older callers: defaults past their end
  tern::ModelLoadOptions o;
  return guarded([&] {
    if (p.device) o.device = p.device;
    o.validation = p.validation != 0;
    if (p.progress) {
      auto fn = p.progress;
      void* ud = p.progress_user_data;
      o.progress = [fn, ud](float f) { return fn(f, ud) != 0; };
    }
    if (p.pipeline_cache_path) o.pipeline_cache_path = p.pipeline_cache_path;
    return load_model(path, o, out);
  });
}

void tern_model_free(tern_model* model) {
  if (model && unregister_handle(model)) delete model;
}

tern_status tern_model_get_info(const tern_model* m, tern_model_info* info) {
  TERN_CHECK_MODEL(m);
  TERN_CHECK_ARG(info, "info is NULL");
  TERN_CHECK_ARG(info->struct_size >= sizeof(size_t) && info->struct_size <= (1u << 16), "info.struct_size is not set");
  tern_model_info i{};
  i.struct_size = sizeof(i);
  const auto& c = m->model->config();
  i.architecture = m->arch.c_str();
  i.name = m->name.c_str();
  i.device_name = m->device_name.c_str();
  i.n_vocab = int32_t(c.n_vocab);
  i.n_ctx_train = int32_t(c.n_ctx_train);
  i.n_embd = int32_t(c.n_embd);
  i.n_layer = int32_t(c.n_layer);
  i.n_head = int32_t(c.n_head);
  i.n_head_kv = int32_t(c.n_head_kv);
  i.n_ff = int32_t(c.n_ff);
  i.n_params = m->model->n_params();
  i.weight_bytes = m->model->weight_bytes();
  i.device_bytes = m->model->weight_bytes();
  i.bos = m->model->tokenizer().bos();
  i.eos = m->model->tokenizer().eos();
  i.chat_template = m->chat_template.empty() ? nullptr : m->chat_template.c_str();
  i.weight_types = m->weight_types.c_str();
  const tern::BeaconSettings& b = m->model->beacon_settings();
  i.has_beacon_weights = m->model->has_beacon_projections() || m->model->beacon_embd().rows != 0;
  i.beacon_window = int32_t(b.window);
  i.beacon_sink_size = int32_t(b.sink_size);
  i.n_beacon_ratios = int32_t(m->beacon_ratios.size());
  i.beacon_ratios = m->beacon_ratios.empty() ? nullptr : m->beacon_ratios.data();
  i.beacon_attention = b.present ? b.attention.c_str() : nullptr;
  i.beacon_settings = b.present ? m->beacon_settings.c_str() : nullptr;
  write_struct(info, i);
  return TERN_OK;
}

tern_status tern_tokenize(const tern_model* m, const char* text, size_t len, int add_bos, int parse_special,
                          tern_token* tokens, size_t capacity, size_t* n_tokens) {
  TERN_CHECK_MODEL(m);
  TERN_CHECK_ARG(text || len == 0, "text is NULL");
  TERN_CHECK_ARG(tokens || capacity == 0, "tokens is NULL with a nonzero capacity");
  return guarded([&] {
    auto ids = m->model->tokenizer().encode(std::string_view(text ? text : "", len), add_bos != 0, parse_special != 0);
    size_t needed = 0;
    const tern_status s = copy_out(ids.data(), ids.size() * sizeof(tern_token), tokens, capacity * sizeof(tern_token), &needed);
    if (n_tokens) *n_tokens = ids.size();
    return s;
  });
}

tern_status tern_detokenize(const tern_model* m, const tern_token* tokens, size_t n, int render_special, char* text,
                            size_t capacity, size_t* text_len) {
  TERN_CHECK_MODEL(m);
  TERN_CHECK_ARG(tokens || n == 0, "tokens is NULL");
  TERN_CHECK_ARG(text || capacity == 0, "text is NULL with a nonzero capacity");
  return guarded([&] {
    const auto& tok = m->model->tokenizer();
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      tern::check(tokens[i] >= 0 && tokens[i] < tok.n_vocab(), tern::Status::InvalidArgument,
                  "token id " + std::to_string(tokens[i]) + " is outside the vocabulary");
      if (tok.is_control(tokens[i]) && !render_special) continue;
      s += tok.is_control(tokens[i]) ? tok.vocab().tokens[size_t(tokens[i])] : tok.token_text(tokens[i]);
    }
    if (text_len) *text_len = s.size();
    return copy_string_out(s, text, capacity);
  });
}

int tern_token_is_eog(const tern_model* m, tern_token t) {
  if (!m || !live(m)) return 0;
  try {
    return m->model->tokenizer().is_eog(t) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

// Callers built against the header before kv_type existed pass the old sizeof as struct_size;
// kv_type must lie wholly past it (not in its tail padding) so they get the default.
static_assert(offsetof(tern_context_params, kv_type) >=
                  (offsetof(tern_context_params, profile) + sizeof(int32_t) + alignof(tern_context_params) - 1) /
                      alignof(tern_context_params) * alignof(tern_context_params),
              "tern_context_params.kv_type overlaps the pre-kv_type struct size");

// The same for numerics and the callers built before it (reserved1 takes kv_type's old padding).
static_assert(offsetof(tern_context_params, numerics) >=
                  (offsetof(tern_context_params, kv_type) + sizeof(int32_t) + alignof(tern_context_params) - 1) /
                      alignof(tern_context_params) * alignof(tern_context_params),
              "tern_context_params.numerics overlaps the pre-numerics struct size");

tern_context_params tern_context_default_params(void) {
  tern_context_params p{};
  p.struct_size = sizeof(p);
  p.n_batch = 512;
  p.kv_policy = TERN_KV_DENSE;
  p.kv_sinks = -1;  // the policy's default (tern.h)
  p.rope_scaling = TERN_ROPE_SCALING_FROM_MODEL;
  return p;
}

tern_status tern_context_create(tern_model* m, const tern_context_params* params, tern_context** out) {
  if (out) *out = nullptr;
  TERN_CHECK_MODEL(m);
  TERN_CHECK_ARG(out, "out is NULL");
  tern_context_params p = tern_context_default_params();
  if (const tern_status s = read_struct(params, p, "params")) return s;
  TERN_CHECK_ARG(p.n_ctx >= 0, "n_ctx must not be negative");
  TERN_CHECK_ARG(p.n_batch > 0, "n_batch must be positive");
  const int32_t kv_policy = enum_bits(p.kv_policy), rope_scaling = enum_bits(p.rope_scaling);
  TERN_CHECK_ARG(kv_policy >= TERN_KV_DENSE && kv_policy <= TERN_KV_BEACON_SLIDING, "kv_policy is not a tern_kv_policy value");
  TERN_CHECK_ARG(p.kv_window >= 0 && p.kv_sinks >= -1 && p.beacon_ratio >= 0 && p.beacon_window >= 0,
                 "kv_window, beacon_ratio and beacon_window must not be negative, kv_sinks not below -1");
  TERN_CHECK_ARG(rope_scaling >= TERN_ROPE_SCALING_FROM_MODEL && rope_scaling <= TERN_ROPE_SCALING_LLAMA3,
                 "rope_scaling is not a tern_rope_scaling value");
  TERN_CHECK_ARG(p.rope_original_ctx >= 0, "rope_original_ctx must not be negative");
  TERN_CHECK_ARG(p.kv_type == TERN_KV_TYPE_F16 || p.kv_type == TERN_KV_TYPE_F32 || p.kv_type == TERN_KV_TYPE_Q8_0,
                 "kv_type must be TERN_KV_TYPE_F16 (0), TERN_KV_TYPE_F32 (1) or TERN_KV_TYPE_Q8_0 (2)");
  TERN_CHECK_ARG(p.numerics == TERN_NUMERICS_DEFAULT || p.numerics == TERN_NUMERICS_LLAMACPP,
                 "numerics must be TERN_NUMERICS_DEFAULT (0) or TERN_NUMERICS_LLAMACPP (1)");
  if (m->model->device().lost())
    return fail(TERN_ERR_DEVICE_LOST, "the Vulkan device was lost: free the model and load it again");
  return guarded([&] {
    // 0 means the model's value; anything else must be a usable one (NaN, infinities and
    // denormal factors would make every logit garbage).
    using tern::limits::ModelFloat;
    if (p.rope_freq_base != 0.f)
      tern::limits::check_float(ModelFloat::RopeFreqBase, p.rope_freq_base, tern::Status::InvalidArgument,
                                "rope_freq_base (0: the model's)");
    if (p.rope_scale_factor != 0.f)
      tern::limits::check_float(ModelFloat::RopeScaleFactor, p.rope_scale_factor, tern::Status::InvalidArgument,
                                "rope_scale_factor (0: the model's)");
    tern::ContextParams cp;
    cp.n_batch = uint32_t(p.n_batch);
    cp.kv = tern::kv_request_from(p, m->model->beacon_settings());  // kv_policy checked above
    cp.seed = p.seed;
    cp.profile = p.profile != 0;
    cp.rope_freq_base = p.rope_freq_base;
    if (rope_scaling != TERN_ROPE_SCALING_FROM_MODEL) {
      // Start from the model's settings so unset fields keep the file's values.
      tern::RopeScaling s = m->model->config().rope_scaling;
      static const tern::RopeScaling::Type k_types[] = {
          tern::RopeScaling::None, tern::RopeScaling::Linear, tern::RopeScaling::Ntk,
          tern::RopeScaling::Yarn, tern::RopeScaling::Llama3};
      s.type = k_types[rope_scaling];
      if (p.rope_scale_factor > 0.f) s.factor = p.rope_scale_factor;
      if (p.rope_original_ctx > 0) s.original_ctx = float(p.rope_original_ctx);
      if (s.original_ctx <= 0.f) s.original_ctx = float(m->model->config().n_ctx_train);
      cp.rope_scaling = s;
    }
    cp.kv_type = tern::kv_type_from(p);
    if (p.numerics == TERN_NUMERICS_LLAMACPP) cp.numerics = tern::LlamaCppNumerics::all();
    auto h = std::make_unique<tern_context>();
    h->model = m->model;
    h->ctx = std::make_unique<tern::Context>(m->model, cp);
    register_handle(h.get());
    *out = h.release();
    return TERN_OK;
  });
}

void tern_context_free(tern_context* c) {
  if (!c) return;
  std::unique_lock lock(g_handles_mutex);
  if (!g_handles.erase(c)) return;  // freed already, or foreign
  if (c->calls > 0) {
    // A call is running on the context (misuse the header warns about, or a callback freeing
    // its own context): cancel it, and delete once it has returned.
    if (c->owner == std::this_thread::get_id()) {
      c->free_pending = true;  // the running call's ContextCall deletes it
      c->ctx->cancel();
      return;
    }
    // Cancelled again while waiting: generate() clears a cancel that came before it started.
    while (c->calls > 0) {
      c->ctx->cancel();
      g_calls_done.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
  c->magic.store(0);
  lock.unlock();
  delete c;
}

tern_status tern_context_reset(tern_context* c) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  return guarded([&] {
    call.ctx().reset();
    return TERN_OK;
  });
}

tern_status tern_eval(tern_context* c, const tern_token* tokens, size_t n) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(tokens && n > 0, "tokens is NULL or empty");
  return guarded([&] {
    call.ctx().eval(std::span<const int32_t>(tokens, n));
    return TERN_OK;
  });
}

tern_status tern_get_logits(tern_context* c, const float** logits, int32_t* n_vocab) {
  TERN_CLAIM_CTX(call, c, Shared);
  TERN_CHECK_ARG(logits, "logits is NULL");
  if (!call.ctx().has_logits()) return fail(TERN_ERR_INVALID_ARGUMENT, "no logits yet: evaluate tokens first");
  return guarded([&] {
    auto l = call.ctx().logits();  // read from the device here after a step that sampled on the GPU
    *logits = l.data();
    if (n_vocab) *n_vocab = int32_t(l.size());
    return TERN_OK;
  });
}

void tern_cancel(tern_context* c) {
  // No lock and no allocation: callable from any thread and from a signal handler.
  if (c && c->magic.load(std::memory_order_relaxed) == tern_context::k_magic) c->ctx->cancel();
}

tern_status tern_context_get_stats(const tern_context* c, tern_context_stats* out) {
  TERN_CLAIM_CTX(call, c, Shared);
  TERN_CHECK_ARG(out && out->struct_size >= sizeof(size_t) && out->struct_size <= (1u << 16),
                 "stats is NULL or its struct_size is not set");
  const auto s = call.ctx().stats();
  tern_context_stats r{};
  r.struct_size = sizeof(r);
  r.tokens_consumed = s.tokens_consumed;
  r.kv_slots_used = int32_t(s.kv_slots_used);
  r.kv_slots_capacity = int32_t(s.kv_slots_capacity);
  r.kv_bytes = s.kv_bytes;
  r.device_bytes = s.device_bytes;
  r.prompt_ms = s.prompt_ms;
  r.prompt_tokens = s.prompt_tokens;
  r.decode_ms = s.decode_ms;
  r.decode_tokens = s.decode_tokens;
  r.kv_sink_slots = int32_t(s.kv_usage.sinks);
  r.kv_raw_slots = int32_t(s.kv_usage.raw);
  r.kv_beacon_slots = int32_t(s.kv_usage.beacons);
  const tern::KvPolicyConfig& kc = call.ctx().kv_config();
  r.beacon_ratio = int32_t(kc.beacon_ratio);
  r.beacon_window = int32_t(kc.beacon_window);
  r.kv_global_layers = int32_t(s.kv_global.layers);
  r.kv_sliding_layers = int32_t(s.kv_sliding.layers);
  r.kv_sliding_slots_used = int32_t(s.kv_sliding.slots_used);
  r.kv_sliding_slots_capacity = int32_t(s.kv_sliding.slots_capacity);
  r.kv_global_bytes = s.kv_global.bytes;
  r.kv_sliding_bytes = s.kv_sliding.bytes;
  write_struct(out, r);
  return TERN_OK;
}

tern_sampler_params tern_sampler_default_params(void) {
  tern::SamplerParams d;
  tern_sampler_params p{};
  p.struct_size = sizeof(p);
  p.temperature = d.temperature;
  p.top_k = d.top_k;
  p.top_p = d.top_p;
  p.min_p = d.min_p;
  p.repeat_penalty = d.repeat_penalty;
  p.frequency_penalty = d.frequency_penalty;
  p.presence_penalty = d.presence_penalty;
  p.penalty_last_n = d.penalty_last_n;
  return p;
}

tern_status tern_sample(tern_context* c, const tern_sampler_params* params, tern_token* out) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(out, "out is NULL");
  tern_sampler_params p = tern_sampler_default_params();
  if (const tern_status s = read_struct(params, p, "params")) return s;
  if (!call.ctx().has_logits()) return fail(TERN_ERR_INVALID_ARGUMENT, "no logits yet: evaluate tokens first");
  return guarded([&] {
    *out = call.ctx().sample(to_cpp(p));
    return TERN_OK;
  });
}

tern_generate_params tern_generate_default_params(void) {
  tern_generate_params p{};
  p.struct_size = sizeof(p);
  p.sampler = tern_sampler_default_params();
  p.max_tokens = 256;
  p.add_bos = 1;
  p.parse_special = 1;
  return p;
}

tern_status tern_generate(tern_context* c, const char* prompt, const tern_generate_params* params,
                          tern_piece_fn on_piece, void* user_data, int32_t* n_generated) {
  if (n_generated) *n_generated = 0;
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(prompt, "prompt is NULL");
  tern_generate_params p = tern_generate_default_params();
  if (const tern_status s = read_struct(params, p, "params")) return s;
  int32_t n = 0;  // counted as tokens come, so a cancelled or failed generation reports them too
  const tern_status status = guarded([&] {
    tern::GenerateParams g;
    g.sampler = to_cpp(p.sampler);
    g.max_tokens = p.max_tokens;
    g.add_bos = p.add_bos != 0;
    g.parse_special = p.parse_special != 0;
    if (p.stop)
      for (const char* const* s = p.stop; *s; ++s) g.stop.emplace_back(*s);
    call.ctx().generate(
        prompt, g,
        [&](std::string_view piece) { return on_piece ? on_piece(piece.data(), piece.size(), user_data) != 0 : true; },
        &n);
    return TERN_OK;
  });
  if (n_generated) *n_generated = n;
  return status;
}

tern_status tern_chat_apply_template(const tern_model* m, const char* name, const tern_chat_message* messages,
                                     size_t n, int add_assistant, char* buf, size_t capacity, size_t* needed) {
  TERN_CHECK_MODEL(m);
  TERN_CHECK_ARG(messages || n == 0, "messages is NULL");
  TERN_CHECK_ARG(buf || capacity == 0, "buf is NULL with a nonzero capacity");
  return guarded([&] {
    tern::ChatTemplate t = model_template(m);
    if (name) {
      auto named = tern::chat_template_from_name(name);
      tern::check(named.has_value(), tern::Status::InvalidArgument, std::string("unknown chat template '") + name + "'");
      t = *named;
    }
    std::vector<tern::ChatMessage> msgs;
    for (size_t i = 0; i < n; ++i) {
      tern::check(messages[i].role && messages[i].content, tern::Status::InvalidArgument,
                  "message " + std::to_string(i) + " has a NULL role or content");
      msgs.push_back({messages[i].role, messages[i].content});
    }
    const std::string s = tern::apply_chat_template(t, msgs, add_assistant != 0);
    if (needed) *needed = s.size() + 1;
    return copy_string_out(s, buf, capacity);
  });
}

const char* tern_chat_template_name(const tern_model* m) {
  if (!m || !live(m)) return "none";
  return m->template_name.c_str();
}

tern_status tern_state_save(tern_context* c, void* buf, size_t capacity, size_t* needed) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(buf || capacity == 0, "buf is NULL with a nonzero capacity");
  return guarded([&] {
    const auto s = call.ctx().save_state();
    return copy_out(s.data(), s.size(), buf, capacity, needed);
  });
}

tern_status tern_state_load(tern_context* c, const void* buf, size_t size) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(buf && size > 0, "buf is NULL or empty");
  return guarded([&] {
    call.ctx().load_state(std::span<const uint8_t>(static_cast<const uint8_t*>(buf), size));
    return TERN_OK;
  });
}

tern_status tern_state_save_file(tern_context* c, const char* path) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(path && *path, "path is NULL or empty");
  return guarded([&] {
    const auto s = call.ctx().save_state();
    std::string why;  // written beside path and renamed over it: a failed save keeps the old file
    tern::check(tern::platform::write_file_atomically(path, s, &why), tern::Status::Io, "cannot save the state: " + why);
    return TERN_OK;
  });
}

tern_status tern_state_load_file(tern_context* c, const char* path) {
  TERN_CLAIM_CTX(call, c, Exclusive);
  TERN_CHECK_ARG(path && *path, "path is NULL or empty");
  return guarded([&] {
    call.ctx().load_state(tern::read_state_file(path, call.ctx().state_target()));
    return TERN_OK;
  });
}

}  // extern "C"

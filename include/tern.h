/*
 * tern.h: the C API of Tern, an embedded LLM runtime for edge GPUs (Vulkan compute).
 *
 * Conventions
 *  - C99, stable ABI. Every function returns a tern_status (or a value documented otherwise);
 *    on failure tern_last_error() gives a readable message for the calling thread.
 *  - Handles are opaque. Every create has a destroy that accepts NULL.
 *  - Params structs start with `struct_size`; always initialise them with the matching
 *    tern_*_default_params() so new fields can be added without breaking binaries. Tern reads
 *    and writes nothing past a caller's struct_size (an older, shorter struct gets the defaults
 *    for the fields it lacks; an output struct gets struct_size = what was written).
 *  - Strings are UTF-8. Strings returned by Tern are owned by the object that returned them
 *    and live until that object is destroyed (or until the next call that says it replaces them).
 *  - Output buffers use (buf, capacity, size_t *needed): *needed always receives the full size;
 *    when capacity is too small the call returns TERN_ERR_BUFFER_TOO_SMALL and writes nothing
 *    beyond capacity.
 *  - No C++ exception ever crosses this boundary; running out of host memory is
 *    TERN_ERR_OUT_OF_HOST_MEMORY (the message may then be empty). Vulkan device loss becomes
 *    TERN_ERR_DEVICE_LOST and poisons the device: every later call that would use it (eval,
 *    generate, sample, state save/load, reset, context create) returns TERN_ERR_DEVICE_LOST, and
 *    the contexts and the model can still be freed; load the model again to go on.
 *
 * Threading
 *  - A tern_model is immutable after loading and may be shared by several contexts used on
 *    different threads at the same time.
 *  - A tern_context must be used by one thread at a time. The one exception is tern_cancel(),
 *    which may be called from any thread at any time while the context is alive. A call made
 *    on a context while another thread's call runs on it is refused with
 *    TERN_ERR_INVALID_ARGUMENT ("in use by another thread"), not raced.
 *  - tern_context_free on a context another thread's call is running on (misuse, but safe):
 *    it cancels that call, waits until it has returned (it returns TERN_ERR_CANCELLED) and then
 *    frees. A piece callback may free its own context: the free happens when the call returns.
 *    From inside a callback, only tern_get_logits, tern_context_get_stats and tern_cancel may be
 *    called on the running context (anything else is refused), and any call on other contexts.
 *  - tern_last_error() is thread-local.
 *
 * Limits (each refused with the status shown, before any large allocation)
 *  - Text per tern_tokenize / tern_generate call: 64 MiB (TERN_ERR_INVALID_ARGUMENT); one run of
 *    text the tokenizer must merge as a whole (a byte-level BPE word, or a run a sentencepiece
 *    vocabulary has no place to break in, e.g. 256 KiB of one repeated letter): 256 KiB
 *    (TERN_ERR_INVALID_ARGUMENT). A prompt whose length alone shows it cannot fit a dense context
 *    is refused (TERN_ERR_CONTEXT_FULL) before it is tokenized.
 *  - Model files: vocabulary at most 2^21 tokens and equal to token_embd's rows; context length
 *    at most 2^24; embedding <= 65536, layers <= 1024, heads <= 1024, feed-forward <= 2^20, head
 *    dimension <= 256; RMSNorm epsilon in (0, 1], RoPE base in (1, 1e12], RoPE scaling factor in
 *    [1/1024, 1024], rope_freqs entries in [1/1024, 1e6]; no NaN or infinite weights (checked at
 *    load: F32/F16 values, block scales of quantised types); special token ids inside the
 *    vocabulary (TERN_ERR_BAD_MODEL naming the key or tensor).
 *  - State files: a regular file (not a directory, device or pipe: TERN_ERR_IO) no larger than
 *    the largest state the context could produce (TERN_ERR_STATE_MISMATCH); a state keeps at
 *    most the last 2^26 tokens of history.
 */
#ifndef TERN_H
#define TERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(TERN_STATIC)
#  ifdef TERN_BUILDING_LIBRARY
#    define TERN_API __declspec(dllexport)
#  else
#    define TERN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define TERN_API __attribute__((visibility("default")))
#else
#  define TERN_API
#endif

/* Bumped when the ABI changes incompatibly (major) or grows (minor). */
#define TERN_API_VERSION_MAJOR 0
#define TERN_API_VERSION_MINOR 1
#define TERN_API_VERSION ((TERN_API_VERSION_MAJOR << 16) | TERN_API_VERSION_MINOR)

typedef enum tern_status {
  TERN_OK = 0,
  TERN_ERR_INVALID_ARGUMENT = 1,
  TERN_ERR_IO = 2,
  TERN_ERR_BAD_MODEL = 3,            /* corrupt, truncated or hostile model file */
  TERN_ERR_UNSUPPORTED = 4,          /* valid file, unsupported architecture or tensor type */
  TERN_ERR_OUT_OF_DEVICE_MEMORY = 5,
  TERN_ERR_OUT_OF_HOST_MEMORY = 6,
  TERN_ERR_NO_DEVICE = 7,
  TERN_ERR_VULKAN = 8,
  TERN_ERR_DEVICE_LOST = 9,
  TERN_ERR_CANCELLED = 10,
  TERN_ERR_CONTEXT_FULL = 11,        /* tokens do not fit the context length / KV budget */
  TERN_ERR_INVALID_HANDLE = 12,
  TERN_ERR_INVALID_UTF8 = 13,
  TERN_ERR_STATE_MISMATCH = 14,      /* saved state from another model, context or format version,
                                        or corrupt (its checksum does not match) */
  TERN_ERR_INTERNAL = 15,
  TERN_ERR_BUFFER_TOO_SMALL = 16
} tern_status;

typedef int32_t tern_token;

typedef struct tern_model tern_model;
typedef struct tern_context tern_context;

/* ---- library ---------------------------------------------------------------------------- */

/* "major.minor.patch" of the library. */
TERN_API const char *tern_version(void);
/* TERN_API_VERSION the library was built with; compare with the header's. */
TERN_API uint32_t tern_api_version(void);
/* Message of the last failed call on this thread ("" if none). Valid until the next call. */
TERN_API const char *tern_last_error(void);
/* Short name of a status ("invalid argument", ...). Never NULL. */
TERN_API const char *tern_status_string(tern_status status);

/* ---- model -------------------------------------------------------------------------------- */

/* Called during loading with progress in [0, 1]; return 0 to cancel (load returns CANCELLED). */
typedef int (*tern_progress_fn)(float progress, void *user_data);

typedef struct tern_model_params {
  size_t struct_size;
  const char *device;            /* Vulkan device index or name substring; NULL = $TERN_DEVICE or best */
  tern_progress_fn progress;     /* may be NULL */
  void *progress_user_data;
  int32_t validation;            /* 1: enable Vulkan validation layers when installed (debugging) */
  /* Added after the first release (older callers' struct_size ends before it: they get NULL). */
  const char *pipeline_cache_path; /* NULL = $TERN_PIPELINE_CACHE or none. Compiled GPU pipelines
                                    * are loaded from this file and saved back to it (atomically,
                                    * temp file + rename) by tern_model_free, so later starts skip
                                    * shader compilation. A missing, corrupt or foreign (other
                                    * device/driver) file is ignored with a warning on stderr, as
                                    * is a failed write: neither fails the load. */
} tern_model_params;

TERN_API tern_model_params tern_model_default_params(void);

/* Loads a GGUF model onto the GPU. On failure *out is NULL. */
TERN_API tern_status tern_model_load(const char *path, const tern_model_params *params, tern_model **out);
TERN_API void tern_model_free(tern_model *model);

typedef struct tern_model_info {
  size_t struct_size;
  const char *architecture;      /* "llama", "qwen2" (owned by the model) */
  const char *name;              /* general.name or the file name */
  const char *device_name;       /* the Vulkan device the model runs on */
  int32_t n_vocab;
  int32_t n_ctx_train;           /* context length the model was trained with */
  int32_t n_embd;
  int32_t n_layer;
  int32_t n_head;
  int32_t n_head_kv;
  int32_t n_ff;
  uint64_t n_params;
  uint64_t weight_bytes;         /* bytes of weights on the device */
  uint64_t device_bytes;         /* all device memory held by the model */
  tern_token bos, eos;           /* -1 when absent */
  const char *chat_template;     /* tokenizer.chat_template or NULL */
  /* Added after chat_template. Device bytes per weight type, largest first, e.g.
   * "q4_K 610.2 MiB, q6_K 96.0 MiB, f32 0.4 MiB" (owned by the model). */
  const char *weight_types;
  /* Added after weight_types (check struct_size): Activation Beacon. has_beacon_weights: the file
   * has trained beacon projections or a beacon embedding (else beacons run training-free). The
   * file's beacon settings (beacon.* metadata, README "Long context"), which a beacon context
   * uses by default: beacon_attention is "full-coverage" (TERN_KV_BEACON), "sliding"
   * (TERN_KV_BEACON_SLIDING), another mode Tern refuses, or NULL when the file has none;
   * beacon_window (chunk, or raw window), beacon_sink_size, the allowed ratios (owned by the
   * model; the first is the default of a "fixed-R" rule) and one line describing them all. */
  int32_t has_beacon_weights;
  int32_t beacon_window;
  int32_t beacon_sink_size;
  int32_t n_beacon_ratios;
  const int32_t *beacon_ratios;
  const char *beacon_attention;
  const char *beacon_settings;
} tern_model_info;

TERN_API tern_status tern_model_get_info(const tern_model *model, tern_model_info *info);

/* ---- tokenizer --------------------------------------------------------------------------- */

/* Text (UTF-8) to tokens. add_bos: prepend BOS when the model uses it; parse_special: text
 * such as "<|im_start|>" becomes the special token. Text is never more than text_len + 2
 * tokens: a buffer of that capacity tokenizes in one call, without a size query. */
TERN_API tern_status tern_tokenize(const tern_model *model, const char *text, size_t text_len, int add_bos,
                                   int parse_special, tern_token *tokens, size_t capacity, size_t *n_tokens);
/* Tokens to text. Special (control) tokens are rendered only when render_special is set. */
TERN_API tern_status tern_detokenize(const tern_model *model, const tern_token *tokens, size_t n_tokens,
                                     int render_special, char *text, size_t capacity, size_t *text_len);
/* Nonzero when the token ends generation (EOS, <|eot_id|>, <|im_end|>, ...). */
TERN_API int tern_token_is_eog(const tern_model *model, tern_token token);

/* ---- context --------------------------------------------------------------------------------- */

typedef enum tern_kv_policy {
  TERN_KV_DENSE = 0,         /* every token, up to n_ctx */
  TERN_KV_WINDOW = 1,        /* ring buffer of the last kv_window tokens */
  TERN_KV_SINKS_WINDOW = 2,  /* kv_sinks first tokens forever + the last (kv_window - kv_sinks) */
  TERN_KV_BEACON = 3,        /* Activation Beacon compression (with optional sinks) */
  TERN_KV_BEACON_SLIDING = 4 /* beacons for what a sliding raw window evicts (Tern's mode for small
                                budgets): beacon_window = raw tokens kept raw, beacon_ratio = raw
                                tokens per beacon; see README "Long context" */
} tern_kv_policy;

typedef enum tern_rope_scaling {
  TERN_ROPE_SCALING_FROM_MODEL = -1,
  TERN_ROPE_SCALING_NONE = 0,
  TERN_ROPE_SCALING_LINEAR = 1,
  TERN_ROPE_SCALING_NTK = 2,
  TERN_ROPE_SCALING_YARN = 3,
  TERN_ROPE_SCALING_LLAMA3 = 4
} tern_rope_scaling;

/* RoPE overrides (rope_freq_base, rope_scale_factor): 0 keeps the model's value; anything else
 * must be finite and in the model-file ranges above (TERN_ERR_INVALID_ARGUMENT otherwise). */
typedef struct tern_context_params {
  size_t struct_size;
  int32_t n_ctx;                 /* DENSE: max tokens in the KV cache (0 = the model's training length);
                                    BEACON: tokens the app expects to feed, which picks the ratio */
  int32_t n_batch;               /* max tokens per prefill submit (default 512) */
  uint64_t kv_budget_bytes;      /* 0 = no budget; otherwise the KV cache must fit in it, and the
                                    window (WINDOW, SINKS_WINDOW) or beacon memory (BEACON) is
                                    derived from it when not given */
  tern_kv_policy kv_policy;
  int32_t kv_window;             /* total slots (sinks included) for WINDOW / SINKS_WINDOW
                                    (0 = from the budget, else n_ctx, else the training length) */
  int32_t kv_sinks;              /* sink tokens for SINKS_WINDOW and the beacon policies (-1, the
                                    default: 4, or for a beacon policy on a model file with beacon
                                    settings, the file's beacon.sink_size; WINDOW has none) */
  int32_t beacon_ratio;          /* raw tokens per beacon for BEACON (0 = the smallest of 2..128 that
                                    fits n_ctx tokens in the budget, or 8 without n_ctx) and
                                    BEACON_SLIDING (0 = 8) */
  int32_t beacon_window;         /* BEACON: raw tokens per beacon chunk (0 = the largest power of two
                                    up to 1024 and half the training length leaving 4 chunks of
                                    memory); BEACON_SLIDING: raw tokens kept raw (0 = half the
                                    budget's slots, see README) */
  tern_rope_scaling rope_scaling;
  float rope_freq_base;          /* 0 = from model */
  float rope_scale_factor;       /* 0 = from model */
  int32_t rope_original_ctx;     /* 0 = from model */
  uint64_t seed;                 /* sampler seed */
  int32_t profile;               /* 1: record per-op GPU times (see tern_context_stats) */
  /* Added after the first release. reserved0 fills what used to be the struct's tail padding,
   * so kv_type lies past an older caller's struct_size and such callers get the default. */
  int32_t reserved0;             /* set 0 */
  int32_t kv_type;               /* KV cache elements: TERN_KV_TYPE_F16 (0, default), _F32 (1) or _Q8_0 (2) */
  /* Added after kv_type. reserved1 fills the tail padding that followed kv_type, so numerics lies
   * past the struct_size of callers built before it and they get the default. */
  int32_t reserved1;             /* set 0 */
  int32_t numerics;              /* arithmetic: TERN_NUMERICS_DEFAULT (0) or TERN_NUMERICS_LLAMACPP (1) */
} tern_context_params;

/* Values of tern_context_params.kv_type. F32 doubles the cache memory and makes attention
 * fp32-exact (useful for comparisons with fp32 reference implementations). Q8_0 stores K and V
 * as GGUF q8_0 blocks (34 bytes per 32 values, rows padded to 16 bytes): about 0.53x the f16
 * bytes; needs a head dimension that is a multiple of 32. */
enum { TERN_KV_TYPE_F16 = 0, TERN_KV_TYPE_F32 = 1, TERN_KV_TYPE_Q8_0 = 2 };

/* Values of tern_context_params.numerics. LLAMACPP follows llama.cpp's CPU arithmetic (ggml on
 * x86): Q8_0 and Q4_0 weights multiply activations quantised to q8_0 with integer block dot
 * products, attention rounds Q and the softmax probabilities to f16, and RMSNorm and RoPE round
 * as ggml does, so greedy outputs follow llama.cpp's where two tokens are near-tied (on
 * TinyStories-656K-Q8_0.gguf the logits are llama.cpp's bit for bit at all but one of the tested
 * steps). It needs TERN_KV_DENSE, TERN_KV_TYPE_F16, no RoPE override and a llama-style model
 * (interleaved RoPE, no scaling); otherwise tern_context_create returns TERN_ERR_UNSUPPORTED.
 * Its states cannot be saved (TERN_ERR_UNSUPPORTED): the cache holds rotated keys. */
enum { TERN_NUMERICS_DEFAULT = 0, TERN_NUMERICS_LLAMACPP = 1 };

TERN_API tern_context_params tern_context_default_params(void);
TERN_API tern_status tern_context_create(tern_model *model, const tern_context_params *params, tern_context **out);
TERN_API void tern_context_free(tern_context *ctx);
/* Forgets all tokens (the KV cache is emptied); keeps the allocation. */
TERN_API tern_status tern_context_reset(tern_context *ctx);

/* Feeds tokens (prompt prefill in batches, or one token of decoding). Logits of the last token
 * become available through tern_get_logits. */
TERN_API tern_status tern_eval(tern_context *ctx, const tern_token *tokens, size_t n_tokens);
/* Logits of the last evaluated token: n_vocab floats owned by the context, valid until the next eval. */
TERN_API tern_status tern_get_logits(tern_context *ctx, const float **logits, int32_t *n_vocab);

/* Requests that the running eval/generate stops at the next GPU submit boundary (it returns
 * TERN_ERR_CANCELLED). Callable from any thread and from a signal handler (no lock, no
 * allocation) while the context is alive. */
TERN_API void tern_cancel(tern_context *ctx);

typedef struct tern_context_stats {
  size_t struct_size;
  uint64_t tokens_consumed;      /* all tokens fed since the last reset */
  int32_t kv_slots_used;         /* raw + sink + beacon slots in use */
  int32_t kv_slots_capacity;
  uint64_t kv_bytes;             /* device bytes of the KV cache */
  uint64_t device_bytes;         /* device bytes held by this context (KV + activations) */
  double prompt_ms, prompt_tokens;  /* totals since reset */
  double decode_ms, decode_tokens;
  /* Added with the KV policies (check struct_size): slots in use per kind, and the beacon
   * settings in effect (0 unless kv_policy is BEACON). */
  int32_t kv_sink_slots;
  int32_t kv_raw_slots;          /* window / dense tokens and the current beacon chunk's raw tokens */
  int32_t kv_beacon_slots;
  int32_t beacon_ratio;
  int32_t beacon_window;
  /* Added with per-layer attention (check struct_size). A model with sliding-window layers
   * (Gemma 3's local layers) keeps, in each of them, a ring of its last W text positions whatever
   * the KV policy; the policy, and every kv_*_slots field above, applies to the other (global)
   * layers. kv_global_bytes + kv_sliding_bytes == kv_bytes. reserved0 fills what used to be the
   * struct's tail padding. */
  int32_t reserved0;
  int32_t kv_global_layers;
  int32_t kv_sliding_layers;           /* 0 for models without sliding-window layers */
  int32_t kv_sliding_slots_used;       /* per sliding-window layer: positions its ring holds */
  int32_t kv_sliding_slots_capacity;   /* per sliding-window layer: W + n_batch - 1 (or n_ctx) */
  uint64_t kv_global_bytes;            /* device bytes of the global layers' K and V */
  uint64_t kv_sliding_bytes;           /* device bytes of the sliding-window layers' rings */
} tern_context_stats;

TERN_API tern_status tern_context_get_stats(const tern_context *ctx, tern_context_stats *stats);

/* ---- sampling ---------------------------------------------------------------------------- */

typedef struct tern_sampler_params {
  size_t struct_size;
  float temperature;             /* <= 0: greedy */
  int32_t top_k;                 /* <= 0: off */
  float top_p;                   /* >= 1: off */
  float min_p;                   /* <= 0: off */
  float repeat_penalty;          /* 1: off */
  float frequency_penalty;       /* 0: off */
  float presence_penalty;        /* 0: off */
  int32_t penalty_last_n;        /* window of recent tokens the penalties look at */
} tern_sampler_params;

TERN_API tern_sampler_params tern_sampler_default_params(void);
/* Samples from the current logits with the context's seeded RNG (deterministic for a seed). */
TERN_API tern_status tern_sample(tern_context *ctx, const tern_sampler_params *params, tern_token *out);

/* ---- generation ---------------------------------------------------------------------------- */

/* Receives each piece of generated text (always whole UTF-8 characters); return 0 to stop. */
typedef int (*tern_piece_fn)(const char *piece, size_t len, void *user_data);

typedef struct tern_generate_params {
  size_t struct_size;
  tern_sampler_params sampler;
  int32_t max_tokens;            /* default 256; <= 0 means until EOS / context policy */
  const char *const *stop;       /* NULL-terminated list of stop strings, or NULL */
  int32_t add_bos;               /* prepend BOS to the prompt when the context is empty (default 1) */
  int32_t parse_special;         /* special-token text in the prompt becomes tokens (default 1) */
} tern_generate_params;

TERN_API tern_generate_params tern_generate_default_params(void);
/* Tokenizes prompt, feeds it, then samples and streams until EOS, a stop string, max_tokens,
 * the callback returning 0, or tern_cancel. n_generated (may be NULL) receives the number of
 * tokens sampled, also when the call fails or is cancelled part-way. A model whose logits are
 * all NaN (broken weights) fails with TERN_ERR_BAD_MODEL instead of picking a token. */
TERN_API tern_status tern_generate(tern_context *ctx, const char *prompt, const tern_generate_params *params,
                                   tern_piece_fn on_piece, void *user_data, int32_t *n_generated);

/* ---- chat templates ------------------------------------------------------------------------ */

typedef struct tern_chat_message {
  const char *role;              /* "system", "user", "assistant" */
  const char *content;
} tern_chat_message;

/* Renders messages with a template: name is one of "llama2", "llama3", "chatml", "mistral",
 * "zephyr", "gemma", "tinyllama", "qwen3" (chatml; earlier assistant turns drop their
 * <think>...</think> reasoning), or NULL to recognise the model's tokenizer.chat_template
 * (falls back to chatml). add_assistant: end with the assistant turn's opening. */
TERN_API tern_status tern_chat_apply_template(const tern_model *model, const char *name,
                                              const tern_chat_message *messages, size_t n_messages,
                                              int add_assistant, char *buf, size_t capacity, size_t *needed);
/* Name of the built-in template recognised for the model ("chatml", ...), or "none". */
TERN_API const char *tern_chat_template_name(const tern_model *model);

/* ---- state ------------------------------------------------------------------------------ */

/* Saves tokens, KV contents and policy state. The header carries a model fingerprint and a
 * CRC-32 of the whole state: a state with any byte changed is refused (TERN_ERR_STATE_MISMATCH)
 * and the context is left as it was. tern_state_save_file writes a temporary file beside path
 * and renames it over path, so a failed save (a full disk) keeps the previous file. */
TERN_API tern_status tern_state_save_file(tern_context *ctx, const char *path);
TERN_API tern_status tern_state_load_file(tern_context *ctx, const char *path);
TERN_API tern_status tern_state_save(tern_context *ctx, void *buf, size_t capacity, size_t *needed);
TERN_API tern_status tern_state_load(tern_context *ctx, const void *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TERN_H */

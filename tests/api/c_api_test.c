/* Drives the whole public API from C (compiled as C99, linked against the shared libtern):
 * load, tokenize, generate with a callback, cancel, save/restore, threads, and error paths.
 * argv[1]: a GGUF model (stories260K converted by tern-quantize); argv[2]: a scratch folder;
 * argv[3] (optional): the shared data folder, for llama.cpp's TinyStories-656K and its goldens. */
#define _POSIX_C_SOURCE 200112L /* setenv, unsetenv */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_expect.h"
#include "tern.h"

static int g_passed = 0, g_failed = 0;

#define EXPECT_STATUS(call, status) EXPECT((call) == (status) && (status == TERN_OK || tern_last_error()[0] != '\0'))

static const char *g_model_path;
static char g_scratch[1024];
static const char *g_shared_dir;

/* ---- helpers ---------------------------------------------------------------------------- */

typedef struct {
  char text[8192];
  size_t len;
  int pieces;
  int stop_after;       /* return 0 after this many pieces (0 = never) */
  tern_context *cancel; /* tern_cancel this context after stop_after pieces */
} collector;

static int collect(const char *piece, size_t len, void *ud) {
  collector *c = (collector *)ud;
  if (c->len + len < sizeof(c->text)) {
    memcpy(c->text + c->len, piece, len);
    c->len += len;
    c->text[c->len] = '\0';
  }
  c->pieces++;
  if (c->stop_after && c->pieces >= c->stop_after) {
    if (c->cancel) {
      tern_cancel(c->cancel);
      return 1;
    }
    return 0;
  }
  return 1;
}

static tern_generate_params greedy(int max_tokens) {
  tern_generate_params p = tern_generate_default_params();
  p.sampler.temperature = 0.0f;
  p.max_tokens = max_tokens;
  return p;
}

static int progress_calls = 0;
static int count_progress(float p, void *ud) {
  (void)p;
  (void)ud;
  progress_calls++;
  return 1;
}
static int cancel_progress(float p, void *ud) {
  (void)p;
  (void)ud;
  return 0;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_library(void) {
  EXPECT(tern_api_version() == TERN_API_VERSION);
  EXPECT(strlen(tern_version()) > 0);
  EXPECT(strcmp(tern_status_string(TERN_ERR_BAD_MODEL), "bad model file") == 0);
}

static void test_load_errors(void) {
  tern_model *m = (tern_model *)0x1;
  tern_model_params p = tern_model_default_params();
  EXPECT_STATUS(tern_model_load(NULL, &p, &m), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(m == NULL);
  EXPECT_STATUS(tern_model_load(g_model_path, &p, NULL), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_model_load("/nonexistent/model.gguf", &p, &m), TERN_ERR_IO);
  EXPECT(m == NULL);

  char path[1200];
  snprintf(path, sizeof path, "%s/not-a-model.gguf", g_scratch);
  FILE *f = fopen(path, "wb");
  fputs("this is not a GGUF file, just some text that is long enough to have a header", f);
  fclose(f);
  EXPECT_STATUS(tern_model_load(path, &p, &m), TERN_ERR_BAD_MODEL);

  tern_model_params zero;
  memset(&zero, 0, sizeof zero); /* struct_size not set */
  EXPECT_STATUS(tern_model_load(g_model_path, &zero, &m), TERN_ERR_INVALID_ARGUMENT);

  p.progress = cancel_progress;
  EXPECT_STATUS(tern_model_load(g_model_path, &p, &m), TERN_ERR_CANCELLED);
  EXPECT(m == NULL);
}

static int file_starts_with(const char *path, const char *prefix) {
  char buf[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, strlen(prefix), f);
  fclose(f);
  return n == strlen(prefix) && memcmp(buf, prefix, n) == 0;
}

/* pipeline_cache_path: written by tern_model_free, read back by the next load; a garbage file
 * is ignored (and replaced), and a caller built before the field existed never has it read. */
static void test_pipeline_cache(void) {
  char path[1200];
  snprintf(path, sizeof path, "%s/c_api_test.pipelines", g_scratch);
  remove(path);
  tern_model *m = NULL;
  tern_model_params p = tern_model_default_params();
  EXPECT(p.pipeline_cache_path == NULL);
  p.pipeline_cache_path = path;
  EXPECT_STATUS(tern_model_load(g_model_path, &p, &m), TERN_OK);
  tern_model_free(m);
  EXPECT(file_starts_with(path, "TERNPIPE"));
  m = NULL;
  EXPECT_STATUS(tern_model_load(g_model_path, &p, &m), TERN_OK);
  tern_model_free(m);

  FILE *f = fopen(path, "wb");
  fputs("garbage, not a pipeline cache", f);
  fclose(f);
  m = NULL;
  EXPECT_STATUS(tern_model_load(g_model_path, &p, &m), TERN_OK);
  tern_model_free(m);
  EXPECT(file_starts_with(path, "TERNPIPE"));

  remove(path);
  p.struct_size = offsetof(tern_model_params, pipeline_cache_path);
  m = NULL;
  EXPECT_STATUS(tern_model_load(g_model_path, &p, &m), TERN_OK);
  tern_model_free(m);
  f = fopen(path, "rb");
  EXPECT(f == NULL); /* the field past the old struct_size was not read */
  if (f) fclose(f);
}

static void test_model_info(tern_model *m) {
  tern_model_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  EXPECT_STATUS(tern_model_get_info(m, &info), TERN_OK);
  EXPECT(strcmp(info.architecture, "llama") == 0);
  EXPECT(info.n_vocab == 512);
  EXPECT(info.n_layer == 5);
  EXPECT(info.n_embd == 64);
  EXPECT(info.weight_bytes > 0);
  EXPECT(info.bos == 1 && info.eos == 2);
  /* the test model is an F32 conversion: every weight is f32 */
  EXPECT(info.weight_types != NULL && strncmp(info.weight_types, "f32 ", 4) == 0 && strchr(info.weight_types, ',') == NULL);
  EXPECT_STATUS(tern_model_get_info(m, NULL), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_model_get_info(NULL, &info), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_model_get_info((const tern_model *)&info, &info), TERN_ERR_INVALID_HANDLE);
}

static void test_tokenize(tern_model *m) {
  const char *text = "Once upon a time, there was a little girl.";
  tern_token ids[64];
  size_t n = 0;
  EXPECT_STATUS(tern_tokenize(m, text, strlen(text), 1, 0, ids, 64, &n), TERN_OK);
  EXPECT(n > 5 && ids[0] == 1);
  char out[256];
  size_t len = 0;
  EXPECT_STATUS(tern_detokenize(m, ids, n, 0, out, sizeof out, &len), TERN_OK);
  /* sentencepiece's dummy prefix gives a leading space */
  EXPECT(strstr(out, text) != NULL);
  /* buffer too small reports the size needed */
  size_t needed_tokens = 0;
  EXPECT_STATUS(tern_tokenize(m, text, strlen(text), 1, 0, ids, 2, &needed_tokens), TERN_ERR_BUFFER_TOO_SMALL);
  EXPECT(needed_tokens == n);
  EXPECT_STATUS(tern_detokenize(m, ids, n, 0, out, 3, &len), TERN_ERR_BUFFER_TOO_SMALL);
  /* invalid UTF-8 */
  const char bad[] = {'a', (char)0xC3, (char)0x28, 0};
  EXPECT_STATUS(tern_tokenize(m, bad, 3, 1, 0, ids, 64, &n), TERN_ERR_INVALID_UTF8);
  tern_token bad_id = 100000;
  EXPECT_STATUS(tern_detokenize(m, &bad_id, 1, 0, out, sizeof out, &len), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_tokenize(m, NULL, 5, 1, 0, ids, 64, &n), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(tern_token_is_eog(m, 2) == 1);
  EXPECT(tern_token_is_eog(m, 100) == 0);
}

static void test_context_errors(tern_model *m) {
  tern_context *c = NULL;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = -5;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  p = tern_context_default_params();
  p.n_batch = 0;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  p = tern_context_default_params();
  p.kv_budget_bytes = 16; /* smaller than one token's K and V */
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(c == NULL);
  EXPECT_STATUS(tern_context_create(NULL, &p, &c), TERN_ERR_INVALID_ARGUMENT);

  /* a prompt longer than the context */
  p = tern_context_default_params();
  p.n_ctx = 8;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  tern_token ids[20];
  for (int i = 0; i < 20; ++i) ids[i] = 300 + i;
  EXPECT_STATUS(tern_eval(c, ids, 20), TERN_ERR_CONTEXT_FULL);
  tern_token bad = -3;
  EXPECT_STATUS(tern_eval(c, &bad, 1), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_eval(c, NULL, 1), TERN_ERR_INVALID_ARGUMENT);
  const float *logits = NULL;
  EXPECT_STATUS(tern_get_logits(c, &logits, NULL), TERN_ERR_INVALID_ARGUMENT); /* nothing evaluated */
  tern_token t;
  EXPECT_STATUS(tern_sample(c, NULL, &t), TERN_ERR_INVALID_ARGUMENT);
  collector col;
  memset(&col, 0, sizeof col);
  tern_generate_params g = greedy(4);
  EXPECT_STATUS(tern_generate(c, "Once upon a time there was a very long prompt that does not fit", &g, collect, &col, NULL),
                TERN_ERR_CONTEXT_FULL);
  tern_context_free(c);
  /* the freed handle is detected (nothing allocated in between) */
  EXPECT_STATUS(tern_eval(c, ids, 1), TERN_ERR_INVALID_HANDLE);
  tern_context_free(NULL);
  tern_model_free(NULL);
}

static tern_context_stats get_stats(tern_context *c) {
  tern_context_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  EXPECT_STATUS(tern_context_get_stats(c, &st), TERN_OK);
  return st;
}

/* Window, sinks and beacon contexts take any number of tokens at constant KV memory. */
static void test_kv_policies(tern_model *m) {
  tern_token ids[300];
  for (int i = 0; i < 300; ++i) ids[i] = 3 + (i * 37) % 500;
  tern_context *c = NULL;
  tern_context_params p = tern_context_default_params();
  p.kv_policy = TERN_KV_SINKS_WINDOW;
  p.kv_window = 64;
  p.n_batch = 16;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  EXPECT_STATUS(tern_eval(c, ids, 64), TERN_OK);
  const tern_context_stats full = get_stats(c);
  EXPECT_STATUS(tern_eval(c, ids + 64, 236), TERN_OK);
  tern_context_stats st = get_stats(c);
  EXPECT(st.tokens_consumed == 300 && st.kv_slots_used == 64 && st.kv_slots_capacity == 64);
  EXPECT(st.kv_sink_slots == 4 && st.kv_raw_slots == 60 && st.kv_beacon_slots == 0);
  EXPECT(st.kv_bytes == full.kv_bytes && st.device_bytes == full.device_bytes);
  /* stories260K has no sliding-window layers: its 5 layers are global and hold all the KV bytes. */
  EXPECT(st.struct_size == sizeof st && st.kv_global_layers == 5 && st.kv_sliding_layers == 0);
  EXPECT(st.kv_global_bytes == st.kv_bytes && st.kv_sliding_bytes == 0 && st.kv_sliding_slots_capacity == 0);
  {
    /* a caller built before the per-layer-kind fields: nothing is written past its struct_size */
    tern_context_stats old;
    memset(&old, 0, sizeof old);
    old.struct_size = offsetof(tern_context_stats, reserved0);
    old.kv_global_layers = -7;
    EXPECT_STATUS(tern_context_get_stats(c, &old), TERN_OK);
    EXPECT(old.struct_size == offsetof(tern_context_stats, reserved0) && old.kv_global_layers == -7);
    EXPECT(old.tokens_consumed == 300 && old.beacon_window == st.beacon_window);
  }
  tern_context_free(c);

  p.kv_policy = TERN_KV_WINDOW;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  EXPECT_STATUS(tern_eval(c, ids, 300), TERN_OK);
  st = get_stats(c);
  EXPECT(st.kv_sink_slots == 0 && st.kv_raw_slots == 64);
  tern_context_free(c);

  /* Beacon from a byte budget: 96 slots' worth. */
  const uint64_t slot_bytes = full.kv_bytes / (uint64_t)full.kv_slots_capacity;
  p = tern_context_default_params();
  p.kv_policy = TERN_KV_BEACON;
  p.kv_budget_bytes = 96 * slot_bytes;
  p.beacon_ratio = 4;
  p.beacon_window = 16;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  EXPECT_STATUS(tern_eval(c, ids, 300), TERN_OK);
  st = get_stats(c);
  EXPECT(st.kv_slots_capacity == 96 && st.kv_bytes <= p.kv_budget_bytes);
  EXPECT(st.beacon_ratio == 4 && st.beacon_window == 16 && st.kv_sink_slots == 4);
  EXPECT(st.kv_beacon_slots > 0 && st.kv_slots_used <= 96 && st.tokens_consumed == 300);
  tern_context_free(c);

  /* The sliding beacon mode from the same budget: raw window 40 after 4 sinks, ratio 4. */
  p = tern_context_default_params();
  p.kv_policy = TERN_KV_BEACON_SLIDING;
  p.kv_budget_bytes = 96 * slot_bytes;
  p.beacon_ratio = 4;
  p.beacon_window = 40;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  EXPECT_STATUS(tern_eval(c, ids, 300), TERN_OK);
  st = get_stats(c);
  EXPECT(st.kv_slots_capacity == 96 && st.beacon_ratio == 4 && st.beacon_window == 40 && st.kv_sink_slots == 4);
  EXPECT(st.kv_raw_slots == 40 && st.kv_beacon_slots > 0 && st.kv_slots_used <= 96);
  tern_context_free(c);
  p.beacon_window = 90; /* 4 + 90 + 22 > 96 */
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(tern_last_error(), "sliding beacon") != NULL);

  /* A q8_0 cache: about half the f16 bytes (rows padded to 16 bytes), same policies. */
  p = tern_context_default_params();
  p.kv_policy = TERN_KV_SINKS_WINDOW;
  p.kv_window = 64;
  p.kv_type = TERN_KV_TYPE_Q8_0;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  EXPECT_STATUS(tern_eval(c, ids, 100), TERN_OK);
  st = get_stats(c);
  EXPECT(st.kv_bytes < full.kv_bytes && st.kv_slots_used == 64);
  tern_context_free(c);
  p.kv_type = 7;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);

  /* A budget too small for one beacon chunk, and a bad policy value. */
  p = tern_context_default_params();
  p.kv_policy = TERN_KV_BEACON;
  p.beacon_ratio = 4;
  p.beacon_window = 16;
  p.kv_budget_bytes = 20 * slot_bytes;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(tern_last_error(), "beacon") != NULL);
  p = tern_context_default_params();
  memset(&p.kv_policy, 0x7f, sizeof p.kv_policy);
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  p = tern_context_default_params();
  p.kv_policy = TERN_KV_SINKS_WINDOW;
  p.kv_window = 4; /* no room after the 4 sinks */
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
}

static void test_generate(tern_model *m) {
  tern_context *c = NULL;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 256;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  collector a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  tern_generate_params g = greedy(40);
  int32_t n = 0;
  EXPECT_STATUS(tern_generate(c, "Once upon a time", &g, collect, &a, &n), TERN_OK);
  EXPECT(n > 0 && n <= 40 && a.len > 0);
  EXPECT_STATUS(tern_context_reset(c), TERN_OK);
  EXPECT_STATUS(tern_generate(c, "Once upon a time", &g, collect, &b, &n), TERN_OK);
  EXPECT(strcmp(a.text, b.text) == 0); /* greedy is deterministic */

  /* the callback stops generation */
  memset(&b, 0, sizeof b);
  b.stop_after = 3;
  tern_context_reset(c);
  EXPECT_STATUS(tern_generate(c, "Once upon a time", &g, collect, &b, &n), TERN_OK);
  EXPECT(b.pieces == 3);

  /* cancellation requested during generation */
  memset(&b, 0, sizeof b);
  b.stop_after = 2;
  b.cancel = c;
  tern_context_reset(c);
  EXPECT_STATUS(tern_generate(c, "Once upon a time", &g, collect, &b, &n), TERN_ERR_CANCELLED);
  EXPECT(b.pieces == 2);

  /* a stop string ends the text before it */
  tern_context_reset(c);
  memset(&b, 0, sizeof b);
  const char *stops[] = {"girl", NULL};
  g.stop = stops;
  g.max_tokens = 60;
  EXPECT_STATUS(tern_generate(c, "Once upon a time, there was a little", &g, collect, &b, &n), TERN_OK);
  EXPECT(strstr(b.text, "girl") == NULL);

  /* seeded sampling is reproducible */
  tern_generate_params s = tern_generate_default_params();
  s.sampler.temperature = 1.0f;
  s.max_tokens = 30;
  tern_context *c1 = NULL, *c2 = NULL;
  p.seed = 1234;
  tern_context_create(m, &p, &c1);
  tern_context_create(m, &p, &c2);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  tern_generate(c1, "Once upon a time", &s, collect, &a, NULL);
  tern_generate(c2, "Once upon a time", &s, collect, &b, NULL);
  EXPECT(a.len > 0 && strcmp(a.text, b.text) == 0);
  tern_context_free(c1);
  tern_context_free(c2);

  tern_context_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  EXPECT_STATUS(tern_context_get_stats(c, &st), TERN_OK);
  EXPECT(st.kv_slots_capacity == 256 && st.kv_bytes > 0);
  tern_context_free(c);
}

/* GPU sampling: the same text with and without TERN_GPU_SAMPLING=0 (read when a context is
 * created), greedy and seeded default sampling (top_k 40), through tern_generate and through
 * tern_eval + tern_sample; logits asked for after a token sampled on the GPU are the CPU path's. */
static void gpu_sampling_run(tern_model *m, int gpu, const tern_generate_params *g, collector *text,
                             tern_token *tokens, int n_tokens, float *logits) {
  if (gpu)
    unsetenv("TERN_GPU_SAMPLING");
  else
    setenv("TERN_GPU_SAMPLING", "0", 1);
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 256;
  p.seed = 99;
  tern_context *c = NULL;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  unsetenv("TERN_GPU_SAMPLING");
  memset(text, 0, sizeof *text);
  EXPECT_STATUS(tern_generate(c, "Once upon a time", g, collect, text, NULL), TERN_OK);
  const float *l = NULL;
  int32_t n_vocab = 0;
  EXPECT_STATUS(tern_get_logits(c, &l, &n_vocab), TERN_OK);
  EXPECT(n_vocab == 512);
  if (l && n_vocab == 512) memcpy(logits, l, 512 * sizeof(float));
  for (int i = 0; i < n_tokens; ++i) {
    EXPECT_STATUS(tern_sample(c, &g->sampler, &tokens[i]), TERN_OK);
    EXPECT_STATUS(tern_eval(c, &tokens[i], 1), TERN_OK);
  }
  tern_context_free(c);
}

static void test_gpu_sampling(tern_model *m) {
  tern_generate_params g[2];
  g[0] = greedy(40);
  g[1] = tern_generate_default_params(); /* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05 */
  g[1].max_tokens = 40;
  for (int i = 0; i < 2; ++i) {
    collector text[2];
    tern_token tokens[2][24];
    float logits[2][512];
    for (int gpu = 0; gpu < 2; ++gpu) gpu_sampling_run(m, gpu, &g[i], &text[gpu], tokens[gpu], 24, logits[gpu]);
    EXPECT(text[1].len > 0 && strcmp(text[0].text, text[1].text) == 0);
    EXPECT(memcmp(tokens[0], tokens[1], sizeof tokens[0]) == 0);
    EXPECT(memcmp(logits[0], logits[1], sizeof logits[0]) == 0);
  }
}

static void continue_greedy(tern_context *c, int n, tern_token *out) {
  tern_sampler_params sp = tern_sampler_default_params();
  sp.temperature = 0.0f;
  for (int i = 0; i < n; ++i) {
    tern_sample(c, &sp, &out[i]);
    tern_eval(c, &out[i], 1);
  }
}

static void test_state(tern_model *m) {
  tern_context *c = NULL;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 128;
  tern_context_create(m, &p, &c);
  tern_token prompt[64];
  size_t n = 0;
  tern_tokenize(m, "Once upon a time, there was a", 29, 1, 0, prompt, 64, &n);
  EXPECT_STATUS(tern_eval(c, prompt, n), TERN_OK);

  size_t needed = 0;
  EXPECT_STATUS(tern_state_save(c, NULL, 0, &needed), TERN_ERR_BUFFER_TOO_SMALL);
  EXPECT(needed > 0);
  void *buf = malloc(needed);
  EXPECT_STATUS(tern_state_save(c, buf, needed, &needed), TERN_OK);
  char path[1200];
  snprintf(path, sizeof path, "%s/state.bin", g_scratch);
  EXPECT_STATUS(tern_state_save_file(c, path), TERN_OK);

  tern_token first[12], again[12], other[12];
  continue_greedy(c, 12, first);
  EXPECT_STATUS(tern_state_load(c, buf, needed), TERN_OK);
  continue_greedy(c, 12, again);
  EXPECT(memcmp(first, again, sizeof first) == 0);

  /* a fresh context restored from the file continues identically */
  tern_context *d = NULL;
  tern_context_create(m, &p, &d);
  EXPECT_STATUS(tern_state_load_file(d, path), TERN_OK);
  continue_greedy(d, 12, other);
  EXPECT(memcmp(first, other, sizeof first) == 0);

  /* damaged states are refused */
  ((char *)buf)[0] ^= 0x55;
  EXPECT_STATUS(tern_state_load(d, buf, needed), TERN_ERR_STATE_MISMATCH);
  ((char *)buf)[0] ^= 0x55;
  EXPECT_STATUS(tern_state_load(d, buf, needed - 7), TERN_ERR_STATE_MISMATCH);
  EXPECT_STATUS(tern_state_load(d, buf, 5), TERN_ERR_STATE_MISMATCH);
  EXPECT_STATUS(tern_state_load_file(d, "/nonexistent/state"), TERN_ERR_IO);
  free(buf);
  tern_context_free(c);
  tern_context_free(d);
}

static uint64_t kv_bytes_of(tern_context *c) {
  tern_context_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  tern_context_get_stats(c, &st);
  return st.kv_bytes;
}

/* h: an f16 context, f: an f32 one, both empty. */
static void kv_type_generate_and_state(tern_model *m, tern_context *h, tern_context *f) {
  tern_token prompt[64];
  size_t n = 0;
  tern_tokenize(m, "Once upon a time, there was a", 29, 1, 0, prompt, 64, &n);
  EXPECT_STATUS(tern_eval(h, prompt, n), TERN_OK);
  EXPECT_STATUS(tern_eval(f, prompt, n), TERN_OK);
  size_t needed = 0;
  tern_state_save(f, NULL, 0, &needed);
  void *buf = malloc(needed);
  EXPECT_STATUS(tern_state_save(f, buf, needed, &needed), TERN_OK);
  tern_token from_h[12], from_f[12], again[12];
  continue_greedy(h, 12, from_h);
  continue_greedy(f, 12, from_f);
  EXPECT(memcmp(from_h, from_f, sizeof from_h) == 0);
  EXPECT_STATUS(tern_state_load(h, buf, needed), TERN_ERR_STATE_MISMATCH); /* f32 rows into an f16 cache */
  EXPECT_STATUS(tern_state_load(f, buf, needed), TERN_OK);
  continue_greedy(f, 12, again);
  EXPECT(memcmp(from_f, again, sizeof again) == 0);
  free(buf);
}

/* kv_type: an f32 cache takes twice the memory, gives the same greedy tokens on this model,
 * and its state only loads into an f32 context. */
static void test_kv_type(tern_model *m) {
  tern_context *h = NULL, *f = NULL, *old = NULL, *bad = NULL;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 64;
  EXPECT(p.kv_type == TERN_KV_TYPE_F16);
  p.kv_type = 7;
  EXPECT_STATUS(tern_context_create(m, &p, &bad), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(bad == NULL);
  p.kv_type = TERN_KV_TYPE_F16;
  EXPECT_STATUS(tern_context_create(m, &p, &h), TERN_OK);
  p.kv_type = TERN_KV_TYPE_F32;
  EXPECT_STATUS(tern_context_create(m, &p, &f), TERN_OK);
  /* a caller built before kv_type existed passes a struct_size that ends before it */
  p.struct_size = offsetof(tern_context_params, kv_type);
  EXPECT_STATUS(tern_context_create(m, &p, &old), TERN_OK);
  if (h && f && old) {
    EXPECT(kv_bytes_of(f) == 2 * kv_bytes_of(h));
    EXPECT(kv_bytes_of(old) == kv_bytes_of(h));
    kv_type_generate_and_state(m, h, f);
  }
  tern_context_free(h);
  tern_context_free(f);
  tern_context_free(old);
}

typedef struct {
  tern_model *model;
  collector out;
  tern_status status;
} thread_job;

static void *run_job(void *arg) {
  thread_job *j = (thread_job *)arg;
  tern_context *c = NULL;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 128;
  j->status = tern_context_create(j->model, &p, &c);
  if (j->status != TERN_OK) return NULL;
  tern_generate_params g = greedy(30);
  j->status = tern_generate(c, "The little dog", &g, collect, &j->out, NULL);
  tern_context_free(c);
  return NULL;
}

static void test_threads(tern_model *m) {
  /* one model shared by contexts on several threads gives the same text as a single thread */
  thread_job solo;
  memset(&solo, 0, sizeof solo);
  solo.model = m;
  run_job(&solo);
  thread_job jobs[3];
  pthread_t th[3];
  for (int i = 0; i < 3; ++i) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].model = m;
    pthread_create(&th[i], NULL, run_job, &jobs[i]);
  }
  for (int i = 0; i < 3; ++i) {
    pthread_join(th[i], NULL);
    EXPECT(jobs[i].status == TERN_OK);
    EXPECT(strcmp(jobs[i].out.text, solo.out.text) == 0);
  }
}


static void last_logits(tern_model *m, const tern_context_params *p, float *out, int32_t *n_vocab) {
  tern_context *c = NULL;
  tern_token ids[16];
  size_t n = 0;
  tern_tokenize(m, "Once upon a time, there was", 27, 1, 0, ids, 16, &n);
  EXPECT_STATUS(tern_context_create(m, p, &c), TERN_OK);
  EXPECT_STATUS(tern_eval(c, ids, n), TERN_OK);
  const float *l = NULL;
  tern_get_logits(c, &l, n_vocab);
  memcpy(out, l, (size_t)*n_vocab * sizeof(float));
  tern_context_free(c);
}

static void test_rope_override(tern_model *m) {
  static float base[512], same[512], scaled[512];
  int32_t nv = 0;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 64;
  last_logits(m, &p, base, &nv);
  /* linear scaling by 1 and the model's own base frequency change nothing */
  p.rope_scaling = TERN_ROPE_SCALING_LINEAR;
  p.rope_scale_factor = 1.0f;
  p.rope_freq_base = 10000.0f;
  last_logits(m, &p, same, &nv);
  EXPECT(memcmp(base, same, sizeof base) == 0);
  /* linear scaling by 4 (positions / 4) changes the logits */
  p.rope_scale_factor = 4.0f;
  last_logits(m, &p, scaled, &nv);
  EXPECT(memcmp(base, scaled, sizeof base) != 0);
  /* bad values are refused */
  tern_context *c = NULL;
  p.rope_scaling = (tern_rope_scaling)42;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  p.rope_scaling = TERN_ROPE_SCALING_YARN;
  p.rope_scale_factor = -2.0f;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
}


typedef struct {
  tern_context *ctx;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started;
} cancel_job;

static int signal_first_piece(const char *piece, size_t len, void *ud) {
  (void)piece;
  (void)len;
  cancel_job *j = (cancel_job *)ud;
  pthread_mutex_lock(&j->mu);
  j->started = 1;
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return 1;
}

static void *cancel_when_started(void *arg) {
  cancel_job *j = (cancel_job *)arg;
  pthread_mutex_lock(&j->mu);
  while (!j->started) pthread_cond_wait(&j->cv, &j->mu);
  pthread_mutex_unlock(&j->mu);
  tern_cancel(j->ctx);
  return NULL;
}

static void test_cancel_from_another_thread(tern_model *m) {
  cancel_job j;
  memset(&j, 0, sizeof j);
  pthread_mutex_init(&j.mu, NULL);
  pthread_cond_init(&j.cv, NULL);
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 512;
  EXPECT_STATUS(tern_context_create(m, &p, &j.ctx), TERN_OK);
  pthread_t th;
  pthread_create(&th, NULL, cancel_when_started, &j);
  tern_generate_params g = greedy(0); /* unlimited: only the cancel or a full context ends it */
  int32_t n = 0;
  EXPECT_STATUS(tern_generate(j.ctx, "Once upon a time", &g, signal_first_piece, &j, &n), TERN_ERR_CANCELLED);
  pthread_join(th, NULL);
  tern_context_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  tern_context_get_stats(j.ctx, &st);
  EXPECT(st.kv_slots_used < 500); /* stopped well before the context filled */
  /* the context stays usable after a cancel */
  collector c;
  memset(&c, 0, sizeof c);
  tern_context_reset(j.ctx);
  g = greedy(5);
  EXPECT_STATUS(tern_generate(j.ctx, "Once upon a time", &g, collect, &c, &n), TERN_OK);
  tern_context_free(j.ctx);
  pthread_mutex_destroy(&j.mu);
  pthread_cond_destroy(&j.cv);
}

/* The array `key` ("tokens", "prompt_tokens") of a golden case file (shared/README.md): up to cap
 * ids; returns the count. */
static size_t read_golden_ids(const char *path, const char *key, tern_token *out, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  static char text[65536];
  const size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = '\0';
  char quoted[64];
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  const char *p = strstr(text, quoted);
  p = p ? strchr(p, '[') : NULL;
  size_t n = 0;
  while (p && *p != ']' && n < cap) {
    char *end = NULL;
    const long v = strtol(p + 1, &end, 10);
    if (end == p + 1) break;
    out[n++] = (tern_token)v;
    p = end;
    while (*p == ' ' || *p == '\n' || *p == '\r') ++p;
  }
  return n;
}

/* numerics: the llama.cpp mode's argument checks on stories260K, then (when ../shared is there)
 * llama.cpp's own TinyStories-656K-Q8_0.gguf teacher-forced through the C API against the
 * golden logits of case1: every greedy token, and the logits equal to llama.cpp's. */
static void test_numerics(tern_model *m) {
  tern_context *c = NULL, *old = NULL;
  tern_context_params p = tern_context_default_params();
  p.n_ctx = 64;
  EXPECT(p.numerics == TERN_NUMERICS_DEFAULT);
  p.numerics = 7;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_INVALID_ARGUMENT);
  /* a caller built before numerics existed: its struct_size ends before the field */
  p.struct_size = offsetof(tern_context_params, numerics);
  EXPECT_STATUS(tern_context_create(m, &p, &old), TERN_OK);
  tern_context_free(old);
  p.struct_size = sizeof p;
  p.numerics = TERN_NUMERICS_LLAMACPP;
  p.kv_policy = TERN_KV_SINKS_WINDOW;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_UNSUPPORTED);
  p.kv_policy = TERN_KV_DENSE;
  p.kv_type = TERN_KV_TYPE_F32;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_UNSUPPORTED);
  p.kv_type = TERN_KV_TYPE_F16;
  p.rope_freq_base = 20000.0f;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_ERR_UNSUPPORTED);
  p.rope_freq_base = 0.0f;
  EXPECT_STATUS(tern_context_create(m, &p, &c), TERN_OK);
  if (c) {
    collector out;
    memset(&out, 0, sizeof out);
    tern_generate_params g = greedy(8);
    int32_t n = 0;
    EXPECT_STATUS(tern_generate(c, "Once upon a time", &g, collect, &out, &n), TERN_OK);
    EXPECT(n == 8);
    size_t needed = 0;
    EXPECT_STATUS(tern_state_save(c, NULL, 0, &needed), TERN_ERR_UNSUPPORTED);
  }
  tern_context_free(c);

  if (!g_shared_dir) return;
  char model_path[1200], json_path[1200], logits_path[1200];
  snprintf(model_path, sizeof model_path, "%s/models/TinyStories-656K-Q8_0.gguf", g_shared_dir);
  snprintf(json_path, sizeof json_path, "%s/golden/tinystories-656K/case1.json", g_shared_dir);
  snprintf(logits_path, sizeof logits_path, "%s/golden/tinystories-656K/case1.logits.f32", g_shared_dir);
  static tern_token tokens[1024], prompt[1024];
  const size_t n_tokens = read_golden_ids(json_path, "tokens", tokens, 1024);
  const size_t n_prompt = read_golden_ids(json_path, "prompt_tokens", prompt, 1024);
  FILE *lf = fopen(logits_path, "rb");
  tern_model *q8 = NULL;
  if (n_tokens < 2 || n_prompt < 1 || !lf || tern_model_load(model_path, NULL, &q8) != TERN_OK) {
    printf("SKIP (numerics golden part): %s or its goldens are absent\n", model_path);
    if (lf) fclose(lf);
    return;
  }
  tern_context_params qp = tern_context_default_params();
  qp.n_ctx = (int32_t)n_tokens;
  qp.numerics = TERN_NUMERICS_LLAMACPP;
  EXPECT_STATUS(tern_context_create(q8, &qp, &c), TERN_OK);
  const size_t steps = n_tokens - 1;
  int greedy_same = 1;
  size_t identical = 0;
  for (size_t r = 0; c && r < steps; ++r) {
    static float want[2048];
    const float *got = NULL;
    int32_t nv = 0;
    EXPECT_STATUS(tern_eval(c, &tokens[r], 1), TERN_OK);
    tern_get_logits(c, &got, &nv);
    if (nv != 2048 || fread(want, sizeof(float), 2048, lf) != 2048) {
      EXPECT(nv == 2048);
      break;
    }
    identical += memcmp(want, got, sizeof want) == 0;
    int best = 0;
    for (int i = 1; i < nv; ++i)
      if (got[i] > got[best]) best = i;
    if (r + 1 >= n_prompt && best != tokens[r + 1]) greedy_same = 0;  /* a greedy step, not the prompt's */
  }
  printf("numerics: TinyStories-656K case1 through the C API, llama.cpp numerics: %zu of %zu steps' logits "
         "bit-identical to llama.cpp's\n", identical, steps);
  EXPECT(greedy_same);
  EXPECT(identical == steps);
  fclose(lf);
  tern_context_free(c);
  tern_model_free(q8);
}

static void test_chat_template(tern_model *m) {
  tern_chat_message msgs[2] = {{"system", "Be kind."}, {"user", "Hi"}};
  size_t needed = 0;
  EXPECT_STATUS(tern_chat_apply_template(m, "chatml", msgs, 2, 1, NULL, 0, &needed), TERN_ERR_BUFFER_TOO_SMALL);
  char *buf = (char *)malloc(needed);
  EXPECT_STATUS(tern_chat_apply_template(m, "chatml", msgs, 2, 1, buf, needed, &needed), TERN_OK);
  EXPECT(strcmp(buf, "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") == 0);
  free(buf);
  char small[8];
  EXPECT_STATUS(tern_chat_apply_template(m, "no-such-template", msgs, 2, 1, small, sizeof small, &needed),
                TERN_ERR_INVALID_ARGUMENT);
  tern_chat_message bad[1] = {{"robot", "x"}};
  EXPECT_STATUS(tern_chat_apply_template(m, "chatml", bad, 1, 1, small, sizeof small, &needed), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(strcmp(tern_chat_template_name(m), "none") == 0); /* stories260K has no template */
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: c_api_test MODEL.gguf SCRATCH_DIR\n");
    return 2;
  }
  g_model_path = argv[1];
  snprintf(g_scratch, sizeof g_scratch, "%s", argv[2]);
  g_shared_dir = argc > 3 ? argv[3] : NULL;
  FILE *probe = fopen(g_model_path, "rb");
  if (!probe) {
    printf("SKIP: model %s is absent\n", g_model_path);
    return 77;
  }
  fclose(probe);

  test_library();
  test_load_errors();
  test_pipeline_cache();
  tern_model *m = NULL;
  tern_model_params mp = tern_model_default_params();
  mp.progress = count_progress;
  EXPECT_STATUS(tern_model_load(g_model_path, &mp, &m), TERN_OK);
  if (!m) {
    fprintf(stderr, "cannot load %s: %s\n", g_model_path, tern_last_error());
    return 1;
  }
  EXPECT(progress_calls > 0);
  test_model_info(m);
  test_tokenize(m);
  test_context_errors(m);
  test_generate(m);
  test_gpu_sampling(m);
  test_state(m);
  test_kv_type(m);
  test_numerics(m);
  test_kv_policies(m);
  test_threads(m);
  test_chat_template(m);
  test_rope_override(m);
  test_cancel_from_another_thread(m);
  tern_model_free(m);
  tern_model_free(m); /* double free is detected and ignored */

  printf("c_api_test: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}

/* The C API's answers to bad calls that need no GPU: NULL and foreign handles, missing, empty,
 * misnamed and non-GGUF files, unset struct sizes. Every call must return its status with a
 * message, never crash. It runs wherever libtern is built, with no Vulkan device, so the cross
 * builds run it too (Windows under Wine, arm64 under qemu: platforms/README.md).
 * argv[1]: a scratch folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_expect.h"
#include "tern.h"

#ifdef _WIN32
#include <windows.h>
#endif

static int g_passed = 0, g_failed = 0;

/* The call returns status and leaves a message. */
#define EXPECT_STATUS(call, status) EXPECT((call) == (status) && tern_last_error()[0] != '\0')

static char g_scratch[1024];

/* fopen of a UTF-8 name (the C runtime's fopen takes the ANSI code page on Windows). */
static FILE *fopen_utf8(const char *path, const char *mode) {
#ifdef _WIN32
  wchar_t wpath[1200], wmode[8];
  if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, 1200) || !MultiByteToWideChar(CP_UTF8, 0, mode, -1, wmode, 8))
    return NULL;
  return _wfopen(wpath, wmode);
#else
  return fopen(path, mode);
#endif
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen_utf8(path, "wb");
  if (!f) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
}

static void test_library(void) {
  EXPECT(tern_api_version() == TERN_API_VERSION);
  EXPECT(strlen(tern_version()) > 0);
  for (int s = TERN_OK; s <= TERN_ERR_BUFFER_TOO_SMALL; ++s) {
    const char *name = tern_status_string((tern_status)s);
    EXPECT(name != NULL && name[0] != '\0');
  }
  EXPECT(tern_status_string((tern_status)12345) != NULL);
  EXPECT(tern_model_default_params().struct_size == sizeof(tern_model_params));
  EXPECT(tern_context_default_params().struct_size == sizeof(tern_context_params));
  EXPECT(tern_sampler_default_params().struct_size == sizeof(tern_sampler_params));
  EXPECT(tern_generate_default_params().struct_size == sizeof(tern_generate_params));
}

static void test_load_errors(void) {
  tern_model *m = (tern_model *)0x1;
  tern_model_params p = tern_model_default_params();
  char path[1200];

  EXPECT_STATUS(tern_model_load(NULL, &p, &m), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(m == NULL);
  EXPECT_STATUS(tern_model_load("", &p, &m), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_model_load("model.gguf", &p, NULL), TERN_ERR_INVALID_ARGUMENT);

  /* A missing file is an I/O error naming the file, also when the name is not ASCII. */
  snprintf(path, sizeof path, "%s/absent.gguf", g_scratch);
  m = (tern_model *)0x1;
  EXPECT_STATUS(tern_model_load(path, &p, &m), TERN_ERR_IO);
  EXPECT(m == NULL);
  EXPECT(strstr(tern_last_error(), "absent.gguf") != NULL);
  snprintf(path, sizeof path, "%s/\xC3\xA9t\xC3\xA9 \xE6\xA8\xA1\xE5\x9E\x8B.gguf", g_scratch); /* "été 模型" */
  EXPECT_STATUS(tern_model_load(path, &p, &m), TERN_ERR_IO);
  EXPECT(strstr(tern_last_error(), "\xE6\xA8\xA1\xE5\x9E\x8B.gguf") != NULL);

  /* A folder is not a model file. */
  EXPECT_STATUS(tern_model_load(g_scratch, &p, &m), TERN_ERR_IO);

  /* Files that exist but are not GGUF models, under an ASCII and a non-ASCII name. */
  snprintf(path, sizeof path, "%s/not-a-model.gguf", g_scratch);
  write_file(path, "this is not a GGUF file, just some text that is long enough to have a header");
  EXPECT_STATUS(tern_model_load(path, &p, &m), TERN_ERR_BAD_MODEL);
  snprintf(path, sizeof path, "%s/\xC3\xBC-not-a-model.gguf", g_scratch);
  write_file(path, "GGUF but nothing after the magic");
  EXPECT_STATUS(tern_model_load(path, &p, &m), TERN_ERR_BAD_MODEL);
  snprintf(path, sizeof path, "%s/empty.gguf", g_scratch);
  write_file(path, "");
  EXPECT_STATUS(tern_model_load(path, &p, &m), TERN_ERR_BAD_MODEL);
  EXPECT(m == NULL);

  tern_model_params zero;
  memset(&zero, 0, sizeof zero); /* struct_size not set */
  snprintf(path, sizeof path, "%s/not-a-model.gguf", g_scratch);
  EXPECT_STATUS(tern_model_load(path, &zero, &m), TERN_ERR_INVALID_ARGUMENT);
}

/* Every entry point with a NULL handle, and with a pointer that is not a live handle. */
static void test_handles(void) {
  char foreign_storage[256];
  memset(foreign_storage, 0x5a, sizeof foreign_storage);
  tern_model *fm = (tern_model *)(void *)foreign_storage;
  tern_context *fc = (tern_context *)(void *)foreign_storage;
  tern_model_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  tern_context_stats stats;
  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  tern_token ids[4] = {1, 2, 3, 4};
  size_t n = 0;
  char text[64];
  const float *logits = NULL;
  int32_t n_vocab = 0;
  tern_token tok = 0;
  tern_context *ctx = (tern_context *)0x1;
  tern_context_params cp = tern_context_default_params();
  tern_sampler_params sp = tern_sampler_default_params();
  tern_generate_params gp = tern_generate_default_params();
  tern_chat_message msg = {"user", "hi"};
  int32_t n_generated = 7;

  EXPECT_STATUS(tern_model_get_info(NULL, &info), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_model_get_info(fm, &info), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_tokenize(NULL, "hi", 2, 1, 0, ids, 4, &n), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_tokenize(fm, "hi", 2, 1, 0, ids, 4, &n), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_detokenize(NULL, ids, 4, 0, text, sizeof text, &n), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_detokenize(fm, ids, 4, 0, text, sizeof text, &n), TERN_ERR_INVALID_HANDLE);
  EXPECT(tern_token_is_eog(NULL, 2) == 0);
  EXPECT(tern_token_is_eog(fm, 2) == 0);
  EXPECT(strcmp(tern_chat_template_name(NULL), "none") == 0);
  EXPECT(strcmp(tern_chat_template_name(fm), "none") == 0);
  EXPECT_STATUS(tern_chat_apply_template(fm, "chatml", &msg, 1, 1, text, sizeof text, &n), TERN_ERR_INVALID_HANDLE);

  EXPECT_STATUS(tern_context_create(NULL, &cp, &ctx), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(ctx == NULL);
  EXPECT_STATUS(tern_context_create(fm, &cp, &ctx), TERN_ERR_INVALID_HANDLE);
  EXPECT(ctx == NULL);
  EXPECT_STATUS(tern_context_reset(NULL), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_context_reset(fc), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_eval(NULL, ids, 1), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_eval(fc, ids, 1), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_get_logits(NULL, &logits, &n_vocab), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_get_logits(fc, &logits, &n_vocab), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_context_get_stats(NULL, &stats), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_context_get_stats(fc, &stats), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_sample(NULL, &sp, &tok), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_sample(fc, &sp, &tok), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_generate(NULL, "hi", &gp, NULL, NULL, &n_generated), TERN_ERR_INVALID_ARGUMENT);
  EXPECT(n_generated == 0);
  EXPECT_STATUS(tern_generate(fc, "hi", &gp, NULL, NULL, NULL), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_state_save(NULL, text, sizeof text, &n), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_state_save(fc, text, sizeof text, &n), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_state_load(fc, text, sizeof text), TERN_ERR_INVALID_HANDLE);
  EXPECT_STATUS(tern_state_save_file(NULL, "state.bin"), TERN_ERR_INVALID_ARGUMENT);
  EXPECT_STATUS(tern_state_load_file(fc, "state.bin"), TERN_ERR_INVALID_HANDLE);

  /* Never crash: these return nothing. */
  tern_cancel(NULL);
  tern_cancel(fc);
  tern_context_free(NULL);
  tern_context_free(fc);
  tern_model_free(NULL);
  tern_model_free(fm);
  EXPECT(1);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: c_api_errors_test SCRATCH_DIR\n");
    return 2;
  }
  snprintf(g_scratch, sizeof g_scratch, "%s", argv[1]);
  test_library();
  test_load_errors();
  test_handles();
  printf("c_api_errors_test: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}

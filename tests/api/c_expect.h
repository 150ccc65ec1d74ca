/* EXPECT for the C API's tests written in C (c_api_test.c, c_api_errors_test.c): counts passes
 * and failures, and prints each failure with tern_last_error(). A test file defines g_passed and
 * g_failed and returns nonzero from main when g_failed is. */
#ifndef TERN_TESTS_C_EXPECT_H
#define TERN_TESTS_C_EXPECT_H

#include <stdio.h>

#include "tern.h"

#define EXPECT(cond)                                                                                   \
  do {                                                                                                 \
    if (cond) {                                                                                        \
      ++g_passed;                                                                                      \
    } else {                                                                                           \
      ++g_failed;                                                                                      \
      fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", __FILE__, __LINE__, #cond, tern_last_error()); \
    }                                                                                                  \
  } while (0)

#endif

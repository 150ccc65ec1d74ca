// main() of every GoogleTest executable: gtest_main's, except that a run whose selected tests all
// skipped (../shared absent, ...) or that selected none exits 77, which ctest reports as skipped
// (SKIP_RETURN_CODE, cmake/tern_gtest_groups.cmake). A failure always fails the entry. (The
// skip regular expression used before matched "[  PASSED  ] 0 tests." and took precedence over
// the exit code, so an entry whose only test failed was reported as skipped.)
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  if (rc != 0 || GTEST_FLAG_GET(list_tests)) return rc;
  const testing::UnitTest& run = *testing::UnitTest::GetInstance();
  return run.successful_test_count() == 0 && run.skipped_test_count() == run.test_to_run_count() ? 77 : 0;
}

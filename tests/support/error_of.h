// Runs f and returns the tern::Error it throws, or an Error with status Ok when it throws none:
// tests then compare the status and the message in one place.
#pragma once
#include <utility>

#include "common/error.h"

namespace tern::test {

template <class F>
Error error_of(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const Error& e) {
    return e;
  }
  return Error(Status::Ok, "");
}

}  // namespace tern::test

// Boolean switches from the environment (TERN_FUSE, TERN_DISABLE_*, ...): unset or empty is no
// answer, "0" is false, anything else true. Callers pick the default with value_or.
#pragma once
#include <cstdlib>
#include <cstring>
#include <optional>

namespace tern {

inline std::optional<bool> env_bool(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::strcmp(v, "0") != 0;
}

}  // namespace tern

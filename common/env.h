// The one reader of the process environment. The library's TERN_* switches go through
// read_env_options (common/options.h); tools and tests that take a path or a default from the
// environment (TERN_MODEL, TERN_SHARED_DIR, TERN_TEST_VOCABS) use these two, so no other file
// calls getenv.
#pragma once
#include <optional>
#include <string>

namespace tern {

// The variable's value; nullopt when it is unset or empty.
std::optional<std::string> env_string(const char* name);

// A boolean switch: unset or empty says nothing, "0" is off and anything else on.
std::optional<bool> env_bool(const char* name);

}  // namespace tern

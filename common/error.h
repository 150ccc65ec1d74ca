// Internal error type. Runtime code throws tern::Error; the C API (runtime/api) catches every
// exception at its boundary and turns it into a tern_status plus a readable message.
#pragma once
#include <stdexcept>
#include <string>
#include <type_traits>

namespace tern {

// Mirrors tern_status in include/tern.h (kept equal by a static_assert in runtime/api).
enum class Status : int {
  Ok = 0,
  InvalidArgument = 1,
  Io = 2,
  BadModel = 3,        // corrupt, truncated or hostile model file
  Unsupported = 4,     // valid file, but an architecture / tensor type Tern does not run
  OutOfDeviceMemory = 5,
  OutOfHostMemory = 6,
  NoDevice = 7,
  Vulkan = 8,
  DeviceLost = 9,
  Cancelled = 10,
  ContextFull = 11,    // prompt longer than the context or the KV budget
  InvalidHandle = 12,
  InvalidUtf8 = 13,
  StateMismatch = 14,  // saved state from another model / version
  Internal = 15,
};

const char* status_name(Status s);

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

// Throws Error(status, message) when cond is false. A message that is composed (numbers, names)
// is passed as a lambda that returns it, built only when the check fails: checks sit on every
// dispatch, and building their messages eagerly took several heap allocations per dispatch (a
// std::string per literal too), the most frequent allocations of a decode step.
inline void check(bool cond, Status status, const char* message) {
  if (!cond) [[unlikely]] throw Error(status, message);
}
inline void check(bool cond, Status status, const std::string& message) {
  if (!cond) [[unlikely]] throw Error(status, message);
}
template <class MakeMessage>
  requires std::is_invocable_v<MakeMessage&>
inline void check(bool cond, Status status, MakeMessage&& make_message) {
  if (!cond) [[unlikely]] throw Error(status, std::string(make_message()));
}

}  // namespace tern

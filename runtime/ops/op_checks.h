// Argument checks shared by the op dispatchers: a bad size must become a clear
// InvalidArgument, never an out-of-bounds read on the device.
#pragma once
#include <cstdint>
#include <string>

#include "common/error.h"
#include "ops/dispatch_util.h"

namespace tern::ops {

// Throws unless `b` is bound and covers at least `bytes`.
inline void require_bytes(const BufferRef& b, uint64_t bytes, const char* op, const char* arg) {
  check(b.buffer != nullptr && *b.buffer, Status::InvalidArgument,
        [&] { return std::string(op) + ": " + arg + " is not bound"; });
  check(b.bytes() >= bytes, Status::InvalidArgument, [&] {
    return std::string(op) + ": " + arg + " holds " + std::to_string(b.bytes()) + " bytes, needs " +
           std::to_string(bytes);
  });
}

// Throws when an element count does not fit the shaders' 32-bit indices.
inline void require_u32(uint64_t count, const char* op) {
  check(count <= 0xffffffffull, Status::InvalidArgument,
        [&] { return std::string(op) + ": too many elements for one dispatch"; });
}

// Whether the first a_bytes of a and the first b_bytes of b share memory.
inline bool overlaps(const BufferRef& a, uint64_t a_bytes, const BufferRef& b, uint64_t b_bytes) {
  return a.buffer == b.buffer && a.offset < b.offset + b_bytes && b.offset < a.offset + a_bytes;
}

}  // namespace tern::ops

#include "common/error.h"

namespace tern {

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::InvalidArgument: return "invalid argument";
    case Status::Io: return "I/O error";
    case Status::BadModel: return "bad model file";
    case Status::Unsupported: return "unsupported";
    case Status::OutOfDeviceMemory: return "out of device memory";
    case Status::OutOfHostMemory: return "out of host memory";
    case Status::NoDevice: return "no Vulkan device";
    case Status::Vulkan: return "Vulkan error";
    case Status::DeviceLost: return "device lost";
    case Status::Cancelled: return "cancelled";
    case Status::ContextFull: return "context full";
    case Status::InvalidHandle: return "invalid handle";
    case Status::InvalidUtf8: return "invalid UTF-8";
    case Status::StateMismatch: return "state mismatch";
    case Status::Internal: return "internal error";
  }
  return "unknown status";
}

}  // namespace tern

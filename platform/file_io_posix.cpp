#include <unistd.h>

#include "platform/file_io.h"

namespace tern::platform {

std::FILE* fopen_utf8(const std::string& path, const char* mode) { return std::fopen(path.c_str(), mode); }

bool sync_file(std::FILE* f) { return std::fflush(f) == 0 && fsync(fileno(f)) == 0; }

unsigned long process_id() { return static_cast<unsigned long>(getpid()); }

}  // namespace tern::platform

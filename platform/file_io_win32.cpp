#include <io.h>
#include <windows.h>

#include "platform/file_io.h"
#include "platform/utf16_win32.h"

namespace tern::platform {

std::FILE* fopen_utf8(const std::string& path, const char* mode) {
  try {
    return _wfopen(widen(path).c_str(), widen(mode).c_str());
  } catch (...) {  // not UTF-8: no such file, as fopen would say of an unrepresentable name
    return nullptr;
  }
}

bool sync_file(std::FILE* f) {
  if (std::fflush(f) != 0) return false;
  const HANDLE h = reinterpret_cast<HANDLE>(_get_osfhandle(_fileno(f)));
  return h != INVALID_HANDLE_VALUE && FlushFileBuffers(h);
}

unsigned long process_id() { return GetCurrentProcessId(); }

}  // namespace tern::platform

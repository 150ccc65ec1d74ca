#include <io.h>
#include <windows.h>

#include <algorithm>

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

void sync_parent_directory(const std::string&) {}  // MoveFileEx's rename is durable on return

bool read_file_bounded(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>& out, FileReadError* err) {
  if (err) *err = {};
  std::wstring wide;
  try {
    wide = widen(path);
  } catch (...) {  // not UTF-8: no file can have that name
    return FileReadError::fail(err, FileReadError::Missing, "does not exist");
  }
  const HANDLE h = CreateFileW(wide.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
      return FileReadError::fail(err, FileReadError::Missing, "does not exist");
    return FileReadError::fail(err, FileReadError::Io, "cannot be opened: " + error_message(e));
  }
  // FILE_FLAG_BACKUP_SEMANTICS opens a directory too, so it can be told apart from a device or pipe.
  BY_HANDLE_FILE_INFORMATION info{};
  const bool disk = GetFileType(h) == FILE_TYPE_DISK;
  if (!disk || !GetFileInformationByHandle(h, &info) || (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    const bool dir = disk && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY);
    CloseHandle(h);
    return FileReadError::fail(err, FileReadError::NotRegular,
                     dir ? "is a directory" : "is not a regular file (a device, pipe or socket)");
  }
  const uint64_t size = (uint64_t(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (size > max_bytes) {
    CloseHandle(h);
    return FileReadError::fail(err, FileReadError::TooLarge,
                     "is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  }
  out.resize(size);
  uint64_t done = 0;
  while (done < size) {
    const DWORD want = DWORD(std::min<uint64_t>(size - done, 1u << 30));
    DWORD got = 0;
    const bool ok = ReadFile(h, out.data() + done, want, &got, nullptr);
    if (!ok || got == 0) {
      const std::string why = ok ? std::string("shrank while being read") : "cannot be read: " + error_message(GetLastError());
      CloseHandle(h);
      out.clear();
      return FileReadError::fail(err, FileReadError::Io, why);
    }
    done += got;
  }
  CloseHandle(h);
  return true;
}

}  // namespace tern::platform

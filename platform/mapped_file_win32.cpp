#include <windows.h>

#include "common/error.h"
#include "platform/mapped_file.h"
#include "platform/utf16_win32.h"

namespace tern::platform {

std::unique_ptr<MappedFile> MappedFile::open(const std::string& path) {
  // FILE_SHARE_DELETE as POSIX allows: the file may be replaced or removed while mapped.
  const HANDLE file = CreateFileW(widen(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr,
                                  OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) {
    const DWORD err = GetLastError();
    // A directory fails to open without FILE_FLAG_BACKUP_SEMANTICS: say what POSIX says.
    const DWORD attrs = GetFileAttributesW(widen(path).c_str());
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY))
      throw Error(Status::Io, "'" + path + "' is not a regular file");
    throw Error(Status::Io, "cannot open '" + path + "': " + error_message(err));
  }
  struct Closer {
    HANDLE h;
    ~Closer() { CloseHandle(h); }
  } close_file{file};
  if (GetFileType(file) != FILE_TYPE_DISK) throw Error(Status::Io, "'" + path + "' is not a regular file");
  LARGE_INTEGER size{};
  if (!GetFileSizeEx(file, &size)) throw Error(Status::Io, "cannot stat '" + path + "': " + error_message(GetLastError()));
  if (size.QuadPart == 0) return std::unique_ptr<MappedFile>(new MappedFile(nullptr, 0));
  const HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
  if (!mapping) throw Error(Status::Io, "cannot map '" + path + "': " + error_message(GetLastError()));
  void* view = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
  const DWORD err = GetLastError();
  CloseHandle(mapping);  // the view keeps the mapping (and the file) alive
  if (!view) throw Error(Status::Io, "cannot map '" + path + "': " + error_message(err));
  return std::unique_ptr<MappedFile>(new MappedFile(static_cast<const uint8_t*>(view), uint64_t(size.QuadPart)));
}

MappedFile::~MappedFile() {
  if (data_) UnmapViewOfFile(data_);
}

}  // namespace tern::platform

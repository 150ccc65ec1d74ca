#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/file_io.h"

namespace tern::platform {
std::FILE* fopen_utf8(const std::string& path, const char* mode) { return std::fopen(path.c_str(), mode); }

bool sync_file(std::FILE* f) { return std::fflush(f) == 0 && fsync(fileno(f)) == 0; }

unsigned long process_id() { return static_cast<unsigned long>(getpid()); }

void sync_parent_directory(const std::string& path) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

bool read_file_bounded(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>& out, FileReadError* err) {
  if (err) *err = {};
  // O_NONBLOCK: opening a FIFO must not wait for a writer; the file type is checked next.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT) return FileReadError::fail(err, FileReadError::Missing, "does not exist");
    return FileReadError::fail(err, FileReadError::Io, std::string("cannot be opened: ") + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return FileReadError::fail(err, FileReadError::Io, std::string("cannot be examined: ") + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FileReadError::fail(err, FileReadError::NotRegular,
                     S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file (a device, pipe or socket)");
  }
  const uint64_t size = uint64_t(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    return FileReadError::fail(err, FileReadError::TooLarge,
                     "is " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) + " allowed");
  }
  out.resize(size);
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::string("cannot be read: ") + std::strerror(errno) : "shrank while being read";
      ::close(fd);
      out.clear();
      return FileReadError::fail(err, FileReadError::Io, why);
    }
    done += uint64_t(n);
  }
  ::close(fd);
  return true;
}

}  // namespace tern::platform

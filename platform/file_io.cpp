// What the platforms share of platform/file_io.h: the atomic write, built on the per-OS
// fopen_utf8, sync_file and sync_parent_directory.
#include "platform/file_io.h"

#include <atomic>
#include <cerrno>
#include <cstring>

namespace tern::platform {
namespace {

bool fail_write(std::string* why, std::string message) {
  if (why) *why = std::move(message);
  return false;
}

void remove_quietly(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path_from_utf8(path), ignored);
}

}  // namespace

bool write_file_atomically(const std::string& path, std::span<const uint8_t> bytes, std::string* why) {
  // Unique per process and per call, so concurrent writers never share a temporary file.
  static std::atomic<uint32_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(process_id()) + "." + std::to_string(counter.fetch_add(1));
  std::FILE* f = fopen_utf8(tmp, "wb");
  if (!f) return fail_write(why, "cannot create '" + tmp + "': " + std::strerror(errno));
  const bool written = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool flushed = sync_file(f);
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !flushed || !closed) {
    const std::string err = std::strerror(written && flushed ? errno : write_errno);
    remove_quietly(tmp);
    return fail_write(why, "cannot write '" + tmp + "': " + err);
  }
  std::error_code ec;
  std::filesystem::rename(path_from_utf8(tmp), path_from_utf8(path), ec);
  if (ec) {
    remove_quietly(tmp);
    return fail_write(why, "cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
  sync_parent_directory(path);
  return true;
}

}  // namespace tern::platform

// Files named by UTF-8 paths, on every platform. Tern's API takes UTF-8 (tern.h); on Windows a
// std::string path given to fopen, std::ifstream or std::filesystem::path would be read in the
// process's ANSI code page instead, so every file Tern opens by name goes through here.
// Also whole-file reads with a size bound and atomic whole-file writes: what the persisted
// pipeline cache and saved context states need, so neither can read a device or a pipe forever
// nor leave a torn file behind.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::platform {

// The path a UTF-8 string names (C++20's char8_t constructor: UTF-16 on Windows, the same bytes
// on POSIX). Use it to open streams: std::ifstream f(path_from_utf8(s)).
inline std::filesystem::path path_from_utf8(std::string_view utf8) {
  return std::filesystem::path(std::u8string(utf8.begin(), utf8.end()));
}

// The UTF-8 text of a path (for messages and for APIs that take UTF-8 strings).
inline std::string path_to_utf8(const std::filesystem::path& p) {
  const std::u8string s = p.u8string();
  return std::string(s.begin(), s.end());
}

// std::fopen of a UTF-8 path (_wfopen on Windows).
std::FILE* fopen_utf8(const std::string& path, const char* mode);

// Flushes a written file's data to the storage device (fsync; FlushFileBuffers on Windows).
bool sync_file(std::FILE* f);

// This process's id (for unique temporary file names).
unsigned long process_id();

// Best effort: makes a rename in the directory holding path durable (fsync of the directory on
// POSIX; nothing on Windows, where the rename is durable once MoveFileEx returns). Some file
// systems cannot sync a directory; the renamed file is complete either way.
void sync_parent_directory(const std::string& path);

struct FileReadError {
  enum Kind { None, Missing, NotRegular, TooLarge, Io } kind = None;
  std::string message;  // what is wrong, to follow "the file ": "is a directory", "does not exist"

  // How the readers refuse: sets *err when given and returns false.
  static bool fail(FileReadError* err, Kind kind, std::string message) {
    if (err) *err = {kind, std::move(message)};
    return false;
  }
};

// Reads the UTF-8 path whole when it is a regular file of at most max_bytes; otherwise returns
// false with *err saying why (a directory, a device or a pipe is NotRegular and is never read).
bool read_file_bounded(const std::string& path, uint64_t max_bytes, std::vector<uint8_t>& out, FileReadError* err);

// Writes bytes to a temporary file beside path, flushes it to the disk and renames it over
// path, so readers (other processes included) see the old file or the new one, never a torn
// one, and a full disk leaves the old file as it was. False + *why on failure.
bool write_file_atomically(const std::string& path, std::span<const uint8_t> bytes, std::string* why);

}  // namespace tern::platform

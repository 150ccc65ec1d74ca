// Files named by UTF-8 paths, on every platform. Tern's API takes UTF-8 (tern.h); on Windows a
// std::string path given to fopen, std::ifstream or std::filesystem::path would be read in the
// process's ANSI code page instead, so every file Tern opens by name goes through here.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

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

}  // namespace tern::platform

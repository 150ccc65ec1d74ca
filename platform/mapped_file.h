// A whole file mapped read-only into memory: POSIX mmap (mapped_file_posix.cpp) or Windows
// MapViewOfFile (mapped_file_win32.cpp). Model files are read through this, so loading a model
// costs page-cache pages, not a copy.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace tern::platform {

class MappedFile {
 public:
  // Maps the file named by a UTF-8 path. Error(Io) naming the path and the reason when it is
  // missing, unreadable or not a regular file. An empty file gives size() == 0, data() == nullptr.
  static std::unique_ptr<MappedFile> open(const std::string& utf8_path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  MappedFile(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  const uint8_t* data_;
  uint64_t size_;
};

}  // namespace tern::platform

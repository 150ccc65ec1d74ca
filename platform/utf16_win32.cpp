#include "platform/utf16_win32.h"

#include <windows.h>

#include "common/error.h"

namespace tern::platform {

std::wstring widen(std::string_view utf8) {
  if (utf8.empty()) return {};
  check(utf8.size() < 0x7fffffff, Status::InvalidArgument, "text too long for a Windows call");
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), int(utf8.size()), nullptr, 0);
  check(n > 0, Status::InvalidUtf8, "a path or text given to Windows is not valid UTF-8");
  std::wstring out(size_t(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), int(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(std::wstring_view utf16) {
  if (utf16.empty()) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, utf16.data(), int(utf16.size()), nullptr, 0, nullptr, nullptr);
  std::string out(size_t(n > 0 ? n : 0), '\0');
  if (n > 0) WideCharToMultiByte(CP_UTF8, 0, utf16.data(), int(utf16.size()), out.data(), n, nullptr, nullptr);
  return out;
}

std::string error_message(uint32_t code) {
  wchar_t* text = nullptr;
  const DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                     FORMAT_MESSAGE_IGNORE_INSERTS,
                                 nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string msg = n ? narrow(std::wstring_view(text, n)) : std::string();
  if (text) LocalFree(text);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r' || msg.back() == ' ' || msg.back() == '.'))
    msg.pop_back();
  return (msg.empty() ? std::string("error") : msg) + " (Windows error " + std::to_string(code) + ")";
}

}  // namespace tern::platform

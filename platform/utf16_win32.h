// Windows only: UTF-8 <-> UTF-16 for the W (wide) Win32 calls, and readable Win32 error
// messages. Tern's API and files speak UTF-8; the A (ANSI) calls would use the process's code
// page and lose any character outside it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tern::platform {

// Error(InvalidUtf8) when the text is not well-formed UTF-8.
std::wstring widen(std::string_view utf8);
// Unpaired surrogates become U+FFFD.
std::string narrow(std::wstring_view utf16);
// FormatMessage text of a GetLastError() code, with the code.
std::string error_message(uint32_t code);

}  // namespace tern::platform

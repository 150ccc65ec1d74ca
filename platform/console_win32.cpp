#include <io.h>
#include <windows.h>
// after windows.h
#include <shellapi.h>

#include <atomic>
#include <iostream>

#include "platform/console.h"
#include "platform/file_io.h"
#include "platform/utf16_win32.h"

namespace tern::platform {
namespace {

std::atomic<void (*)()> g_handler{nullptr};

BOOL WINAPI on_ctrl(DWORD event) {
  if (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT) return FALSE;  // close, logoff: default
  if (auto h = g_handler.load()) h();
  return TRUE;
}

HANDLE console_input() {
  const HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode = 0;
  return in != INVALID_HANDLE_VALUE && GetConsoleMode(in, &mode) ? in : nullptr;
}

}  // namespace

std::vector<std::string> utf8_arguments(int argc, char** argv) {
  int n = 0;
  LPWSTR* wide = CommandLineToArgvW(GetCommandLineW(), &n);
  if (!wide) return std::vector<std::string>(argv, argv + argc);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(narrow(wide[i]));
  LocalFree(wide);
  return out;
}

void init_console() {
  SetConsoleOutputCP(CP_UTF8);  // stdout and stderr carry UTF-8 bytes
}

bool is_terminal(std::FILE* stream) { return _isatty(_fileno(stream)) != 0; }

bool read_line(std::string& line) {
  line.clear();
  const HANDLE in = console_input();
  if (!in) {  // a pipe or a file: bytes as they are (UTF-8), CRLF or LF endings
    if (!std::getline(std::cin, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }
  std::wstring wide;
  wchar_t buf[256];
  for (;;) {
    DWORD got = 0;
    if (!ReadConsoleW(in, buf, DWORD(std::size(buf)), &got, nullptr) || got == 0) {
      if (wide.empty()) return false;
      break;
    }
    wide.append(buf, got);
    if (wide.back() == L'\n') break;
  }
  while (!wide.empty() && (wide.back() == L'\n' || wide.back() == L'\r')) wide.pop_back();
  if (!wide.empty() && wide[0] == 0x1a) return false;  // Ctrl-Z, Enter: the console's end of input
  line = narrow(wide);
  return true;
}

void on_interrupt(void (*handler)()) {
  g_handler = handler;
  SetConsoleCtrlHandler(on_ctrl, handler ? TRUE : FALSE);
}

bool file_readable(const std::string& utf8_path) {
  std::FILE* f = fopen_utf8(utf8_path, "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

}  // namespace tern::platform

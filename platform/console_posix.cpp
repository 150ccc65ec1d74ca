#include <unistd.h>

#include <csignal>
#include <iostream>

#include "platform/console.h"

namespace tern::platform {
namespace {

void (*g_handler)() = nullptr;

void on_sigint(int) {
  if (g_handler) g_handler();
}

}  // namespace

std::vector<std::string> utf8_arguments(int argc, char** argv) { return std::vector<std::string>(argv, argv + argc); }

void init_console() {}

bool is_terminal(std::FILE* stream) { return isatty(fileno(stream)) != 0; }

bool read_line(std::string& line) { return bool(std::getline(std::cin, line)); }

void on_interrupt(void (*handler)()) {
  g_handler = handler;
  std::signal(SIGINT, handler ? on_sigint : SIG_DFL);
}

bool file_readable(const std::string& utf8_path) { return access(utf8_path.c_str(), R_OK) == 0; }

}  // namespace tern::platform

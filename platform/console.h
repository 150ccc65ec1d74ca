// What the command-line tools need from the terminal, per platform (console_posix.cpp,
// console_win32.cpp): UTF-8 arguments, UTF-8 console text in and out, Ctrl-C.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace tern::platform {

// The command line as UTF-8 strings, argv[0] first. Windows builds them from GetCommandLineW
// (argv there is in the ANSI code page and loses other characters); POSIX returns argv.
std::vector<std::string> utf8_arguments(int argc, char** argv);

// Prepares the console for UTF-8 text (Windows: the output code page); nothing on POSIX.
void init_console();

// Whether stream (stdin, stdout or stderr) is an interactive terminal.
bool is_terminal(std::FILE* stream);

// Reads one line of UTF-8 text from stdin, without its line ending; false at the end of input.
// A Windows console is read as UTF-16 (its input code page need not be UTF-8).
bool read_line(std::string& line);

// Calls handler on Ctrl-C instead of ending the process (POSIX: SIGINT, so the handler must be
// async-signal-safe; Windows: a console control handler, which runs on a thread of its own).
void on_interrupt(void (*handler)());

// Whether a file exists and can be opened for reading.
bool file_readable(const std::string& utf8_path);

}  // namespace tern::platform

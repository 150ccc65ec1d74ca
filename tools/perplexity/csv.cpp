#include "perplexity/csv.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace tern::ppl {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string csv_row(const std::vector<std::string>& fields) {
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) row += ',';
    row += csv_field(fields[i]);
  }
  return row + "\n";
}

void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows) {
  std::ofstream f(path, std::ios::binary);
  f << csv_row(header);
  for (const auto& r : rows) f << csv_row(r);
  f.flush();
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& what) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t line = 1, i = 0;
  auto fail = [&](const char* why) { throw std::invalid_argument(what + ", line " + std::to_string(line) + ": " + why); };
  while (i < text.size()) {
    // One field: quoted (ends at a quote not doubled) or plain (ends at a comma or line break).
    if (text[i] == '"') {
      const size_t opened = line;
      for (++i;; ++i) {
        if (i >= text.size()) line = opened, fail("unterminated quoted field");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
          else break;
        } else {
          if (text[i] == '\n') ++line;
          field += text[i];
        }
      }
      ++i;
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') fail("text after a closing quote");
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
    }
    row.push_back(std::move(field));
    field.clear();
    if (i < text.size() && text[i] == ',') {
      if (++i == text.size()) row.emplace_back();  // a trailing comma ends with an empty field
      continue;
    }
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    ++line;
    if (row.size() > 1 || !row[0].empty()) rows.push_back(std::move(row));  // blank lines are skipped
    row.clear();
  }
  if (!row.empty()) rows.push_back(std::move(row));
  return rows;
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace tern::ppl

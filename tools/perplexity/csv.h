// Minimal RFC 4180 CSV: fields holding a comma, quote or line break are quoted on output, and the
// reader takes back what the writer wrote (quoted fields, doubled quotes, line breaks inside quotes).
#pragma once
#include <string>
#include <vector>

namespace tern::ppl {

std::string csv_field(const std::string& s);
std::string csv_row(const std::vector<std::string>& fields);  // ends with "\n"
// Writes header + rows; throws std::runtime_error when the file cannot be written.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows);
// Rows of a CSV text (the header is the first row); throws std::invalid_argument naming `what` and
// the line on an unterminated quote or text after a closing quote.
std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& what);
// Shortest round-trip-safe text of a double ("nan", "inf" as such).
std::string num(double v);

}  // namespace tern::ppl

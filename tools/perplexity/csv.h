// Minimal RFC 4180 CSV output: fields holding a comma, quote or line break are quoted.
#pragma once
#include <string>
#include <vector>

namespace tern::ppl {

std::string csv_field(const std::string& s);
std::string csv_row(const std::vector<std::string>& fields);  // ends with "\n"
// Writes header + rows; throws std::runtime_error when the file cannot be written.
void write_csv(const std::string& path, const std::vector<std::string>& header,
               const std::vector<std::vector<std::string>>& rows);
// Shortest round-trip-safe text of a double ("nan", "inf" as such).
std::string num(double v);

}  // namespace tern::ppl

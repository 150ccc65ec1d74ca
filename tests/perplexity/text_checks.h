// Helpers of the tern-perplexity output tests: counting occurrences in a text, and (where the
// test links expat) checking that an SVG document is well-formed XML.
#pragma once
#include <string>

#ifdef TERN_HAVE_EXPAT
#include <expat.h>
#endif

namespace tern::ppl::test {

inline size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

#ifdef TERN_HAVE_EXPAT
// Empty when the document parses; else expat's message and line.
inline std::string xml_error(const std::string& doc) {
  XML_Parser p = XML_ParserCreate(nullptr);
  std::string error;
  if (XML_Parse(p, doc.data(), int(doc.size()), 1) != XML_STATUS_OK)
    error = std::string(XML_ErrorString(XML_GetErrorCode(p))) + " at line " +
            std::to_string(XML_GetCurrentLineNumber(p));
  XML_ParserFree(p);
  return error;
}
#endif

}  // namespace tern::ppl::test

#include "tokenizer/pretokenizer.h"

#include <functional>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/error.h"

namespace tern {
namespace {

// The expressions as the vocabularies' tokenizer.json files spell them, except that "(?i:'s|...)"
// is written out as "'[sS]|..." the way llama.cpp and transformers.js do (PCRE2's caseless mode
// would also match the long s, U+017F, after an apostrophe).
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3 takes digits in runs of up to three; Qwen2 one at a time.
constexpr const char* kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct NamedPreset {
  std::vector<std::string_view> names;
  PreTokenizerPreset preset;
};

const std::vector<NamedPreset>& presets() {
  static const std::vector<NamedPreset> p = {
      // llama.cpp's fallback for vocabularies whose pre-tokenizer it does not know.
      {{"default", ""},
       {{R"([\p{P}\$\+<=>\^~\|]+)", R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
         R"(\p{N}+)", "[0-9][0-9][0-9]"},
        false, false}},
      {{"gpt-2", "gpt2"}, {{kGpt2}, false, false}},
      {{"llama-bpe", "llama3", "llama-v3"}, {{kLlama3}, true, true}},
      {{"qwen2", "deepseek-r1-qwen"}, {{kQwen2}, false, false}},
      // Hugging Face's Digits(individual_digits) step, then GPT-2's expression.
      {{"smollm"}, {{R"(\p{N})", kGpt2}, false, false}},
  };
  return p;
}

// PCRE2's \s in UCP mode is \p{Z} plus \h and \v, which adds U+180E to Unicode's White_Space;
// Hugging Face's regex engine and llama.cpp mean White_Space, so \s and \S are spelled out
// (a plain scan, enough for the fixed expressions above: no nested classes, no \Q...\E).
constexpr std::string_view kWhiteSpace =
    R"(\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string with_white_space_classes(std::string_view re) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      const char e = re[++i];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
      } else if (e == 'S') {
        check(!in_class, Status::Internal, "pre-tokenizer: \\S inside a character class");
        out += "[^" + std::string(kWhiteSpace) + "]";
      } else {
        out += c;
        out += e;
      }
      continue;
    }
    if (c == '[' && !in_class) in_class = true;
    else if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  return pcre2_get_error_message(code, buf, sizeof buf) < 0 ? "error " + std::to_string(code)
                                                            : std::string(reinterpret_cast<char*>(buf));
}

}  // namespace

const PreTokenizerPreset* find_pre_tokenizer_preset(std::string_view pre) {
  for (const auto& p : presets())
    for (auto n : p.names)
      if (n == pre) return &p.preset;
  return nullptr;
}

const PreTokenizerPreset& pre_tokenizer_preset(std::string_view pre) {
  if (const auto* p = find_pre_tokenizer_preset(pre)) return *p;
  std::string known;
  for (const auto& p : presets()) known += " " + std::string(p.names.front());
  throw Error(Status::Unsupported, "pre-tokenizer '" + std::string(pre) + "' is not supported (known:" + known + ")");
}

struct PreTokenizer::Regex {
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }

  // Passes the matches in piece and the text between them, in order, to out.
  template <class Out>
  void cut(std::string_view piece, pcre2_match_data* md, const Out& out) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
    size_t pos = 0, gap = 0;
    while (pos < piece.size()) {
      int rc = pcre2_match(code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
      // The JIT's fixed stack can run out on long inputs; the interpreter uses the heap.
      if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) throw Error(Status::Internal, "pre-tokenizer: regex match failed: " + pcre2_message(rc));
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      const size_t start = ov[0], end = ov[1];
      if (end == start) {  // an empty match cuts nothing: step over one character
        pos = start + 1;
        while (pos < piece.size() && (uint8_t(piece[pos]) & 0xC0) == 0x80) ++pos;
        continue;
      }
      if (start > gap) out(piece.substr(gap, start - gap));
      out(piece.substr(start, end - start));
      pos = gap = end;
    }
    if (gap < piece.size()) out(piece.substr(gap));
  }
};

PreTokenizer::PreTokenizer(const std::vector<std::string>& regexes) {
  for (const std::string& source : regexes) {
    const std::string re = with_white_space_classes(source);
    int err = 0;
    PCRE2_SIZE at = 0;
    auto r = std::make_unique<Regex>();
    r->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(), PCRE2_UTF | PCRE2_UCP, &err, &at,
                            nullptr);
    check(r->code != nullptr, Status::BadModel,
          "pre-tokenizer regex '" + source + "' does not compile: " + pcre2_message(err) + " at offset " +
              std::to_string(at));
    pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);  // best effort: without JIT the interpreter runs
    regexes_.push_back(std::move(r));
  }
}

PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::for_each_word(std::string_view text, const std::function<void(std::string_view)>& word) const {
  if (text.empty()) return;
  using MatchData = std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)>;
  std::vector<MatchData> md;
  for (const auto& r : regexes_) {
    md.emplace_back(pcre2_match_data_create_from_pattern(r->code, nullptr), pcre2_match_data_free);
    if (!md.back()) throw Error(Status::OutOfHostMemory, "pre-tokenizer: cannot allocate match data");
  }
  // Each expression cuts each piece the previous one left, depth first: the words come out in
  // order with nothing held but the current piece at each level (not a list of every word).
  std::function<void(std::string_view, size_t)> cut = [&](std::string_view piece, size_t level) {
    if (level == regexes_.size()) return word(piece);
    regexes_[level]->cut(piece, md[level].get(), [&](std::string_view p) { cut(p, level + 1); });
  };
  cut(text, 0);
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> words;
  for_each_word(text, [&](std::string_view w) { words.push_back(w); });
  return words;
}

}  // namespace tern

#include "perplexity/passkey_prompt.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>
#include <stdexcept>

namespace tern::ppl {

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
char lower(char c) { return char(std::tolower(static_cast<unsigned char>(c))); }

// What the needle is called in its sentences.
const char* needle_name(NeedleKind k) { return k == NeedleKind::Key ? "pass key" : "secret word"; }

}  // namespace

// Concrete nouns of children's stories: short, common, and spelled the same in every English
// vocabulary, so small story models can hold them.
const std::vector<std::string> k_needle_words = {
    "apple",  "banana", "garden", "rocket", "castle",  "dragon",  "pencil",  "turtle", "kitten", "rabbit",
    "flower", "pirate", "button", "cookie", "candle",  "jungle",  "basket",  "mirror", "island", "window",
    "rainbow", "balloon", "monster", "treasure", "forest", "river", "puppy", "tiger", "lemon", "orange",
    "carrot", "robot",  "planet", "blanket", "bucket", "feather", "hammer",  "ladder", "pillow", "wagon"};

NeedleKind parse_needle_kind(const std::string& s) {
  if (s == "key") return NeedleKind::Key;
  if (s == "word") return NeedleKind::Word;
  throw std::invalid_argument("--needle: '" + s + "' is not a needle kind (key or word)");
}

const char* needle_kind_name(NeedleKind k) { return k == NeedleKind::Key ? "key" : "word"; }

Needle needle_from_seed(NeedleKind kind, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Needle n;
  n.kind = kind;
  if (kind == NeedleKind::Key)
    n.value = std::to_string(std::uniform_int_distribution<uint32_t>(10000, 99999)(rng));
  else
    n.value = k_needle_words[std::uniform_int_distribution<size_t>(0, k_needle_words.size() - 1)(rng)];
  return n;
}

std::string needle_intro(NeedleKind kind) {
  const std::string name = needle_name(kind);
  return "There is a " + name + " hidden inside a lot of unimportant text. Find it and remember it. "
         "I will ask you about the " + name + " later. ";
}

std::string needle_sentence(const Needle& n) {
  const std::string name = needle_name(n.kind);
  return "The " + name + " is " + n.value + ". Remember it. " + n.value + " is the " + name + ". ";
}

std::string needle_question(NeedleKind kind) {
  const std::string name = needle_name(kind);
  return "What is the " + name + "? The " + name + " is";
}

Filler default_filler() {
  return {{"The grass is green. ", "The sky is blue. ", "The sun is yellow. ", "Here we go. ", "There and back again. "},
          "repeated"};
}

Filler filler_from_text(const std::string& text, const std::string& source) {
  Filler f;
  f.source = source;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && cur.back() == ' ') cur.pop_back();
    if (!cur.empty()) f.sentences.push_back(cur + " ");
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      flush();
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty() && cur.back() != ' ') cur += ' ';
      continue;
    }
    cur += c;
    if (c == '.' || c == '!' || c == '?') {
      while (i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\'' || text[i + 1] == ')')) cur += text[++i];
      if (i + 1 >= text.size() || std::isspace(static_cast<unsigned char>(text[i + 1]))) flush();
    }
  }
  flush();
  if (f.sentences.empty()) throw std::invalid_argument("filler " + source + " holds no sentence");
  return f;
}

uint32_t needle_insert_index(double depth, uint32_t n_filler) {
  const double d = std::clamp(std::isfinite(depth) ? depth : 0.0, 0.0, 1.0);
  return std::min<uint32_t>(n_filler, uint32_t(std::lround(d * n_filler)));
}

std::string needle_prompt(const Needle& needle, const Filler& filler, uint32_t n_filler, double depth) {
  const uint32_t at = needle_insert_index(depth, n_filler);
  std::string p = needle_intro(needle.kind);
  for (uint32_t i = 0; i <= n_filler; ++i) {
    if (i == at) p += needle_sentence(needle);
    if (i < n_filler) p += filler.sentences[i % filler.sentences.size()];
  }
  return p + needle_question(needle.kind);
}

bool answer_has_needle(const std::string& answer, const Needle& needle) {
  if (needle.value.empty()) return false;
  const bool key = needle.kind == NeedleKind::Key;
  auto part_of_token = [&](size_t i) { return key ? is_digit(answer[i]) : is_alpha(answer[i]); };
  auto matches_at = [&](size_t at) {
    for (size_t j = 0; j < needle.value.size(); ++j)
      if (key ? answer[at + j] != needle.value[j] : lower(answer[at + j]) != lower(needle.value[j])) return false;
    return true;
  };
  for (size_t at = 0; at + needle.value.size() <= answer.size(); ++at) {
    if (!matches_at(at)) continue;
    const bool before = at > 0 && part_of_token(at - 1);
    const bool after = at + needle.value.size() < answer.size() && part_of_token(at + needle.value.size());
    if (!before && !after) return true;
  }
  return false;
}

}  // namespace tern::ppl

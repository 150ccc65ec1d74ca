// Needle-in-a-haystack prompts for passkey retrieval: a needle (a random 5-digit key, or a secret
// word) hidden at a depth in filler text (repeated sentences, or the sentences of a fixed filler
// file), then a question, and the check of an answer. Pure logic: the tool sizes prompts to a
// token length with the model's tokenizer; tests call these directly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tern::ppl {

// What is hidden. Key: a 5-digit number ("The pass key is 71432."); Word: a common noun from a
// fixed list ("The secret word is garden.").
enum class NeedleKind { Key, Word };

struct Needle {
  NeedleKind kind = NeedleKind::Key;
  std::string value;  // "71432" or "garden"
};

// "key" or "word"; parse throws std::invalid_argument on anything else.
NeedleKind parse_needle_kind(const std::string& s);
const char* needle_kind_name(NeedleKind k);

// The needle of a trial, from its seed (deterministic): keys uniform in [10000, 99999], words
// uniform over k_needle_words.
Needle needle_from_seed(NeedleKind kind, uint64_t seed);
extern const std::vector<std::string> k_needle_words;

// The parts every prompt is made of.
std::string needle_intro(NeedleKind kind);
std::string needle_sentence(const Needle& n);  // "The pass key is 71432. Remember it. 71432 is the pass key. "
std::string needle_question(NeedleKind kind);  // "What is the pass key? The pass key is"

// Filler units (sentences, each ending with a space), used in turn and cycled when a prompt needs
// more than there are, so a prompt can be sized to within one sentence.
struct Filler {
  std::vector<std::string> sentences;
  std::string source = "repeated";  // "repeated" or the filler file's name, for tables and CSV
};
Filler default_filler();  // "The grass is green. The sky is blue. ..." (5 sentences)
// Sentences of a text, in order: cut after '.', '!' or '?' (closing quotes stay with their
// sentence) and at line breaks; whitespace runs become one space. Throws std::invalid_argument
// when the text holds no sentence.
Filler filler_from_text(const std::string& text, const std::string& source);

// Index of the filler sentence before which the needle goes: round(depth * n_filler), clamped.
uint32_t needle_insert_index(double depth, uint32_t n_filler);
// intro + n_filler filler sentences with the needle sentence at depth + question.
std::string needle_prompt(const Needle& needle, const Filler& filler, uint32_t n_filler, double depth);

// True when the needle appears in the answer as a whole token: a key's digits not inside a longer
// digit run ("714321" does not count for 71432); a word not inside a longer word, any case.
bool answer_has_needle(const std::string& answer, const Needle& needle);

}  // namespace tern::ppl

// Passkey retrieval prompts (a random 5-digit key hidden at a depth in repeated filler text,
// then a question) and the check of an answer. Pure logic: the tool sizes prompts to a token
// length with the model's tokenizer; tests call these directly.
#pragma once
#include <cstdint>
#include <string>

namespace tern::ppl {

// The parts every prompt is made of, exposed so the tool can measure their token counts.
extern const char* const k_passkey_intro;
// Filler sentences, used in turn (each ends with a space); one unit of filler is one sentence so
// prompts can be sized to within a few tokens.
extern const char* const k_passkey_fillers[5];
extern const char* const k_passkey_question;

std::string passkey_sentence(uint32_t key);  // "The pass key is 71432. Remember it. 71432 is the pass key. "
// Index of the filler repetition before which the key goes: round(depth * n_filler), clamped.
uint32_t passkey_insert_index(double depth, uint32_t n_filler);
// intro + n_filler filler sentences with the key sentence at depth + question.
std::string passkey_prompt(uint32_t n_filler, double depth, uint32_t key);
// A random key in [10000, 99999] from a seed (deterministic).
uint32_t passkey_from_seed(uint64_t seed);
// True when the key's five digits appear in the answer as a whole number (not inside a longer
// digit run, so "714321" does not count for 71432).
bool answer_has_key(const std::string& answer, uint32_t key);

}  // namespace tern::ppl

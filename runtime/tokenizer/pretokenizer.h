// Pre-tokenization of byte-level BPE vocabularies: the text is cut into words by the regular
// expressions of the vocabulary's pre-tokenizer (tokenizer.ggml.pre, llama.cpp's names) before
// merging, so merges never cross a word boundary. The expressions run on PCRE2 in UTF + UCP
// mode (JIT-compiled where available). Each expression cuts every piece the previous one left,
// keeping matches and the text between them (Hugging Face's "Isolated" split behaviour).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tern {

// What a pre-tokenizer name stands for in llama.cpp.
struct PreTokenizerPreset {
  std::vector<std::string> regexes;  // applied in order
  bool ignore_merges = false;        // a word that is a token is not merged (Llama 3)
  bool add_bos = false;              // tokenizer.ggml.add_bos_token when the key is absent
};

// The preset for a tokenizer.ggml.pre value: "default" (also for an absent key), "gpt-2" (or
// "gpt2"), "llama-bpe" (or "llama3", "llama-v3"), "qwen2" (or "deepseek-r1-qwen"), "smollm".
// Error(Unsupported) naming the known ones for any other name.
const PreTokenizerPreset& pre_tokenizer_preset(std::string_view pre);
// The same lookup, nullptr for an unknown name.
const PreTokenizerPreset* find_pre_tokenizer_preset(std::string_view pre);

class PreTokenizer {
 public:
  // Compiles the expressions; Error(BadModel) when PCRE2 rejects one.
  explicit PreTokenizer(const std::vector<std::string>& regexes);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // The words of text (valid UTF-8), in order; they concatenate back to text. Thread-safe.
  std::vector<std::string_view> split(std::string_view text) const;
  // The same words passed to `word` one by one, without holding them all.
  void for_each_word(std::string_view text, const std::function<void(std::string_view)>& word) const;

 private:
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace tern

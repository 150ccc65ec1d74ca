#include "tokenizer/bpe_backend.h"

#include <cstdio>

#include "common/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8_stream.h"

namespace tern {
namespace {

const PreTokenizerPreset& preset_for(const Vocab& vocab) {
  // llama.cpp's behaviour too: a file converted before tokenizer.ggml.pre existed still loads.
  if (vocab.pre.empty())
    std::fprintf(stderr, "tern: warning: the vocabulary names no pre-tokenizer (tokenizer.ggml.pre); using "
                         "'default', which may tokenize differently from the model's own tokenizer\n");
  return pre_tokenizer_preset(vocab.pre);
}

}  // namespace

BpeBackend::BpeBackend(const Vocab& vocab) : BpeBackend(vocab, preset_for(vocab)) {}

BpeBackend::BpeBackend(const Vocab& vocab, const PreTokenizerPreset& preset)
    : vocab_(vocab), pre_(preset.regexes), merges_(vocab, preset.ignore_merges) {}

void BpeBackend::encode(std::string_view text, std::vector<int32_t>& out) const {
  pre_.for_each_word(text, [&](std::string_view word) {
    // A word is merged as a whole (~40 bytes of working memory per byte): a longer one is refused.
    check(word.size() <= k_max_unbroken_run, Status::InvalidArgument,
          "the text has a word of " + std::to_string(word.size()) + " bytes, longer than the " +
              std::to_string(k_max_unbroken_run >> 10) + " KiB one call merges: split it");
    merges_.encode_word(bytes_to_unicode_text(word), out);
  });
}

std::string BpeBackend::decode(std::span<const int32_t> ids) const {
  Utf8Stream u;
  std::string text;
  for (int32_t id : ids) text += u.push(token_text(id, false));
  return text + u.flush();
}

std::string BpeBackend::token_text(int32_t id, bool show_special) const {
  const std::string& piece = vocab_.tokens[size_t(id)];
  switch (TokenType(vocab_.types[size_t(id)])) {
    case TokenType::Control:
    case TokenType::Unknown: return show_special ? piece : std::string();
    case TokenType::UserDefined: return piece;
    // A piece outside the byte alphabet (a placeholder such as "[PAD7]" is inside it) is shown as is.
    default: return unicode_text_to_bytes(piece).value_or(piece);
  }
}

}  // namespace tern

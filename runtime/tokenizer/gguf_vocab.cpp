#include "tokenizer/gguf_vocab.h"

#include <optional>
#include <string>

#include "common/error.h"
#include "tokenizer/pretokenizer.h"

namespace tern {

Vocab vocab_from_gguf(const GgufFile& f) {
  Vocab v;
  v.model = std::string(f.get_string("tokenizer.ggml.model").value_or(""));
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  check(tokens.has_value() && !tokens->empty(), Status::BadModel, "GGUF: no tokenizer.ggml.tokens");
  v.tokens.assign(tokens->begin(), tokens->end());
  const size_t n = v.tokens.size();
  v.scores = f.get_f32_array("tokenizer.ggml.scores").value_or(std::vector<float>(n, 0.f));
  v.types = f.get_i32_array("tokenizer.ggml.token_type").value_or(std::vector<int32_t>(n, 1));
  check(v.scores.size() == n, Status::BadModel, "GGUF: tokenizer.ggml.scores length differs from tokens");
  check(v.types.size() == n, Status::BadModel, "GGUF: tokenizer.ggml.token_type length differs from tokens");

  const bool spm = v.model == "llama";
  v.pre = std::string(f.get_string("tokenizer.ggml.pre").value_or(""));
  if (auto merges = f.get_string_array("tokenizer.ggml.merges")) v.merges.assign(merges->begin(), merges->end());
  // An id the file names must be a token: one out of range would silently drop BOS (or EOS)
  // from every prompt. The defaults (SPM's 0, 1, 2) apply only when the key is absent.
  auto id = [&](const char* key, int64_t fallback) -> int32_t {
    const std::optional<int64_t> given = f.get_i64(key);
    const int64_t x = given.value_or(fallback);
    if (given)
      check(x >= 0 && uint64_t(x) < n, Status::BadModel,
            std::string(key) + " is " + std::to_string(x) + ", outside the vocabulary of " + std::to_string(n) + " tokens");
    return (x >= 0 && uint64_t(x) < n) ? int32_t(x) : -1;
  };
  v.bos = id("tokenizer.ggml.bos_token_id", spm ? 1 : -1);
  v.eos = id("tokenizer.ggml.eos_token_id", spm ? 2 : -1);
  v.unk = id("tokenizer.ggml.unknown_token_id", spm ? 0 : -1);
  v.pad = id("tokenizer.ggml.padding_token_id", -1);
  // BPE: llama.cpp's default depends on the pre-tokenizer (Llama 3 adds BOS, Qwen2 does not).
  const PreTokenizerPreset* preset = spm ? nullptr : find_pre_tokenizer_preset(v.pre);
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(spm || (preset && preset->add_bos));
  v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(spm);
  return v;
}

}  // namespace tern

#include "model/vocab_from_gguf.h"

#include "common/error.h"
#include "model/gguf_reader.h"

namespace tern {

Vocab vocab_from_gguf(const GgufFile& f) {
  Vocab v;
  auto model = f.get_string("tokenizer.ggml.model");
  check(model.has_value(), Status::BadModel, "model has no embedded vocabulary (tokenizer.ggml.model)");
  v.model = std::string(*model);
  check(v.model == "llama", Status::Unsupported,
        "tokenizer model '" + v.model + "' is not supported (Tern reads sentencepiece 'llama' vocabularies)");
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  check(tokens.has_value() && !tokens->empty(), Status::BadModel, "tokenizer.ggml.tokens is missing or empty");
  for (auto t : *tokens) v.tokens.emplace_back(t);
  const size_t n = v.tokens.size();
  if (auto scores = f.get_f32_array("tokenizer.ggml.scores")) {
    check(scores->size() == n, Status::BadModel, "tokenizer.ggml.scores has a different length than the tokens");
    v.scores = std::move(*scores);
  } else {
    v.scores.assign(n, 0.f);
  }
  if (auto types = f.get_i32_array("tokenizer.ggml.token_type")) {
    check(types->size() == n, Status::BadModel, "tokenizer.ggml.token_type has a different length than the tokens");
    v.types = std::move(*types);
  } else {
    v.types.assign(n, 1);
  }
  auto id = [&](const char* key, int32_t def) -> int32_t {
    auto x = f.get_u32(key);
    if (!x) return def;
    check(*x < n, Status::BadModel, std::string(key) + " is out of the vocabulary's range");
    return int32_t(*x);
  };
  v.bos = id("tokenizer.ggml.bos_token_id", -1);
  v.eos = id("tokenizer.ggml.eos_token_id", -1);
  v.unk = id("tokenizer.ggml.unknown_token_id", -1);
  v.pad = id("tokenizer.ggml.padding_token_id", -1);
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(true);
  v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  return v;
}

}  // namespace tern

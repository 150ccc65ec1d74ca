// Reads a llama2.c tokenizer .bin (int32 max_token_length, then per token float32 score,
// int32 length, bytes; the count comes from the end of the file) into a Vocab.
#pragma once
#include <string>
#include <string_view>

#include "tokenizer/vocab.h"

namespace tern {

// llama2.c exports sentencepiece vocabularies with U+2581 written as a plain space and
// BOS/EOS wrapped in newlines; this undoes both. Ids follow llama2.c: 0 <unk>, 1 BOS, 2 EOS.
Vocab parse_llama2c_vocab(std::string_view file_bytes);
Vocab read_llama2c_vocab(const std::string& path);

}  // namespace tern

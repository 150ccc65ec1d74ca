// The tokenizer.ggml.* metadata of a GGUF file as a Vocab (for Tokenizer::from_vocab).
#pragma once
#include "gguf_reader.h"
#include "tokenizer/vocab.h"

namespace tern {

// Reads model, tokens, scores, token types, special ids and the add_* flags, with llama.cpp's
// defaults for the "llama" (SPM) model when a key is absent (bos 1, eos 2, unk 0, add_bos,
// add_space_prefix). Error(BadModel) when tokens are missing or arrays disagree in length;
// special ids outside the vocabulary become -1.
Vocab vocab_from_gguf(const GgufFile& file);

}  // namespace tern

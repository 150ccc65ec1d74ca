// The tokenizer.ggml.* metadata of a GGUF file as a Vocab (for Tokenizer::from_vocab).
#pragma once
#include "quant/gguf_reader.h"
#include "tokenizer/vocab.h"

namespace tern {

// Reads model, tokens, scores, token types, merges, the pre-tokenizer name, special ids and the
// add_* flags, with llama.cpp's defaults when a key is absent: for "llama" (SPM) bos 1, eos 2,
// unk 0, add_bos, add_space_prefix; for "gpt2" (BPE) no special ids, no space prefix, add_bos
// only for the Llama 3 pre-tokenizer. Error(BadModel) when tokens are missing, arrays disagree
// in length or have the wrong element type; special ids outside the vocabulary become -1.
// Merges are checked when a Tokenizer is made from the result.
Vocab vocab_from_gguf(const GgufFile& file);

}  // namespace tern

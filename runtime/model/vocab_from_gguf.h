// The vocabulary embedded in a GGUF file (tokenizer.ggml.*) as a Tokenizer Vocab.
#pragma once
#include "tokenizer/vocab.h"

namespace tern {
class GgufFile;
Vocab vocab_from_gguf(const GgufFile& file);
}  // namespace tern

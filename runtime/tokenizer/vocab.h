// A tokenizer vocabulary as llama.cpp keeps it in GGUF (tokenizer.ggml.*). The model loader fills
// it from a GGUF file; from_llama2c and the sentencepiece reader fill it from other formats.
// Two models: "llama" (sentencepiece / SPM: pieces with scores) and "gpt2" (byte-level BPE:
// pieces in GPT-2's byte alphabet, merges with ranks, a named pre-tokenizer).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tern {

// GGUF token types (tokenizer.ggml.token_type); the same numbers as sentencepiece's piece types.
enum class TokenType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

struct Vocab {
  std::string model = "llama";  // tokenizer.ggml.model: "llama" (SPM) or "gpt2" (BPE)
  // Piece text. SPM: spaces as U+2581, bytes as "<0xAB>". BPE: byte-level ("Ġthe" = " the");
  // control and user-defined tokens are plain text in both.
  std::vector<std::string> tokens;
  std::vector<float> scores;   // SPM only
  std::vector<int32_t> types;  // TokenType values
  std::vector<std::string> merges;  // BPE: "A B", rank = index (tokenizer.ggml.merges)
  std::string pre;                  // BPE: pre-tokenizer name (tokenizer.ggml.pre), "" if absent
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;
  bool add_bos = true, add_eos = false, add_space_prefix = true;
};

}  // namespace tern

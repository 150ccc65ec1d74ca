// Reads and writes sentencepiece's ModelProto in protobuf wire format, so a vocabulary from a
// GGUF file (or a llama2.c export) can be handed to the sentencepiece library in memory
// (SentencePieceProcessor::LoadFromSerializedProto) without protobuf headers. Field numbers
// follow sentencepiece_model.proto.
#pragma once
#include <string>
#include <string_view>

#include "tokenizer/vocab.h"

namespace tern {

enum class SpmAlgorithm : int32_t { Unigram = 1, Bpe = 2 };

// Serialized ModelProto for vocab: pieces with scores and types, a TrainerSpec (algorithm,
// byte_fallback when all 256 byte pieces exist, special ids and pieces) and an identity
// NormalizerSpec (dummy prefix from vocab.add_space_prefix, spaces escaped to U+2581, no other
// whitespace changes). Pieces sentencepiece would refuse (empty, duplicate, malformed byte
// pieces) are renamed to unique placeholders and marked unused; the caller keeps the true text.
// If the vocabulary has no unknown piece one is appended at index tokens.size().
std::string build_sentencepiece_proto(const Vocab& vocab, SpmAlgorithm algorithm = SpmAlgorithm::Bpe);

// What a serialized ModelProto says about the vocabulary (pieces, scores, types, special ids,
// add_dummy_prefix). Throws Error(BadModel) on malformed input; every read is bounds-checked.
struct SentencepieceModelInfo {
  Vocab vocab;
  SpmAlgorithm algorithm = SpmAlgorithm::Unigram;
  bool byte_fallback = false;
};
SentencepieceModelInfo parse_sentencepiece_proto(std::string_view serialized);

}  // namespace tern

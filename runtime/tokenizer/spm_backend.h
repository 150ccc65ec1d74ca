// Sentencepiece (SPM) vocabularies ("llama") on the sentencepiece library.
#pragma once
#include <memory>

#include "tokenizer/spm_chunks.h"
#include "tokenizer/tokenizer_backend.h"
#include "tokenizer/vocab.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace tern {

class SpmBackend final : public TokenizerBackend {
 public:
  // A processor loaded from a .model file, whose pieces vocab lists.
  SpmBackend(const Vocab& vocab, std::unique_ptr<sentencepiece::SentencePieceProcessor> sp);
  // A processor built in memory from vocab (sentencepiece_proto.h). Error(BadModel) when the
  // library rejects it. Long text is encoded in parts (spm_chunks.h), which gives the same ids.
  explicit SpmBackend(const Vocab& vocab);
  ~SpmBackend() override;

  void encode(std::string_view text, std::vector<int32_t>& out) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  std::string token_text(int32_t id, bool show_special) const override;

 private:
  void encode_part(const sentencepiece::SentencePieceProcessor& sp, std::string_view text, std::vector<int32_t>& out) const;

  const Vocab& vocab_;  // owned by the Tokenizer, which owns this backend
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  // Built from a vocabulary: the parts after the first are encoded without the dummy prefix
  // (sp_plain_, null when the vocabulary has none). From a .model file: one call, as its own
  // normalizer may join text across any cut.
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_plain_;
  std::unique_ptr<SpmChunker> chunker_;
};

}  // namespace tern

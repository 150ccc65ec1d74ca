#include "tokenizer/spm_backend.h"

#include <sentencepiece_processor.h>

#include "common/error.h"
#include "tokenizer/piece_text.h"
#include "tokenizer/sentencepiece_proto.h"

namespace tern {
namespace {

constexpr std::string_view kUnkSurface = " \xE2\x81\x87 ";  // sentencepiece's rendering of <unk>

}  // namespace

SpmBackend::SpmBackend(const Vocab& vocab, std::unique_ptr<sentencepiece::SentencePieceProcessor> sp)
    : vocab_(vocab), sp_(std::move(sp)) {}

SpmBackend::SpmBackend(const Vocab& vocab) : vocab_(vocab), sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  auto st = sp_->LoadFromSerializedProto(build_sentencepiece_proto(vocab, SpmAlgorithm::Bpe));
  check(st.ok(), Status::BadModel, "sentencepiece rejected the vocabulary: " + st.ToString());
  if (vocab.add_space_prefix) {
    Vocab plain = vocab;
    plain.add_space_prefix = false;
    sp_plain_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
    st = sp_plain_->LoadFromSerializedProto(build_sentencepiece_proto(plain, SpmAlgorithm::Bpe));
    check(st.ok(), Status::BadModel, "sentencepiece rejected the vocabulary: " + st.ToString());
  }
  chunker_ = std::make_unique<SpmChunker>(vocab);
}

SpmBackend::~SpmBackend() = default;

void SpmBackend::encode(std::string_view text, std::vector<int32_t>& out) const {
  if (!chunker_) return encode_part(*sp_, text, out);
  // Parts of 16 KiB: the library's working memory stays a few megabytes whatever the length.
  chunker_->split(text, size_t(16) << 10, [&](std::string_view part, bool first) {
    encode_part(first || !sp_plain_ ? *sp_ : *sp_plain_, part, out);
  });
}

void SpmBackend::encode_part(const sentencepiece::SentencePieceProcessor& sp, std::string_view text,
                             std::vector<int32_t>& out) const {
  std::vector<int> ids;
  auto st = sp.Encode(text, &ids);
  check(st.ok(), Status::Internal, "sentencepiece encode failed: " + st.ToString());
  for (int id : ids) {
    // Only a stand-in <unk> appended for a vocabulary without one lies past the vocabulary.
    check(id >= 0 && size_t(id) < vocab_.tokens.size(), Status::InvalidArgument,
          "text contains characters this vocabulary cannot represent");
    out.push_back(int32_t(id));
  }
}

std::string SpmBackend::decode(std::span<const int32_t> ids) const {
  std::vector<int> v(ids.begin(), ids.end());
  std::string text;
  auto st = sp_->Decode(v, &text);
  check(st.ok(), Status::Internal, "sentencepiece decode failed: " + st.ToString());
  return text;
}

std::string SpmBackend::token_text(int32_t id, bool show_special) const {
  const std::string& piece = vocab_.tokens[size_t(id)];
  switch (TokenType(vocab_.types[size_t(id)])) {
    case TokenType::Control: return show_special ? piece : std::string();
    case TokenType::Unknown: return show_special ? piece : std::string(kUnkSurface);
    case TokenType::Byte:
      if (is_byte_piece(piece)) return std::string(1, char(byte_piece_value(piece)));
      return piece;
    default: return replace_all(piece, kMetaspace, " ");
  }
}

}  // namespace tern

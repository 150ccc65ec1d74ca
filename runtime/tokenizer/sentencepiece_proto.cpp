#include "tokenizer/sentencepiece_proto.h"

#include <cstring>
#include <unordered_set>

#include "common/error.h"
#include "tokenizer/piece_text.h"

namespace tern {
namespace {

// ---- protobuf wire format ----------------------------------------------------------------
enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

// Field numbers from sentencepiece_model.proto.
namespace field {
constexpr uint32_t kModelPieces = 1, kModelTrainer = 2, kModelNormalizer = 3;
constexpr uint32_t kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr uint32_t kTrainerModelType = 3, kTrainerVocabSize = 4, kTrainerByteFallback = 35;
constexpr uint32_t kTrainerUnkId = 40, kTrainerBosId = 41, kTrainerEosId = 42, kTrainerPadId = 43;
constexpr uint32_t kTrainerUnkPiece = 45, kTrainerBosPiece = 46, kTrainerEosPiece = 47,
                   kTrainerPadPiece = 48;
constexpr uint32_t kNormName = 1, kNormDummyPrefix = 3, kNormRemoveExtraWs = 4, kNormEscapeWs = 5;
}  // namespace field

class Writer {
 public:
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(char(uint8_t(v) | 0x80));
      v >>= 7;
    }
    out_.push_back(char(v));
  }
  void key(uint32_t f, Wire w) { varint((uint64_t(f) << 3) | w); }
  // int32 fields are sign-extended to 64 bits on the wire (negative values take 10 bytes).
  void int_field(uint32_t f, int64_t v) {
    key(f, kVarint);
    varint(uint64_t(v));
  }
  void bytes_field(uint32_t f, std::string_view s) {
    key(f, kLen);
    varint(s.size());
    out_.append(s);
  }
  void float_field(uint32_t f, float v) {
    key(f, kFixed32);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i) out_.push_back(char(uint8_t(bits >> (8 * i))));
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      check(pos_ < s_.size(), Status::BadModel, "sentencepiece model: truncated varint");
      uint8_t b = uint8_t(s_[pos_++]);
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error(Status::BadModel, "sentencepiece model: varint too long");
  }
  std::string_view bytes() {
    uint64_t n = varint();
    check(n <= s_.size() - pos_, Status::BadModel, "sentencepiece model: field runs past the end");
    auto r = s_.substr(pos_, size_t(n));
    pos_ += size_t(n);
    return r;
  }
  float fixed32() {
    check(s_.size() - pos_ >= 4, Status::BadModel, "sentencepiece model: truncated float");
    uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= uint32_t(uint8_t(s_[pos_ + i])) << (8 * i);
    pos_ += 4;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  void skip(uint32_t wire) {
    switch (wire) {
      case kVarint: varint(); break;
      case kFixed64:
        check(s_.size() - pos_ >= 8, Status::BadModel, "sentencepiece model: truncated field");
        pos_ += 8;
        break;
      case kLen: bytes(); break;
      case kFixed32: fixed32(); break;
      default: throw Error(Status::BadModel, "sentencepiece model: unsupported wire type");
    }
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

int32_t type_at(const Vocab& v, size_t i) {
  int32_t t = i < v.types.size() ? v.types[i] : int32_t(TokenType::Normal);
  return (t >= 1 && t <= 6) ? t : int32_t(TokenType::Normal);
}

}  // namespace

std::string build_sentencepiece_proto(const Vocab& vocab, SpmAlgorithm algorithm) {
  const size_t n = vocab.tokens.size();
  check(n > 0, Status::BadModel, "tokenizer vocabulary is empty");
  std::vector<std::string> text(vocab.tokens);
  std::vector<int32_t> type(n);
  for (size_t i = 0; i < n; ++i) type[i] = type_at(vocab, i);

  // byte_fallback only when every byte has its piece; partial sets are demoted to unused.
  std::vector<bool> have_byte(256, false);
  for (size_t i = 0; i < n; ++i) {
    if (type[i] != int32_t(TokenType::Byte)) continue;
    if (is_byte_piece(text[i]))
      have_byte[byte_piece_value(text[i])] = true;
    else
      type[i] = int32_t(TokenType::Unused);
  }
  bool byte_fallback = true;
  for (bool b : have_byte) byte_fallback = byte_fallback && b;
  if (!byte_fallback)
    for (auto& t : type)
      if (t == int32_t(TokenType::Byte)) t = int32_t(TokenType::Unused);

  // Exactly one unknown piece: the vocabulary's unk if it names one, else the first of that type.
  int32_t unk = -1;
  if (vocab.unk >= 0 && size_t(vocab.unk) < n && type[vocab.unk] != int32_t(TokenType::Byte)) unk = vocab.unk;
  for (size_t i = 0; i < n && unk < 0; ++i)
    if (type[i] == int32_t(TokenType::Unknown)) unk = int32_t(i);
  for (size_t i = 0; i < n; ++i)
    if (type[i] == int32_t(TokenType::Unknown) && int32_t(i) != unk) type[i] = int32_t(TokenType::Unused);
  if (unk >= 0) type[unk] = int32_t(TokenType::Unknown);

  // Unique, non-empty piece texts (sentencepiece rejects anything else).
  std::unordered_set<std::string> seen;
  seen.reserve(n * 2);
  auto placeholder = [&](size_t i) {
    std::string p = "<tern-placeholder-" + std::to_string(i) + ">";
    while (seen.count(p)) p += "_";
    return p;
  };
  for (size_t i = 0; i < n; ++i) {
    if (text[i].empty() || seen.count(text[i])) {
      text[i] = placeholder(i);
      if (int32_t(i) != unk) type[i] = int32_t(TokenType::Unused);
    }
    seen.insert(text[i]);
  }
  if (unk < 0) {
    unk = int32_t(n);
    text.push_back(placeholder(n));
    type.push_back(int32_t(TokenType::Unknown));
  }

  Writer w;
  for (size_t i = 0; i < text.size(); ++i) {
    Writer p;
    p.bytes_field(field::kPieceText, text[i]);
    p.float_field(field::kPieceScore, i < vocab.scores.size() ? vocab.scores[i] : 0.f);
    p.int_field(field::kPieceType, type[i]);
    w.bytes_field(field::kModelPieces, p.str());
  }

  auto id_or_none = [&](int32_t id) { return (id >= 0 && size_t(id) < n) ? id : -1; };
  Writer t;
  t.int_field(field::kTrainerModelType, int32_t(algorithm));
  t.int_field(field::kTrainerVocabSize, int64_t(text.size()));
  t.int_field(field::kTrainerByteFallback, byte_fallback ? 1 : 0);
  t.int_field(field::kTrainerUnkId, unk);
  t.int_field(field::kTrainerBosId, id_or_none(vocab.bos));
  t.int_field(field::kTrainerEosId, id_or_none(vocab.eos));
  t.int_field(field::kTrainerPadId, id_or_none(vocab.pad));
  // The processor finds bos/eos/pad through these texts; unused ids get their default text.
  t.bytes_field(field::kTrainerUnkPiece, text[unk]);
  if (id_or_none(vocab.bos) >= 0) t.bytes_field(field::kTrainerBosPiece, text[vocab.bos]);
  if (id_or_none(vocab.eos) >= 0) t.bytes_field(field::kTrainerEosPiece, text[vocab.eos]);
  if (id_or_none(vocab.pad) >= 0) t.bytes_field(field::kTrainerPadPiece, text[vocab.pad]);
  w.bytes_field(field::kModelTrainer, t.str());

  Writer nz;
  nz.bytes_field(field::kNormName, "identity");
  nz.int_field(field::kNormDummyPrefix, vocab.add_space_prefix ? 1 : 0);
  nz.int_field(field::kNormRemoveExtraWs, 0);
  nz.int_field(field::kNormEscapeWs, 1);
  w.bytes_field(field::kModelNormalizer, nz.str());
  return std::move(w.str());
}

SentencepieceModelInfo parse_sentencepiece_proto(std::string_view serialized) {
  SentencepieceModelInfo info;
  Vocab& v = info.vocab;
  int64_t unk = 0, bos = 1, eos = 2, pad = -1;  // proto defaults
  Reader r(serialized);
  while (!r.done()) {
    uint64_t key = r.varint();
    uint32_t f = uint32_t(key >> 3), wire = uint32_t(key & 7);
    if (f == field::kModelPieces && wire == kLen) {
      Reader p(r.bytes());
      std::string text;
      float score = 0.f;
      int32_t type = int32_t(TokenType::Normal);
      while (!p.done()) {
        uint64_t k = p.varint();
        uint32_t pf = uint32_t(k >> 3), pw = uint32_t(k & 7);
        if (pf == field::kPieceText && pw == kLen) text = std::string(p.bytes());
        else if (pf == field::kPieceScore && pw == kFixed32) score = p.fixed32();
        else if (pf == field::kPieceType && pw == kVarint) type = int32_t(p.varint());
        else p.skip(pw);
      }
      v.tokens.push_back(std::move(text));
      v.scores.push_back(score);
      v.types.push_back(type);
    } else if (f == field::kModelTrainer && wire == kLen) {
      Reader t(r.bytes());
      while (!t.done()) {
        uint64_t k = t.varint();
        uint32_t tf = uint32_t(k >> 3), tw = uint32_t(k & 7);
        if (tw != kVarint) {
          t.skip(tw);
          continue;
        }
        int64_t val = int64_t(t.varint());
        if (tf == field::kTrainerModelType) info.algorithm = SpmAlgorithm(int32_t(val));
        else if (tf == field::kTrainerByteFallback) info.byte_fallback = val != 0;
        else if (tf == field::kTrainerUnkId) unk = int32_t(val);
        else if (tf == field::kTrainerBosId) bos = int32_t(val);
        else if (tf == field::kTrainerEosId) eos = int32_t(val);
        else if (tf == field::kTrainerPadId) pad = int32_t(val);
      }
    } else if (f == field::kModelNormalizer && wire == kLen) {
      Reader nz(r.bytes());
      while (!nz.done()) {
        uint64_t k = nz.varint();
        uint32_t nf = uint32_t(k >> 3), nw = uint32_t(k & 7);
        if (nf == field::kNormDummyPrefix && nw == kVarint) v.add_space_prefix = nz.varint() != 0;
        else nz.skip(nw);
      }
    } else {
      r.skip(wire);
    }
  }
  auto in_range = [&](int64_t id) { return id >= 0 && uint64_t(id) < v.tokens.size() ? int32_t(id) : -1; };
  v.unk = in_range(unk);
  v.bos = in_range(bos);
  v.eos = in_range(eos);
  v.pad = in_range(pad);
  return info;
}

}  // namespace tern

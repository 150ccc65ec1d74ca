#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <filesystem>

#include <sentencepiece_processor.h>

#include "common/error.h"
#include "tokenizer/llama2c_vocab.h"
#include "tokenizer/piece_text.h"
#include "tokenizer/sentencepiece_proto.h"
#include "tokenizer/utf8_stream.h"

namespace tern {
namespace {

constexpr std::string_view kUnkSurface = " \xE2\x81\x87 ";  // sentencepiece's rendering of <unk>

// End-of-generation tokens of common chat vocabularies, besides EOS.
constexpr std::string_view kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>",
                                          "<|end_of_text|>", "<end_of_turn>", "<|eom_id|>"};

bool type_is(const Vocab& v, int32_t id, TokenType t) {
  return id >= 0 && size_t(id) < v.types.size() && v.types[size_t(id)] == int32_t(t);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab, std::unique_ptr<sentencepiece::SentencePieceProcessor> sp,
                     int32_t n_model_pieces)
    : vocab_(std::move(vocab)), sp_(std::move(sp)), n_model_pieces_(n_model_pieces) {
  for (int32_t id = 0; id < n_vocab(); ++id) {
    const std::string& text = vocab_.tokens[size_t(id)];
    if (text.empty()) continue;
    if (type_is(vocab_, id, TokenType::UserDefined)) specials_.push_back({text, id, false});
    else if (type_is(vocab_, id, TokenType::Control) || type_is(vocab_, id, TokenType::Unknown))
      specials_.push_back({text, id, true});
  }
  // Longer tokens claim their text first ("<|im_start|>" before "<|im").
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
  if (vocab_.eos >= 0) eog_.push_back(vocab_.eos);
  for (int32_t id = 0; id < n_vocab(); ++id)
    for (auto t : kEogTexts)
      if (vocab_.tokens[size_t(id)] == t && id != vocab_.eos) eog_.push_back(id);
}

Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::from_model_file(const std::string& path) {
  std::error_code ec;
  check(std::filesystem::is_regular_file(path, ec), Status::Io,
        "sentencepiece model '" + path + "' not found");
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto st = sp->Load(path);
  check(st.ok(), Status::BadModel, "cannot load sentencepiece model '" + path + "': " + st.ToString());
  Vocab v = parse_sentencepiece_proto(sp->serialized_model_proto()).vocab;
  // The processor's own view of the special ids (it requires them to be control pieces).
  v.bos = sp->bos_id();
  v.eos = sp->eos_id();
  v.unk = sp->unk_id();
  v.pad = sp->pad_id();
  const int32_t n = int32_t(v.tokens.size());
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(v), std::move(sp), n));
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(const Vocab& vocab) {
  check(vocab.model == "llama", Status::Unsupported,
        "tokenizer model '" + vocab.model + "' is not supported (only llama/SPM)");
  check(!vocab.tokens.empty(), Status::BadModel, "tokenizer vocabulary is empty");
  check(vocab.scores.empty() || vocab.scores.size() == vocab.tokens.size(), Status::BadModel,
        "tokenizer scores and tokens differ in count");
  check(vocab.types.empty() || vocab.types.size() == vocab.tokens.size(), Status::BadModel,
        "tokenizer token types and tokens differ in count");
  const std::string proto = build_sentencepiece_proto(vocab, SpmAlgorithm::Bpe);
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto st = sp->LoadFromSerializedProto(proto);
  check(st.ok(), Status::BadModel, "sentencepiece rejected the vocabulary: " + st.ToString());
  Vocab v = vocab;
  const int32_t n = int32_t(v.tokens.size());
  if (v.types.empty()) v.types.assign(size_t(n), int32_t(TokenType::Normal));
  if (v.scores.empty()) v.scores.assign(size_t(n), 0.f);
  const int32_t n_model = sp->GetPieceSize();
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(v), std::move(sp), n_model));
}

std::unique_ptr<Tokenizer> Tokenizer::from_llama2c(const std::string& path) {
  return from_vocab(read_llama2c_vocab(path));
}

void Tokenizer::check_id(int32_t id) const {
  check(id >= 0 && id < n_vocab(), Status::InvalidArgument,
        "token id " + std::to_string(id) + " is out of range (vocabulary has " +
            std::to_string(n_vocab()) + ")");
}

void Tokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<int> ids;
  auto st = sp_->Encode(text, &ids);
  check(st.ok(), Status::Internal, "sentencepiece encode failed: " + st.ToString());
  for (int id : ids) {
    // Only a stand-in <unk> appended for a vocabulary without one lies past n_vocab.
    check(id >= 0 && id < n_vocab(), Status::InvalidArgument,
          "text contains characters this vocabulary cannot represent");
    out.push_back(int32_t(id));
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8, bool add_bos, bool parse_special) const {
  size_t bad = 0;
  if (!utf8_valid(utf8, &bad))
    throw Error(Status::InvalidUtf8, "prompt is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");

  // Split the text around special tokens, longest tokens first (as llama.cpp partitions it).
  struct Fragment {
    int32_t token;  // -1: text
    std::string_view text;
  };
  std::vector<Fragment> frags{{-1, utf8}};
  for (const Special& s : specials_) {
    if (s.needs_parse_special && !parse_special) continue;
    std::vector<Fragment> next;
    for (const Fragment& f : frags) {
      if (f.token >= 0 || f.text.find(s.text) == std::string_view::npos) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at; (at = rest.find(s.text)) != std::string_view::npos;) {
        if (at > 0) next.push_back({-1, rest.substr(0, at)});
        next.push_back({s.id, {}});
        rest.remove_prefix(at + s.text.size());
      }
      if (!rest.empty()) next.push_back({-1, rest});
    }
    frags = std::move(next);
  }

  std::vector<int32_t> out;
  if (add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  // Every text run follows the start or a special token, so each gets the dummy prefix (the
  // model's normalizer adds it), which is llama.cpp's rule.
  for (const Fragment& f : frags) {
    if (f.token >= 0) out.push_back(f.token);
    else if (!f.text.empty()) encode_text(f.text, out);
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<int> v;
  v.reserve(ids.size());
  for (int32_t id : ids) {
    check_id(id);
    v.push_back(int(id));
  }
  std::string text;
  auto st = sp_->Decode(v, &text);
  check(st.ok(), Status::Internal, "sentencepiece decode failed: " + st.ToString());
  return text;
}

std::string Tokenizer::token_text(int32_t id, bool show_special) const {
  check_id(id);
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

std::string Tokenizer::stream_text(int32_t prev, int32_t id) const {
  std::string text = token_text(id);
  const bool at_start = prev < 0 || prev == vocab_.bos;
  if (vocab_.add_space_prefix && at_start && !text.empty() && text.front() == ' ') text.erase(0, 1);
  return text;
}

bool Tokenizer::is_control(int32_t id) const { return type_is(vocab_, id, TokenType::Control); }

bool Tokenizer::is_eog(int32_t id) const {
  return id >= 0 && std::find(eog_.begin(), eog_.end(), id) != eog_.end();
}

}  // namespace tern

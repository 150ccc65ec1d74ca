#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <filesystem>

#include <sentencepiece_processor.h>

#include "common/error.h"
#include "tokenizer/bpe_backend.h"
#include "tokenizer/llama2c_vocab.h"
#include "tokenizer/sentencepiece_proto.h"
#include "tokenizer/spm_backend.h"
#include "tokenizer/utf8_stream.h"

namespace tern {
namespace {

// End-of-generation tokens of common chat vocabularies, besides EOS (Gemma's <eos> when its
// tokenizer_config names <end_of_turn> the EOS, as Gemma 3's does).
constexpr std::string_view kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>",
                                          "<|end_of_text|>", "<end_of_turn>", "<|eom_id|>", "<eos>"};

bool type_is(const Vocab& v, int32_t id, TokenType t) {
  return id >= 0 && size_t(id) < v.types.size() && v.types[size_t(id)] == int32_t(t);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab, const BackendFactory& make_backend)
    : vocab_(std::move(vocab)), backend_(make_backend(vocab_)) {
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
  // Every piece spells at least the input bytes it covers (U+2581 and <0xAB> spell one byte in
  // three or six; a byte-level character one byte in one or two), given byte fallback (SPM) or
  // byte-level BPE, whose tokens never stand for text they do not spell.
  bool spells_input = vocab_.model == "gpt2";
  for (size_t i = 0; i < vocab_.tokens.size(); ++i) {
    max_piece_bytes_ = std::max(max_piece_bytes_, vocab_.tokens[i].size());
    spells_input = spells_input || type_is(vocab_, int32_t(i), TokenType::Byte);
  }
  max_piece_bytes_ = spells_input ? std::max<size_t>(max_piece_bytes_, 4) : 0;
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
  auto t = std::unique_ptr<Tokenizer>(new Tokenizer(std::move(v), [&](const Vocab& vocab) {
    return std::make_unique<SpmBackend>(vocab, std::move(sp));
  }));
  t->max_piece_bytes_ = 0;  // the model's own normalizer may shrink text (runs of spaces)
  return t;
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocab(const Vocab& vocab) {
  const bool spm = vocab.model == "llama", bpe = vocab.model == "gpt2";
  check(spm || bpe, Status::Unsupported,
        "tokenizer model '" + vocab.model + "' is not supported (llama/SPM and gpt2/byte-level BPE are)");
  check(!vocab.tokens.empty(), Status::BadModel, "tokenizer vocabulary is empty");
  check(vocab.scores.empty() || vocab.scores.size() == vocab.tokens.size(), Status::BadModel,
        "tokenizer scores and tokens differ in count");
  check(vocab.types.empty() || vocab.types.size() == vocab.tokens.size(), Status::BadModel,
        "tokenizer token types and tokens differ in count");
  Vocab v = vocab;
  const size_t n = v.tokens.size();
  if (v.types.empty()) v.types.assign(n, int32_t(TokenType::Normal));
  // Text needs a token to become: a vocabulary of only control (or unused) tokens loaded and
  // then failed every prompt with an internal error.
  check(std::any_of(v.types.begin(), v.types.end(),
                    [](int32_t t) {
                      return t == int32_t(TokenType::Normal) || t == int32_t(TokenType::Byte) ||
                             t == int32_t(TokenType::UserDefined);
                    }),
        Status::BadModel, "the vocabulary has no normal, byte or user-defined token: no text can be encoded with it");
  if (v.scores.empty()) v.scores.assign(n, 0.f);
  if (bpe) v.add_space_prefix = false;  // whatever the file says: byte-level BPE has no dummy prefix
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(v), [&](const Vocab& in_place) {
    return spm ? std::unique_ptr<TokenizerBackend>(std::make_unique<SpmBackend>(in_place))
               : std::unique_ptr<TokenizerBackend>(std::make_unique<BpeBackend>(in_place));
  }));
}

std::unique_ptr<Tokenizer> Tokenizer::from_llama2c(const std::string& path) {
  return from_vocab(read_llama2c_vocab(path));
}

void Tokenizer::check_id(int32_t id) const {
  check(id >= 0 && id < n_vocab(), Status::InvalidArgument,
        "token id " + std::to_string(id) + " is out of range (vocabulary has " +
            std::to_string(n_vocab()) + ")");
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8, bool add_bos, bool parse_special) const {
  check(utf8.size() <= k_max_text_bytes, Status::InvalidArgument,
        "text of " + std::to_string(utf8.size()) + " bytes is longer than one call takes (" +
            std::to_string(k_max_text_bytes >> 20) + " MiB): split it");
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
  // Every text run follows the start or a special token, so each gets the dummy prefix (SPM:
  // the model's normalizer adds it), which is llama.cpp's rule.
  for (const Fragment& f : frags) {
    if (f.token >= 0) out.push_back(f.token);
    else if (!f.text.empty()) backend_->encode(f.text, out);
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  for (int32_t id : ids) check_id(id);
  return backend_->decode(ids);
}

std::string Tokenizer::token_text(int32_t id, bool show_special) const {
  check_id(id);
  return backend_->token_text(id, show_special);
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

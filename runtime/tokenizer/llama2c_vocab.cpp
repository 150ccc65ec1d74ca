#include "tokenizer/llama2c_vocab.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/error.h"
#include "platform/file_io.h"
#include "tokenizer/piece_text.h"

namespace tern {
namespace {

template <typename T>
T read_le(std::string_view s, size_t& pos) {
  check(s.size() - pos >= sizeof(T), Status::BadModel, "llama2.c tokenizer: truncated file");
  T v;
  std::memcpy(&v, s.data() + pos, sizeof(T));  // little-endian host assumed, as llama2.c does
  pos += sizeof(T);
  return v;
}

// "\n<s>\n" -> "<s>": llama2.c pads the special pieces with newlines for printing.
std::string strip_newlines(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Vocab parse_llama2c_vocab(std::string_view bytes) {
  size_t pos = 0;
  const int32_t max_len = read_le<int32_t>(bytes, pos);
  check(max_len > 0, Status::BadModel, "llama2.c tokenizer: bad max_token_length");
  Vocab v;
  while (pos < bytes.size()) {
    const float score = read_le<float>(bytes, pos);
    const int32_t len = read_le<int32_t>(bytes, pos);
    check(len >= 0 && size_t(len) <= bytes.size() - pos, Status::BadModel,
          "llama2.c tokenizer: token " + std::to_string(v.tokens.size()) + " has a bad length");
    std::string_view text = bytes.substr(pos, size_t(len));
    pos += size_t(len);
    const int32_t id = int32_t(v.tokens.size());
    TokenType type = TokenType::Normal;
    std::string piece;
    if (id == 0) {
      type = TokenType::Unknown;
      piece = std::string(text);
    } else if (id == 1 || id == 2) {
      type = TokenType::Control;
      piece = strip_newlines(text);
    } else if (is_byte_piece(text)) {
      type = TokenType::Byte;
      piece = std::string(text);
    } else {
      piece = replace_all(text, " ", kMetaspace);
    }
    v.tokens.push_back(std::move(piece));
    v.scores.push_back(score);
    v.types.push_back(int32_t(type));
  }
  check(v.tokens.size() >= 3, Status::BadModel, "llama2.c tokenizer: fewer than 3 tokens");
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return v;
}

Vocab read_llama2c_vocab(const std::string& path) {
  std::ifstream f(platform::path_from_utf8(path), std::ios::binary);
  check(bool(f), Status::Io, "cannot open llama2.c tokenizer '" + path + "'");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  check(!f.bad(), Status::Io, "cannot read llama2.c tokenizer '" + path + "'");
  return parse_llama2c_vocab(bytes);
}

}  // namespace tern

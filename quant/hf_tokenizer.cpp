// Hugging Face tokenizer.json (+ tokenizer_config.json) as a GGUF vocabulary. Two kinds of BPE
// model are read:
//  * Llama style (byte_fallback, "▁" for spaces): written as sentencepiece ("llama") pieces
//    whose scores follow the merge ranks;
//  * GPT-2 style byte-level (a ByteLevel pre-tokenizer or decoder: Qwen2, Llama 3, SmolLM,
//    GPT-2): written as llama.cpp's convert_hf_to_gguf.py writes it: model "gpt2", the tokens,
//    token types, the merges as "A B" strings, and the pre-tokenizer's llama.cpp name.
#include <iostream>
#include <cctype>
#include <map>

#include "common/error.h"
#include "quant/json_file.h"
#include "quant/model_limits.h"
#include "quant/model_source.h"
#include "platform/file_io.h"

namespace tern::quant {
namespace {

using nlohmann::json;

// The split expressions of Llama 3's and Qwen2's tokenizer.json, as written there.
constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::vector<json> steps_of(const json& pre) {
  if (!pre.is_object()) return {};
  if (pre.value("type", "") == "Sequence") return pre.value("pretokenizers", std::vector<json>{});
  return {pre};
}

// "<0xAB>", either case of hex digit: a byte-fallback piece. (A std::regex before: <regex> cost
// this file 6 of its 23 s of compile time under ASan.)
bool is_hex_byte_token(const std::string& s) {
  const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && hex(s[3]) && hex(s[4]) && s[5] == '>';
}

bool is_byte_level(const json& j) {
  if (j.contains("decoder") && j["decoder"].is_object() && j["decoder"].value("type", "") == "ByteLevel") return true;
  for (const json& s : steps_of(j.value("pre_tokenizer", json())))
    if (s.value("type", "") == "ByteLevel") return true;
  return false;
}

// A plain ByteLevel step: no prefix space; use_regex says whether it also runs GPT-2's split.
bool byte_level_step(const json& s, bool use_regex) {
  return s.value("type", "") == "ByteLevel" && !s.value("add_prefix_space", false) &&
         s.value("use_regex", true) == use_regex;
}

bool split_step(const json& s, const char* regex) {
  return s.value("type", "") == "Split" && s.contains("pattern") && s["pattern"].is_object() &&
         s["pattern"].value("Regex", "") == regex && s.value("behavior", "") == "Isolated" && !s.value("invert", false);
}

// llama.cpp's name for a byte-level pre-tokenizer (tokenizer.ggml.pre). Its converter hashes the
// tokenizer's output on a probe text; here the pre_tokenizer section is recognised instead.
// "" when it is none of the known ones.
std::string pre_tokenizer_name(const json& pre) {
  const std::vector<json> s = steps_of(pre);
  if (s.size() == 2 && split_step(s[0], kLlama3Split) && byte_level_step(s[1], false)) return "llama-bpe";
  if (s.size() == 2 && split_step(s[0], kQwen2Split) && byte_level_step(s[1], false)) return "qwen2";
  if (s.size() == 2 && s[0].value("type", "") == "Digits" && s[0].value("individual_digits", false) &&
      byte_level_step(s[1], true))
    return "smollm";
  if (s.size() == 1 && byte_level_step(s[0], true)) return "gpt-2";
  return "";
}

// Added tokens that are not marked special but are control tokens all the same, by their
// spelling (llama.cpp's converter does the same: Qwen2's "<|fim_prefix|>" is one).
bool looks_special(const std::string& t) {
  return (t.starts_with("<|") && t.ends_with("|>")) || (t.starts_with("<\uFF5C") && t.ends_with("\uFF5C>")) ||
         t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]";
}

// Whether a Llama-style tokenizer puts sentencepiece's dummy prefix "▁" before the text: a
// Prepend step in its normalizer (Llama 2), or a Metaspace pre-tokenizer that prepends (older
// files). Gemma's normalizer only replaces spaces.
bool prepends_space(const json& j) {
  const json& norm = j.value("normalizer", json());
  std::vector<json> norms;
  if (norm.is_object())
    norms = norm.value("type", "") == "Sequence" ? norm.value("normalizers", std::vector<json>{}) : std::vector<json>{norm};
  for (const json& s : norms)
    if (s.value("type", "") == "Prepend") return true;
  for (const json& s : steps_of(j.value("pre_tokenizer", json())))
    if (s.value("type", "") == "Metaspace")
      return s.value("add_prefix_space", false) || s.value("prepend_scheme", "") == "always" ||
             s.value("prepend_scheme", "") == "first";
  return false;
}

// A token id as tokenizer.json gives it: a non-negative integer below the vocabulary limit
// (an added token's "id": -1 used to index the token table out of bounds).
size_t token_id(const json& v, const std::filesystem::path& file, const std::string& what) {
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
    const uint64_t id = v.get<uint64_t>();
    if (id < limits::k_max_vocab) return size_t(id);
  }
  throw Error(Status::BadModel, platform::path_to_utf8(file) + ": " + what + " has id " + v.dump() +
                                    ", not an integer in [0, " + std::to_string(limits::k_max_vocab) + ")");
}

// A merge as its two parts: "a b" (one space) or ["a", "b"] (newer files).
std::pair<std::string, std::string> merge_parts(const json& m, size_t rank, const std::filesystem::path& file) {
  const auto bad = [&] {  // built only on failure: this runs for every merge
    return Error(Status::BadModel, platform::path_to_utf8(file) + ": merge " + std::to_string(rank) + " is not \"A B\" or [\"A\", \"B\"]");
  };
  if (m.is_string()) {
    const std::string& s = m.get_ref<const std::string&>();
    const size_t sp = s.find(' ', 1);
    if (s.size() < 2 || sp == std::string::npos || sp + 1 >= s.size()) throw bad();
    return {s.substr(0, sp), s.substr(sp + 1)};
  }
  if (!m.is_array() || m.size() != 2 || !m[0].is_string() || !m[1].is_string()) throw bad();
  auto a = m[0].get<std::string>(), b = m[1].get<std::string>();
  if (a.empty() || b.empty()) throw bad();
  return {std::move(a), std::move(b)};
}

Vocabulary read(const std::filesystem::path& path, const json& tok_cfg) {
  const json j = read_json_file(path);
  const json& model = j.at("model");
  const std::string type = model.value("type", "");
  const bool byte_fallback = model.value("byte_fallback", false), byte_level = is_byte_level(j);
  check(type == "BPE" && (byte_fallback || byte_level), Status::Unsupported,
        platform::path_to_utf8(path) + ": only BPE tokenizers with byte fallback (Llama style) or byte-level ones (GPT-2 "
                        "style) are supported (got type '" + type + "')");

  // Tokens by id: the model's vocabulary, then the added tokens (which may reuse an id).
  const json& vmap = model.at("vocab");
  const json added = j.value("added_tokens", json::array());
  size_t n = vmap.size();
  check(vmap.is_object() && added.is_array(), Status::BadModel,
        platform::path_to_utf8(path) + ": model.vocab is not an object or added_tokens not an array");
  check(n <= limits::k_max_vocab, Status::BadModel, platform::path_to_utf8(path) + ": more than " + std::to_string(limits::k_max_vocab) + " tokens");
  for (const auto& a : added) n = std::max<size_t>(n, token_id(a.at("id"), path, "an added token") + 1);
  std::vector<std::string> tokens(n);
  std::vector<bool> present(n, false), is_added(n, false), special(n, false);
  for (auto it = vmap.begin(); it != vmap.end(); ++it) {
    const size_t id = token_id(it.value(), path, "token '" + it.key().substr(0, 64) + "'");
    if (id >= n) throw Error(Status::BadModel, platform::path_to_utf8(path) + ": token id " + std::to_string(id) + " out of range");
    tokens[id] = it.key();
    present[id] = true;
  }
  for (const auto& a : added) {
    const size_t id = token_id(a.at("id"), path, "an added token");
    tokens[id] = a.at("content").get<std::string>();
    present[id] = is_added[id] = true;
    special[id] = a.value("special", false);
  }
  std::map<std::string, size_t> id_of;
  for (size_t i = 0; i < n; ++i)
    if (present[i]) id_of.emplace(tokens[i], i);
  std::vector<std::pair<std::string, std::string>> merges;
  const json no_merges = json::array();
  const json& mj = model.contains("merges") ? model["merges"] : no_merges;
  check(mj.is_array(), Status::BadModel, platform::path_to_utf8(path) + ": model.merges is not an array");
  merges.reserve(mj.size());
  for (size_t r = 0; r < mj.size(); ++r) merges.push_back(merge_parts(mj[r], r, path));

  Vocabulary v;
  if (byte_fallback) {
    // Score = -(rank of the merge that creates the token), so a score-driven (sentencepiece
    // style) merger applies merges in BPE rank order. Tokens no merge creates score 0.
    std::vector<float> scores(n, 0.f);
    std::vector<bool> scored(n, false);
    for (size_t r = 0; r < merges.size(); ++r) {
      const auto it = id_of.find(merges[r].first + merges[r].second);
      if (it != id_of.end() && !scored[it->second]) {
        scores[it->second] = -static_cast<float>(r);
        scored[it->second] = true;
      }
    }
    const std::string unk = model.value("unk_token", json()).is_string() ? model.at("unk_token").get<std::string>() : "";
    for (size_t i = 0; i < n; ++i) {
      TokenType t = TokenType::Normal;
      if (!present[i]) t = TokenType::Unused;
      else if (!unk.empty() && tokens[i] == unk) t = TokenType::Unknown;
      else if (special[i]) t = TokenType::Control;
      else if (is_hex_byte_token(tokens[i])) t = TokenType::Byte;
      else if (is_added[i]) t = TokenType::UserDefined;  // matched whole in the text first, as Hugging Face does
      v.add(present[i] ? tokens[i] : "[PAD" + std::to_string(i) + "]", scores[i], t);
    }
    if (!unk.empty() && id_of.count(unk)) v.unk_id = int32_t(id_of[unk]);
    v.add_space_prefix = prepends_space(j);
  } else {
    check(!merges.empty(), Status::BadModel, platform::path_to_utf8(path) + ": byte-level BPE without merges");
    v.model = "gpt2";
    v.unk_id = v.bos_id = v.eos_id = -1;
    for (size_t i = 0; i < n; ++i) {
      TokenType t = TokenType::Normal;
      std::string text = tokens[i];
      if (!present[i]) {
        t = TokenType::Unused;
        text = "[PAD" + std::to_string(i) + "]";
      } else if (is_added[i] && (special[i] || looks_special(text))) {
        t = TokenType::Control;
      } else if (is_added[i]) {
        t = TokenType::UserDefined;
        for (size_t at; (at = text.find("\xE2\x96\x81")) != std::string::npos;) text.replace(at, 3, " ");
      }
      v.add(std::move(text), 0.f, t);
    }
    v.merges.reserve(merges.size());
    for (const auto& [a, b] : merges) {
      // GGUF stores a merge as one string; a part holding a space would be split wrongly.
      if (a.find(' ') != std::string::npos || b.find(' ') != std::string::npos)
        throw Error(Status::BadModel, platform::path_to_utf8(path) + ": merge '" + a + "' + '" + b + "' has a space inside a part");
      if (!id_of.count(a) || !id_of.count(b) || !id_of.count(a + b))
        throw Error(Status::BadModel,
                    platform::path_to_utf8(path) + ": merge '" + a + " " + b + "' names a token that is not in the vocabulary");
      v.merges.push_back(a + " " + b);
    }
    if (j.contains("normalizer") && !j["normalizer"].is_null())
      std::cerr << "warning: " << platform::path_to_utf8(path) << ": its normalizer ("
                << (j["normalizer"].is_object() ? j["normalizer"].value("type", "?") : "?") << ") has no place in GGUF and is not applied (as in llama.cpp): text it would change may "
                   "tokenize differently\n";
    v.pre = pre_tokenizer_name(j.value("pre_tokenizer", json()));
    if (v.pre.empty()) {
      std::cerr << "warning: " << platform::path_to_utf8(path)
                << ": pre-tokenizer not recognised; writing tokenizer.ggml.pre = 'default', which may "
                   "tokenize differently from this tokenizer\n";
      v.pre = "default";
    }
    // Absent in tokenizer_config.json: llama.cpp's default for the pre-tokenizer (only Llama 3 adds BOS).
    v.add_bos = tok_cfg.value("add_bos_token", v.pre == "llama-bpe");
  }

  auto token_id = [&](const char* key) -> int32_t {
    if (!tok_cfg.contains(key)) return -1;
    const json& x = tok_cfg.at(key);
    const std::string s = x.is_string() ? x.get<std::string>() : x.is_object() ? x.value("content", "") : "";
    if (s.empty()) return -1;
    const auto it = id_of.find(s);
    return it == id_of.end() ? -1 : int32_t(it->second);
  };
  if (int32_t b = token_id("bos_token"); b >= 0) v.bos_id = b;
  if (int32_t e = token_id("eos_token"); e >= 0) v.eos_id = e;
  if (int32_t p = token_id("pad_token"); p >= 0) v.pad_id = p;
  return v;
}

}  // namespace

Vocabulary read_hf_tokenizer(const std::filesystem::path& tokenizer_json, const std::filesystem::path& tokenizer_config) {
  const json cfg = tokenizer_config.empty() ? json::object() : read_json_file(tokenizer_config);
  try {
    return read(tokenizer_json, cfg.is_object() ? cfg : json::object());
  } catch (const json::exception& e) {
    throw Error(Status::BadModel, platform::path_to_utf8(tokenizer_json) + ": " + e.what());
  }
}

}  // namespace tern::quant

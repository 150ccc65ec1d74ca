// llama2.c "version 0" checkpoints (Karpathy's run.c format): a 7 x int32 header, then fp32
// arrays in a fixed order. llama2.c already stores wq/wk in the interleaved-pair RoPE layout
// llama.cpp's llama architecture expects, so no permutation is needed. Its tokenizer.bin is a
// sentencepiece vocabulary exported with '▁' written as a plain space.
#include <cstring>
#include <fstream>

#include "common/error.h"
#include "platform/file_io.h"
#include "quant/model_source.h"

namespace tern::quant {
namespace {

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Where each GGUF tensor lives in the file: float offset of layer 0 and the per-layer stride.
struct Span {
  uint64_t offset;  // in floats from the start of the weights
  uint64_t layer_stride;
};

class Llama2cSource : public ModelSource {
 public:
  Llama2cSource(const std::filesystem::path& path, const std::filesystem::path& tok_path) : path_(path) {
    std::ifstream f(path, std::ios::binary);
    check(f.good(), Status::Io, "cannot open llama2.c checkpoint " + platform::path_to_utf8(path));
    Header h{};
    f.read(reinterpret_cast<char*>(&h), sizeof h);
    check(f.gcount() == sizeof h, Status::BadModel, platform::path_to_utf8(path) + ": truncated llama2.c header");
    const bool shared = h.vocab_size > 0;
    const int64_t n_vocab = shared ? h.vocab_size : -int64_t(h.vocab_size);
    auto bad = [&](const std::string& why) {
      throw Error(Status::BadModel, platform::path_to_utf8(path) + ": not a llama2.c checkpoint (" + why + ")");
    };
    if (h.dim <= 0 || h.dim > 65536) bad("dim " + std::to_string(h.dim));
    if (h.hidden_dim <= 0 || h.hidden_dim > 1 << 20) bad("hidden_dim " + std::to_string(h.hidden_dim));
    if (h.n_layers <= 0 || h.n_layers > 1024) bad("n_layers " + std::to_string(h.n_layers));
    if (h.n_heads <= 0 || h.dim % h.n_heads != 0) bad("n_heads " + std::to_string(h.n_heads));
    if (h.n_kv_heads <= 0 || h.n_heads % h.n_kv_heads != 0) bad("n_kv_heads " + std::to_string(h.n_kv_heads));
    if (n_vocab <= 0 || n_vocab > 1 << 22) bad("vocab_size " + std::to_string(h.vocab_size));
    if (h.seq_len <= 0 || h.seq_len > 1 << 24) bad("seq_len " + std::to_string(h.seq_len));
    const uint64_t head_size = uint64_t(h.dim) / uint64_t(h.n_heads);
    if (head_size % 2 != 0) bad("odd head size");

    auto& hp = hparams;
    hp.arch = "llama";
    hp.name = platform::path_to_utf8(path.stem());
    hp.n_embd = uint32_t(h.dim);
    hp.n_ff = uint32_t(h.hidden_dim);
    hp.n_layer = uint32_t(h.n_layers);
    hp.n_head = uint32_t(h.n_heads);
    hp.n_head_kv = uint32_t(h.n_kv_heads);
    hp.n_vocab = uint32_t(n_vocab);
    hp.n_ctx = uint32_t(h.seq_len);
    hp.rms_eps = 1e-5f;  // run.c's rmsnorm
    hp.rope_freq_base = 10000.f;
    hp.tied_output = shared;
    tensors = llama_tensor_specs(hp);

    // Float offsets, in file order.
    const uint64_t d = uint64_t(h.dim), L = uint64_t(h.n_layers), ff = uint64_t(h.hidden_dim);
    const uint64_t kv = head_size * uint64_t(h.n_kv_heads);
    uint64_t at = 0;
    auto next = [&](uint64_t per_layer, uint64_t layers) {
      const Span s{at, per_layer};
      at += per_layer * layers;
      return s;
    };
    const Span embd = next(uint64_t(n_vocab) * d, 1);
    const Span rms_att = next(d, L), wq = next(d * d, L), wk = next(d * kv, L), wv = next(d * kv, L),
               wo = next(d * d, L), rms_ffn = next(d, L), w1 = next(d * ff, L), w2 = next(ff * d, L),
               w3 = next(d * ff, L), rms_final = next(d, 1);
    at += uint64_t(h.seq_len) * head_size;  // freq_cis_real + freq_cis_imag (unused)
    Span wcls = embd;
    if (!shared) wcls = next(uint64_t(n_vocab) * d, 1);
    const uint64_t need = sizeof(Header) + at * 4;
    const uint64_t have = std::filesystem::file_size(path);
    // Exactly: a file longer than its header says is another layout (or not a checkpoint at all),
    // which would convert to garbage with no error.
    check(have == need, Status::BadModel,
          platform::path_to_utf8(path) + ": " + (have < need ? "truncated llama2.c checkpoint (" : "not a llama2.c checkpoint of this header (") +
              std::to_string(have) + " bytes, the header implies " + std::to_string(need) + ")");

    for (const auto& t : tensors) {
      const auto& n = t.name;
      uint64_t layer = 0;
      std::string kind = n;
      if (n.rfind("blk.", 0) == 0) {
        const size_t dot = n.find('.', 4);
        layer = std::stoull(n.substr(4, dot - 4));
        kind = n.substr(dot + 1);
      }
      Span s{};
      if (kind == "token_embd.weight") s = embd;
      else if (kind == "output_norm.weight") s = rms_final;
      else if (kind == "output.weight") s = wcls;
      else if (kind == "attn_norm.weight") s = rms_att;
      else if (kind == "attn_q.weight") s = wq;
      else if (kind == "attn_k.weight") s = wk;
      else if (kind == "attn_v.weight") s = wv;
      else if (kind == "attn_output.weight") s = wo;
      else if (kind == "ffn_norm.weight") s = rms_ffn;
      else if (kind == "ffn_gate.weight") s = w1;
      else if (kind == "ffn_down.weight") s = w2;
      else if (kind == "ffn_up.weight") s = w3;
      else throw Error(Status::Internal, "llama2.c: no source for " + n);
      offsets_.push_back(sizeof(Header) + (s.offset + layer * s.layer_stride) * 4);
    }
    read_tokenizer(tok_path);
  }

  std::vector<float> load(size_t index) const override {
    const auto& t = tensors.at(index);
    std::vector<float> v(t.elements());
    std::ifstream f(path_, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offsets_[index]));
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
    check(f.good(), Status::Io, platform::path_to_utf8(path_) + ": read of " + t.name + " failed");
    return v;
  }

 private:
  // tokenizer.bin: int32 max_token_length, then per token: f32 score, i32 length, bytes.
  void read_tokenizer(const std::filesystem::path& tok_path) {
    std::ifstream f(tok_path, std::ios::binary);
    check(f.good(), Status::Io, "cannot open llama2.c tokenizer " + platform::path_to_utf8(tok_path));
    int32_t max_len = 0;
    f.read(reinterpret_cast<char*>(&max_len), 4);
    check(f.good() && max_len > 0 && max_len < 65536, Status::BadModel, platform::path_to_utf8(tok_path) + ": bad tokenizer header");
    for (uint32_t i = 0; i < hparams.n_vocab; ++i) {
      float score = 0;
      int32_t len = 0;
      f.read(reinterpret_cast<char*>(&score), 4);
      f.read(reinterpret_cast<char*>(&len), 4);
      check(f.good() && len >= 0 && len <= max_len, Status::BadModel,
            platform::path_to_utf8(tok_path) + ": truncated or corrupt at token " + std::to_string(i));
      std::string s(size_t(len), '\0');
      f.read(s.data(), len);
      check(f.good(), Status::BadModel, platform::path_to_utf8(tok_path) + ": truncated at token " + std::to_string(i));
      add_token(i, s, score);
    }
    vocab.bos_id = 1;
    vocab.eos_id = 2;
    vocab.unk_id = 0;
  }

  void add_token(uint32_t id, const std::string& s, float score) {
    if (id == 0) return vocab.add("<unk>", score, TokenType::Unknown);
    if (s == "\n<s>\n" || s == "<s>") return vocab.add("<s>", score, TokenType::Control);
    if (s == "\n</s>\n" || s == "</s>") return vocab.add("</s>", score, TokenType::Control);
    if (s.size() == 6 && s.rfind("<0x", 0) == 0 && s[5] == '>') return vocab.add(s, score, TokenType::Byte);
    std::string piece;
    for (char c : s) {
      if (c == ' ') piece += "\xE2\x96\x81";  // U+2581, sentencepiece's space
      else piece += c;
    }
    vocab.add(piece, score, TokenType::Normal);
  }

  std::filesystem::path path_;
  std::vector<uint64_t> offsets_;
};

}  // namespace

std::unique_ptr<ModelSource> open_llama2c(const std::filesystem::path& checkpoint,
                                          const std::filesystem::path& tokenizer) {
  return std::make_unique<Llama2cSource>(checkpoint, tokenizer);
}

}  // namespace tern::quant

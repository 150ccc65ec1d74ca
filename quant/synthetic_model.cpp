// Random models at the real shapes of known checkpoints, for size/speed work without the
// weights: N(0, 0.02) matrices and biases, unit norms. Each tensor is generated from a seed
// derived from its name, so any tensor can be produced alone and in any order.
#include <cmath>
#include <functional>

#include "common/error.h"
#include "quant/model_source.h"

namespace tern::quant {
namespace {

struct Preset {
  const char* name;
  HyperParams hp;
};

HyperParams make_hp(const char* arch, uint32_t embd, uint32_t layers, uint32_t heads, uint32_t kv, uint32_t ff,
                    uint32_t vocab, uint32_t ctx, float base, float eps, bool tied) {
  HyperParams h;
  h.arch = arch;
  h.n_embd = embd;
  h.n_layer = layers;
  h.n_head = heads;
  h.n_head_kv = kv;
  h.n_ff = ff;
  h.n_vocab = vocab;
  h.n_ctx = ctx;
  h.rope_freq_base = base;
  h.rms_eps = eps;
  h.tied_output = tied;
  return h;
}

// qwen3 and gemma3 shapes give their head size (it is not n_embd / n_head).
HyperParams with_head_dim(HyperParams h, uint32_t head_dim) {
  h.head_dim = head_dim;
  return h;
}

// Gemma 3: sliding-window layers (5 of every 6, window W) with RoPE base 10000, and global
// layers with the model's base and, from 4B up, linear scaling by 8.
HyperParams gemma3(HyperParams h, uint32_t window, float linear_scaling) {
  h.head_dim = 256;
  h.sliding_window = window;
  h.sliding_layers.assign(h.n_layer, false);
  for (uint32_t l = 0; l < h.n_layer; ++l) h.sliding_layers[l] = l % 6 < 5;
  h.rope_freq_base_swa = 10000.f;
  if (linear_scaling > 0.f) {
    h.rope_scaling_type = "linear";
    h.rope_scaling_factor = linear_scaling;
  }
  return h;
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p = {
      {"tinyllama-1.1b", make_hp("llama", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.f, 1e-5f, false)},
      {"llama-2-7b", make_hp("llama", 4096, 32, 32, 32, 11008, 32000, 4096, 10000.f, 1e-5f, false)},
      {"qwen2.5-0.5b", make_hp("qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.f, 1e-6f, true)},
      {"smollm-135m", make_hp("llama", 576, 30, 9, 3, 1536, 49152, 2048, 10000.f, 1e-5f, true)},
      {"qwen3-0.6b", with_head_dim(make_hp("qwen3", 1024, 28, 16, 8, 3072, 151936, 40960, 1000000.f, 1e-6f, true), 128)},
      {"qwen3-1.7b", with_head_dim(make_hp("qwen3", 2048, 28, 16, 8, 6144, 151936, 40960, 1000000.f, 1e-6f, true), 128)},
      {"gemma3-1b", gemma3(make_hp("gemma3", 1152, 26, 4, 1, 6912, 262144, 32768, 1000000.f, 1e-6f, true), 512, 0.f)},
      {"gemma3-4b", gemma3(make_hp("gemma3", 2560, 34, 8, 4, 10240, 262208, 131072, 1000000.f, 1e-6f, true), 1024, 8.f)},
      // Small enough for unit tests.
      {"test-tiny", make_hp("llama", 256, 2, 4, 2, 512, 300, 128, 10000.f, 1e-5f, false)},
      {"test-tiny-qwen2", make_hp("qwen2", 256, 2, 4, 2, 512, 300, 128, 1000000.f, 1e-6f, true)},
      // qwen3 and gemma3 with head sizes that are not n_embd / n_head; gemma3's 7 layers and
      // window 16 give sliding-window layers on both sides of a global one.
      {"test-tiny-qwen3", with_head_dim(make_hp("qwen3", 256, 2, 4, 2, 512, 300, 128, 1000000.f, 1e-6f, true), 96)},
      {"test-tiny-gemma3", [] {
         HyperParams h = gemma3(make_hp("gemma3", 256, 7, 4, 2, 512, 300, 256, 1000000.f, 1e-6f, true), 16, 8.f);
         h.head_dim = 64;
         return h;
       }()},
      // Qwen2's vocabulary size on a tiny body: the GPU sampling ops at a real row length.
      {"test-wide-vocab", make_hp("qwen2", 64, 1, 4, 2, 128, 152064, 128, 1000000.f, 1e-6f, true)},
  };
  return p;
}

// splitmix64: a small, fast, well-mixed generator.
struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (double(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
};

class SyntheticSource : public ModelSource {
 public:
  SyntheticSource(const HyperParams& hp, uint64_t seed) : seed_(seed) {
    hparams = hp;
    tensors = llama_tensor_specs(hp);
  }

  std::vector<float> load(size_t index) const override {
    const auto& t = tensors.at(index);
    std::vector<float> v(t.elements());
    if (t.name.ends_with("norm.weight")) {
      std::fill(v.begin(), v.end(), 1.f);
      return v;
    }
    SplitMix rng{seed_ ^ std::hash<std::string>{}(t.name)};
    for (size_t i = 0; i + 1 < v.size(); i += 2) {  // Box-Muller, two values per draw
      const double r = std::sqrt(-2.0 * std::log(rng.uniform())) * 0.02;
      const double a = 6.283185307179586 * rng.uniform();
      v[i] = float(r * std::cos(a));
      v[i + 1] = float(r * std::sin(a));
    }
    if (v.size() % 2) v.back() = 0.f;
    return v;
  }

 private:
  uint64_t seed_;
};

Vocabulary placeholder_vocab(uint32_t n) {
  Vocabulary v;
  v.add("<unk>", 0.f, TokenType::Unknown);
  v.add("<s>", 0.f, TokenType::Control);
  v.add("</s>", 0.f, TokenType::Control);
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256 && v.tokens.size() < n; ++b)
    v.add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", 0.f, TokenType::Byte);
  while (v.tokens.size() < n) {
    const size_t i = v.tokens.size();
    v.add("tok" + std::to_string(i), -float(i), TokenType::Normal);
  }
  return v;
}

const Preset& preset(const std::string& name) {
  for (const auto& p : presets())
    if (name == p.name) return p;
  std::string known;
  for (const auto& n : synthetic_model_names()) known += " " + n;
  throw Error(Status::InvalidArgument, "unknown synthetic model '" + name + "' (known:" + known + ")");
}

std::unique_ptr<ModelSource> make(const Preset& p, Vocabulary vocab, uint64_t seed) {
  auto src = std::make_unique<SyntheticSource>(p.hp, seed);
  src->hparams.name = "synthetic " + std::string(p.name);
  check(vocab.tokens.size() <= p.hp.n_vocab, Status::InvalidArgument,
        "the vocabulary has more tokens than " + std::string(p.name) + "'s " + std::to_string(p.hp.n_vocab) + " rows");
  while (vocab.tokens.size() < p.hp.n_vocab)
    vocab.add("[PAD" + std::to_string(vocab.tokens.size()) + "]", 0.f, TokenType::Unused);
  src->vocab = std::move(vocab);
  return src;
}

}  // namespace

std::vector<std::string> synthetic_model_names() {
  std::vector<std::string> n;
  for (const auto& p : presets()) n.push_back(p.name);
  return n;
}

std::unique_ptr<ModelSource> make_synthetic(const std::string& name, const std::filesystem::path& tokenizer,
                                            uint64_t seed) {
  const Preset& p = preset(name);
  Vocabulary v;
  if (tokenizer.empty()) {
    v = placeholder_vocab(p.hp.n_vocab);
  } else if (tokenizer.extension() == ".json") {
    const auto cfg = tokenizer.parent_path() / "tokenizer_config.json";
    v = read_hf_tokenizer(tokenizer, std::filesystem::exists(cfg) ? cfg : std::filesystem::path());
  } else {
    v = read_sentencepiece_vocab(tokenizer);
  }
  if (p.hp.arch.starts_with("qwen") && v.model != "gpt2") v.add_bos = false;
  if (p.hp.arch == "gemma3" && v.model != "gpt2") v.add_space_prefix = false;
  return make(p, std::move(v), seed);
}

std::unique_ptr<ModelSource> make_synthetic_with_vocab(const std::string& name, Vocabulary vocab, uint64_t seed) {
  return make(preset(name), std::move(vocab), seed);
}

}  // namespace tern::quant

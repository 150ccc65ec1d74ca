// A loaded model: configuration, tokenizer and weights resident in device memory.
// Immutable after load, shared (std::shared_ptr) by every context made from it.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quant/beacon_settings.h"
#include "gpu/buffer.h"
#include "gpu/device.h"
#include "model/model_config.h"
#include "ops/matmul.h"
#include "tokenizer/tokenizer.h"

namespace tern {

class GgufFile;
struct GgufTensorInfo;

// Activation Beacon projections of one layer (README, Long context): GGUF
// blk.N.attn_{q,k,v}_beacon.weight, their .bias when the base model has Q/K/V biases, and
// optionally blk.N.attn_output_beacon.weight (wo.rows == 0: beacon rows use the base O).
struct BeaconProjections {
  ops::WeightView wq, wk, wv, wo, bq, bk, bv;
};

struct LayerWeights {
  ops::WeightView attn_norm, wq, wk, wv, wo;
  ops::WeightView bq, bk, bv;  // qwen2 only (rows == 0 when absent)
  ops::WeightView ffn_norm, w_gate, w_up, w_down;
  ops::WeightView attn_q_norm, attn_k_norm;  // ModelConfig::qk_norm: per-head RMSNorm weights [head_dim]
  ops::WeightView post_attn_norm, post_ffn_norm;  // ModelConfig::post_norms: [n_embd]
  // Matrices that multiply the same input, stored one after another in one buffer when they share
  // a weight type (wq, wk, wv and w_gate, w_up are then views into these): one product makes all
  // their rows (Forward's stacked products). rows == 0 when the types differ.
  ops::WeightView wqkv, w_gate_up;
  // Beacon rows' own projections; absent (in every layer) when the file has none: beacon rows
  // then use the base projections ("training-free" mode).
  std::optional<BeaconProjections> beacon;
};

struct ModelLoadOptions {
  std::string device;               // selector, see gpu::DeviceOptions
  bool validation = false;
  std::shared_ptr<gpu::Device> use_device;  // share an existing device (tests); overrides the above
  // Progress in [0, 1]; return false to cancel (load throws Cancelled).
  std::function<bool(float)> progress;
  // File the device's pipeline cache is seeded from at load and written to (atomically) when
  // the model is freed; empty = TERN_PIPELINE_CACHE (common/options.h), or none when that is unset too. A file
  // that is corrupt or made for another device/driver is ignored with a warning on stderr;
  // a failed write warns too. Neither ever fails the load.
  std::string pipeline_cache_path;
};

class Model {
 public:
  static std::shared_ptr<Model> load(const std::string& path, const ModelLoadOptions& options = {});
  ~Model();

  const ModelConfig& config() const { return config_; }
  gpu::Device& device() const { return *device_; }
  std::shared_ptr<gpu::Device> device_ptr() const { return device_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

  const ops::WeightView& token_embd() const { return token_embd_; }
  const ops::WeightView& output_norm() const { return output_norm_; }
  const ops::WeightView& output() const { return output_; }
  const LayerWeights& layer(uint32_t i) const { return layers_[i]; }
  // Beacon input embedding (f32 [n_embd], GGUF "beacon_embd.weight"); rows == 0 when absent,
  // in which case beacon rows embed as the EOS token.
  const ops::WeightView& beacon_embd() const { return beacon_embd_; }
  bool has_beacon_projections() const { return !layers_.empty() && layers_[0].beacon.has_value(); }
  // The file's beacon.* settings (present == false when it has none): a context's defaults for
  // the beacon policies (api/context.cpp).
  const BeaconSettings& beacon_settings() const { return beacon_settings_; }
  // theta_i table (n_rot/2) for the model's own RoPE settings and its attention factor: what
  // global layers rotate with.
  const std::vector<float>& rope_freqs() const { return rope_freqs_; }
  // The table of sliding-window layers (ModelConfig::rope_base_swa, no scaling, attention factor
  // 1); empty when the model has none.
  const std::vector<float>& rope_freqs_swa() const { return rope_freqs_swa_; }
  // Llama 3 per-pair frequency divisors (rope_freqs.weight), empty when absent.
  const std::vector<float>& rope_freq_factors() const { return rope_freq_factors_; }
  // cos/sin multiplier of the scaled RoPE (YaRN's attention factor; 1 otherwise).
  float rope_attn_factor() const { return rope_attn_factor_; }

  const std::string& path() const { return path_; }
  const std::string& chat_template() const { return chat_template_; }
  uint64_t weight_bytes() const { return weight_bytes_; }
  uint64_t n_params() const { return n_params_; }
  const std::map<std::string, uint64_t>& bytes_by_type() const { return bytes_by_type_; }
  // Identifies the model for saved states: hash of the config and tensor layout.
  uint64_t fingerprint() const { return fingerprint_; }
  // The pipeline cache file in use ("" = none), and whether loading merged it into the device.
  const std::string& pipeline_cache_path() const { return pipeline_cache_path_; }
  bool pipeline_cache_seeded() const { return pipeline_cache_seeded_; }

 private:
  Model() = default;
  void seed_pipeline_cache(const std::string& requested);
  ops::WeightView upload(const GgufFile& f, const std::string& name, std::vector<uint64_t> dims, bool matrix,
                         bool optional = false);
  // Uploads the matrices `names` (each `dims`) one after another into one buffer when they share a
  // type and return the view of them all (their rows stacked), each part's view in parts; when
  // the types differ, each in its own buffer, and a view with no rows.
  ops::WeightView upload_stacked(const GgufFile& f, const std::vector<std::string>& names,
                                 const std::vector<std::vector<uint64_t>>& dims, std::vector<ops::WeightView*> parts);
  // A present tensor of the expected shape and a type Tern runs (throws otherwise).
  const GgufTensorInfo& checked_tensor(const GgufFile& f, const std::string& name, const std::vector<uint64_t>& dims,
                                       bool matrix);
  // Counts an uploaded tensor into the sizes, the fingerprint and the load progress.
  void account(const GgufFile& f, const std::string& name, const GgufTensorInfo& t);

  std::string path_;
  std::shared_ptr<gpu::Device> device_;
  ModelConfig config_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<gpu::Buffer> buffers_;
  ops::WeightView token_embd_, output_norm_, output_, beacon_embd_;
  std::vector<LayerWeights> layers_;
  std::vector<float> rope_freqs_, rope_freqs_swa_, rope_freq_factors_;
  float rope_attn_factor_ = 1.f;
  std::string chat_template_;
  BeaconSettings beacon_settings_;
  std::string pipeline_cache_path_;
  bool pipeline_cache_seeded_ = false;
  uint64_t weight_bytes_ = 0, n_params_ = 0, fingerprint_ = 0;
  std::map<std::string, uint64_t> bytes_by_type_;
  std::function<bool(float)> progress_;
  uint64_t bytes_total_ = 0, bytes_done_ = 0;
};

}  // namespace tern

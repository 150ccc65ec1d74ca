#include "model/model.h"

#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "common/fnv1a.h"
#include "common/options.h"
#include "quant/finite_check.h"
#include "gpu/pipeline.h"
#include "quant/gguf_reader.h"
#include "tokenizer/gguf_vocab.h"
#include "quant/ggml_types.h"
#include "quant/model_limits.h"

namespace tern {
namespace {

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

}  // namespace

Model::~Model() {
  // Persist every pipeline built while this model lived (contexts included). Never throws:
  // a cache that cannot be written only costs the next start its compile time.
  if (pipeline_cache_path_.empty() || !device_) return;
  try {
    std::string why;
    if (!device_->pipelines().save_to_file(pipeline_cache_path_, &why))
      std::fprintf(stderr, "tern: warning: pipeline cache not saved: %s\n", why.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern: warning: pipeline cache not saved: %s\n", e.what());
  }
}

void Model::seed_pipeline_cache(const std::string& requested) {
  pipeline_cache_path_ = requested;
  if (pipeline_cache_path_.empty())
    pipeline_cache_path_ = read_env_options().pipeline_cache.value_or("");
  if (pipeline_cache_path_.empty()) return;
  std::string why;
  pipeline_cache_seeded_ = device_->pipelines().seed_from_file(pipeline_cache_path_, &why);
  if (!pipeline_cache_seeded_ && !why.empty())
    std::fprintf(stderr, "tern: warning: pipeline cache '%s' ignored: %s\n", pipeline_cache_path_.c_str(), why.c_str());
}

const GgufTensorInfo& Model::checked_tensor(const GgufFile& f, const std::string& name,
                                            const std::vector<uint64_t>& dims, bool matrix) {
  const GgufTensorInfo* t = f.tensor(name);
  check(t != nullptr, Status::BadModel, "model is missing tensor '" + name + "'");
  std::vector<uint64_t> got(t->dims.begin(), t->dims.end());
  while (got.size() > dims.size() && got.back() == 1) got.pop_back();
  check(got == dims, Status::BadModel,
        "tensor '" + name + "' has shape " + dims_str(got) + ", expected " + dims_str(dims));
  const GgmlType type = t->type;
  if (matrix) {
    check(ggml_type_runs_on_gpu(type), Status::Unsupported,
          "tensor '" + name + "' has type " + std::string(ggml_type_name(type)) +
              ", which Tern does not run (supported: f32, f16, q8_0, q4_0, q4_k, q6_k)");
  } else {
    check(type == GgmlType::F32, Status::Unsupported,
          "tensor '" + name + "' (a norm or bias vector) has type " + std::string(ggml_type_name(type)) + ", expected f32");
  }
  // NaN or infinite weights would make every logit NaN: refused here rather than sampled from.
  // (A pass over the bytes that are copied to the device next anyway.)
  if (const auto bad = first_non_finite(type, f.tensor_data(*t), t->n_elements))
    throw Error(Status::BadModel, "tensor '" + name + "' holds a NaN or infinite value (element " + std::to_string(*bad) +
                                      (type == GgmlType::F32 || type == GgmlType::F16 ? "" : ", a block scale") + ")");
  return *t;
}

void Model::account(const GgufFile& f, const std::string& name, const GgufTensorInfo& t) {
  weight_bytes_ += t.bytes;
  n_params_ += t.n_elements;
  bytes_by_type_[std::string(ggml_type_name(t.type))] += t.bytes;
  fingerprint_ = fnv1a(fingerprint_, name.data(), name.size());
  fingerprint_ = fnv1a(fingerprint_, &t.type, sizeof(t.type));
  fingerprint_ = fnv1a(fingerprint_, t.dims.data(), t.dims.size() * sizeof(t.dims[0]));
  // Sample the data too, so two different fine-tunes of one shape differ.
  fingerprint_ = fnv1a(fingerprint_, f.tensor_data(t), std::min<uint64_t>(t.bytes, 64));
  bytes_done_ += t.bytes;
  if (progress_ && bytes_total_ && !progress_(float(double(bytes_done_) / double(bytes_total_))))
    throw Error(Status::Cancelled, "model loading cancelled");
}

ops::WeightView Model::upload(const GgufFile& f, const std::string& name, std::vector<uint64_t> dims, bool matrix,
                              bool optional) {
  if (optional && !f.tensor(name)) return {};
  const GgufTensorInfo& t = checked_tensor(f, name, dims, matrix);
  gpu::Buffer buf = device_->allocator().create(t.bytes, gpu::MemoryUse::Device, "tensor " + name);
  device_->allocator().write(buf, 0, f.tensor_data(t), t.bytes);
  buffers_.push_back(std::move(buf));
  account(f, name, t);
  ops::WeightView v;
  v.type = t.type;
  v.cols = uint32_t(dims[0]);
  v.rows = dims.size() > 1 ? uint32_t(dims[1]) : 1;
  v.buf = gpu::BufferRef(buffers_.back());
  return v;
}

ops::WeightView Model::upload_stacked(const GgufFile& f, const std::vector<std::string>& names,
                                      const std::vector<std::vector<uint64_t>>& dims,
                                      std::vector<ops::WeightView*> parts) {
  std::vector<const GgufTensorInfo*> ts;
  uint64_t total = 0;
  bool same = true;
  for (size_t i = 0; i < names.size(); ++i) {
    ts.push_back(&checked_tensor(f, names[i], dims[i], true));
    total += ts.back()->bytes;
    same = same && ts[i]->type == ts[0]->type && dims[i][0] == dims[0][0];
  }
  if (!same) {
    for (size_t i = 0; i < names.size(); ++i) *parts[i] = upload(f, names[i], dims[i], true);
    return {};
  }
  // Every part's rows are a whole number of even-sized blocks, so each part starts at an even
  // offset as a WeightView needs; the buffer ends on a whole word (kernels read uint words).
  gpu::Buffer buf = device_->allocator().create((total + 3) / 4 * 4, gpu::MemoryUse::Device, "tensors " + names[0] + "...");
  buffers_.push_back(std::move(buf));
  gpu::Buffer& b = buffers_.back();
  uint64_t offset = 0;
  uint32_t rows = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    device_->allocator().write(b, offset, f.tensor_data(*ts[i]), ts[i]->bytes);
    account(f, names[i], *ts[i]);
    *parts[i] = ops::WeightView{gpu::BufferRef(b, offset, ts[i]->bytes), ts[i]->type, uint32_t(dims[i][1]),
                                uint32_t(dims[i][0])};
    offset += ts[i]->bytes;
    rows += uint32_t(dims[i][1]);
  }
  return ops::WeightView{gpu::BufferRef(b, 0, total), ts[0]->type, rows, uint32_t(dims[0][0])};
}

std::shared_ptr<Model> Model::load(const std::string& path, const ModelLoadOptions& options) {
  std::shared_ptr<Model> m(new Model());
  m->path_ = path;
  m->progress_ = options.progress;
  auto file = GgufFile::open(path);
  m->config_ = read_model_config(*file);
  ModelConfig& c = m->config_;
  // The vocabulary's size against the embedding's rows before a string is copied: a file
  // claiming ten million tokens is refused here, not after building them all.
  limits::check_count(c.n_vocab, limits::k_max_vocab, Status::BadModel, "the vocabulary size (tokenizer.ggml.tokens)");
  if (const GgufTensorInfo* embd = file->tensor("token_embd.weight"))
    check(embd->dims.size() >= 2 && embd->dims[1] == c.n_vocab, Status::BadModel,
          "the vocabulary has " + std::to_string(c.n_vocab) + " tokens but token_embd.weight has " +
              std::to_string(embd->dims.size() >= 2 ? embd->dims[1] : 1) + " rows");
  m->tokenizer_ = Tokenizer::from_vocab(vocab_from_gguf(*file));
  c.n_vocab = uint32_t(m->tokenizer_->n_vocab());
  if (auto tmpl = file->get_string("tokenizer.chat_template")) m->chat_template_ = std::string(*tmpl);
  m->beacon_settings_ = read_beacon_settings(*file);

  if (options.use_device) {
    m->device_ = options.use_device;
  } else {
    gpu::DeviceOptions dopt;
    dopt.selector = options.device;
    if (options.validation) dopt.validation = gpu::Validation::IfAvailable;
    m->device_ = gpu::Device::create(dopt);
  }
  m->seed_pipeline_cache(options.pipeline_cache_path);
  // Buffers are referenced by WeightView pointers: reserve so they never move.
  m->buffers_.reserve(file->tensors().size() + 1);
  for (const auto& t : file->tensors()) m->bytes_total_ += t.bytes;
  m->fingerprint_ = fnv1a(k_fnv1a_offset, &c.n_layer, sizeof(c.n_layer));

  const uint64_t E = c.n_embd, V = c.n_vocab, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff;
  m->token_embd_ = m->upload(*file, "token_embd.weight", {E, V}, true);
  m->output_norm_ = m->upload(*file, "output_norm.weight", {E}, false);
  m->output_ = m->upload(*file, "output.weight", {E, V}, true, /*optional=*/true);
  if (m->output_.rows == 0) m->output_ = m->token_embd_;  // tied embeddings
  m->layers_.resize(c.n_layer);
  for (uint32_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& L = m->layers_[i];
    L.attn_norm = m->upload(*file, p + "attn_norm.weight", {E}, false);
    L.wqkv = m->upload_stacked(*file, {p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"},
                               {{E, Q}, {E, KV}, {E, KV}}, {&L.wq, &L.wk, &L.wv});
    L.wo = m->upload(*file, p + "attn_output.weight", {Q, E}, true);
    if (c.qk_norm) {
      L.attn_q_norm = m->upload(*file, p + "attn_q_norm.weight", {c.head_dim}, false);
      L.attn_k_norm = m->upload(*file, p + "attn_k_norm.weight", {c.head_dim}, false);
    }
    if (c.post_norms) L.post_attn_norm = m->upload(*file, p + "post_attention_norm.weight", {E}, false);
    if (c.qkv_bias) {
      L.bq = m->upload(*file, p + "attn_q.bias", {Q}, false);
      L.bk = m->upload(*file, p + "attn_k.bias", {KV}, false);
      L.bv = m->upload(*file, p + "attn_v.bias", {KV}, false);
    }
    L.ffn_norm = m->upload(*file, p + "ffn_norm.weight", {E}, false);
    L.w_gate_up = m->upload_stacked(*file, {p + "ffn_gate.weight", p + "ffn_up.weight"}, {{E, F}, {E, F}},
                                    {&L.w_gate, &L.w_up});
    L.w_down = m->upload(*file, p + "ffn_down.weight", {F, E}, true);
    if (c.post_norms) L.post_ffn_norm = m->upload(*file, p + "post_ffw_norm.weight", {E}, false);
    const ops::WeightView wq_beacon = m->upload(*file, p + "attn_q_beacon.weight", {E, Q}, true, /*optional=*/true);
    if (wq_beacon.rows) {  // a beacon model: q, k, v (and biases) come together; o is optional
      BeaconProjections& b = L.beacon.emplace();
      b.wq = wq_beacon;
      b.wk = m->upload(*file, p + "attn_k_beacon.weight", {E, KV}, true);
      b.wv = m->upload(*file, p + "attn_v_beacon.weight", {E, KV}, true);
      b.wo = m->upload(*file, p + "attn_output_beacon.weight", {Q, E}, true, /*optional=*/true);
      if (c.qkv_bias) {
        b.bq = m->upload(*file, p + "attn_q_beacon.bias", {Q}, false);
        b.bk = m->upload(*file, p + "attn_k_beacon.bias", {KV}, false);
        b.bv = m->upload(*file, p + "attn_v_beacon.bias", {KV}, false);
      }
    }
    check(L.beacon.has_value() == m->layers_[0].beacon.has_value(), Status::BadModel,
          "beacon projections must be present in every layer or in none (layer " + std::to_string(i) + ")");
  }
  m->beacon_embd_ = m->upload(*file, "beacon_embd.weight", {E}, false, /*optional=*/true);
  if (const GgufTensorInfo* rf = file->tensor("rope_freqs.weight")) {
    check(rf->type == GgmlType::F32 && rf->n_elements == c.n_rot / 2, Status::BadModel,
          "rope_freqs.weight must be f32 with n_rot/2 elements");
    m->rope_freq_factors_.resize(rf->n_elements);
    std::memcpy(m->rope_freq_factors_.data(), file->tensor_data(*rf), rf->n_elements * sizeof(float));
    limits::check_freq_factors(m->rope_freq_factors_, Status::BadModel, "rope_freqs.weight");
  }
  m->rope_freqs_ = tern::rope_freqs(int(c.n_rot), c.rope_base, c.rope_scaling, &m->rope_attn_factor_);
  for (size_t i = 0; i < m->rope_freq_factors_.size(); ++i) m->rope_freqs_[i] /= m->rope_freq_factors_[i];
  if (c.has_sliding_layers()) m->rope_freqs_swa_ = tern::rope_freqs(int(c.n_rot), c.rope_base_swa, {});
  limits::check_rope_table(m->rope_freqs_, m->rope_attn_factor_, Status::BadModel, "the model's RoPE settings");
  if (m->progress_) m->progress_(1.f);
  return m;  // the mapped file is released here: weights live on the device only
}

}  // namespace tern

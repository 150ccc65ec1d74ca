#include "quant/convert.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "platform/file_io.h"
#include "quant/finite_check.h"
#include "quant/gguf_writer.h"
#include "quant/quantize.h"

namespace tern::quant {
namespace {

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer
// in between, get the larger type in the *_K_M mixes.
bool use_more_bits(int64_t i_layer, int64_t n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

int64_t layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return std::stoll(name.substr(4, name.find('.', 4) - 4));
}

std::string dims_str(const std::vector<uint64_t>& d) {
  std::string s;
  for (size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return s;
}

// ||dequant(q) - w|| / ||w|| (the absolute norm for an all-zero tensor).
double rms_rel_error(const std::vector<float>& w, const std::vector<float>& back) {
  double num = 0, den = 0;
  for (size_t k = 0; k < w.size(); ++k) {
    const double d = double(back[k]) - w[k];
    num += d * d;
    den += double(w[k]) * w[k];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace

uint32_t ftype_of(GgmlType target) {
  switch (target) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q4_K: return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
    default: throw Error(Status::InvalidArgument, "unsupported target type " + std::string(ggml_type_name(target)));
  }
}

GgmlType choose_tensor_type(const TensorSpec& t, const HyperParams& hp, const ConvertOptions& opts, std::string* why) {
  std::string reason;
  GgmlType type = opts.target;
  if (t.dims.size() < 2) {
    type = GgmlType::F32;  // norms and biases
  } else if (opts.target == GgmlType::Q4_K) {
    const int64_t layer = layer_of(t.name);
    if (t.name == "output.weight" || (hp.tied_output && t.name == "token_embd.weight")) {
      type = GgmlType::Q6_K;
      reason = "Q4_K_M: output head";
    } else if (t.name.ends_with("attn_v.weight") && use_more_bits(layer, hp.n_layer)) {
      type = GgmlType::Q6_K;
      reason = "Q4_K_M: more bits for this layer's attn_v";
    } else if (t.name.ends_with("ffn_down.weight") && use_more_bits(layer, hp.n_layer)) {
      type = GgmlType::Q6_K;
      reason = "Q4_K_M: more bits for this layer's ffn_down";
    }
  }
  const uint64_t row = t.dims[0];
  if (row % ggml_traits(type).block_elems != 0) {
    const GgmlType wanted = type;
    if (type == GgmlType::Q4_K) type = opts.k_fallback;
    else if (type == GgmlType::Q6_K) type = GgmlType::Q8_0;
    if (row % ggml_traits(type).block_elems != 0) type = GgmlType::F16;
    reason = "row length " + std::to_string(row) + " is not a multiple of " + std::string(ggml_type_name(wanted)) +
             "'s block size " + std::to_string(ggml_traits(wanted).block_elems) + ": fallback";
  }
  if (why) *why = reason;
  return type;
}

std::vector<TensorReport> convert_to_gguf(const ModelSource& src, const std::filesystem::path& out_path,
                                          const ConvertOptions& opts, std::ostream& log) {
  GgufWriter g;
  src.write_metadata(g);
  g.set_u32("general.file_type", ftype_of(opts.target));
  g.set_u32("general.quantization_version", 2);

  std::vector<TensorReport> reports;
  for (const auto& t : src.tensors) {
    TensorReport r{t.name, t.dims, GgmlType::F32, "", 0.0};
    r.type = choose_tensor_type(t, src.hparams, opts, &r.why);
    g.add_tensor_info(t.name, r.type, t.dims);
    reports.push_back(r);
  }
  g.write_header(platform::path_to_utf8(out_path));
  std::vector<uint8_t> buf;
  std::vector<float> back;
  for (size_t i = 0; i < src.tensors.size(); ++i) {
    const auto& t = src.tensors[i];
    auto& r = reports[i];
    if (opts.progress) {
      log << "[" << (i + 1) << "/" << src.tensors.size() << "] " << t.name << " (" << dims_str(t.dims) << ") -> "
          << ggml_type_name(r.type) << "..." << std::flush;
    }
    const std::vector<float> w = src.load(i);
    check(w.size() == t.elements(), Status::Internal, t.name + ": source returned the wrong element count");
    // NaN or infinite weights would quantise to garbage (and report an error of 0).
    if (const auto bad = first_non_finite(GgmlType::F32, reinterpret_cast<const uint8_t*>(w.data()), w.size()))
      throw Error(Status::BadModel, t.name + ": element " + std::to_string(*bad) + " is " + std::to_string(w[*bad]) +
                                        ": the source holds NaN or infinite weights");
    buf.resize(ggml_row_bytes(r.type, t.dims[0]) * (w.size() / t.dims[0]));
    quantize_row(r.type, w.data(), buf.data(), static_cast<int64_t>(w.size()));
    back.resize(w.size());
    dequantize_row(r.type, buf.data(), back.data(), static_cast<int64_t>(back.size()));
    r.rms_rel_error = rms_rel_error(w, back);
    g.write_tensor_data(t.name, buf.data(), buf.size());
    if (opts.progress) {
      char e[32];
      std::snprintf(e, sizeof e, "%.3e", r.rms_rel_error);
      log << " rms rel error " << e << (r.why.empty() ? "" : " (" + r.why + ")") << "\n";
    }
  }
  g.finish();
  return reports;
}

}  // namespace tern::quant

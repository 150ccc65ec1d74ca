// Converts a ModelSource to a GGUF v3 file tensor by tensor, choosing each tensor's type from
// the requested target the way llama.cpp's quantiser does.
#pragma once
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "quant/ggml_types.h"
#include "quant/model_source.h"

namespace tern::quant {

struct ConvertOptions {
  // F32, F16, Q8_0, Q4_0, or Q4_K (meaning llama.cpp's Q4_K_M mix).
  GgmlType target = GgmlType::F16;
  // Used for Q4_K tensors whose rows are not a multiple of 256. llama.cpp uses Q5_0, which
  // Tern's GPU kernels do not run, so the default is Q8_0.
  GgmlType k_fallback = GgmlType::Q8_0;
  bool progress = true;  // print a line per tensor
};

struct TensorReport {
  std::string name;
  std::vector<uint64_t> dims;
  GgmlType type;
  std::string why;       // "", or why the type differs from the target
  double rms_rel_error;  // ||dequant(q) - w|| / ||w||
};

// The type tensor `t` gets for `opts` (pure function of names and shapes). why: set to the
// reason when the type is not the plain target.
GgmlType choose_tensor_type(const TensorSpec& t, const HyperParams& hp, const ConvertOptions& opts,
                            std::string* why = nullptr);

// general.file_type for a target (llama_ftype numbering).
uint32_t ftype_of(GgmlType target);

// Writes the GGUF; returns one report per tensor. Logs progress to `log`.
std::vector<TensorReport> convert_to_gguf(const ModelSource& src, const std::filesystem::path& out,
                                          const ConvertOptions& opts, std::ostream& log);

}  // namespace tern::quant

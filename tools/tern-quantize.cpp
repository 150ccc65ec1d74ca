// tern-quantize: converts llama2.c checkpoints, Hugging Face directories, GGUF files or synthetic
// models into GGUF v3 files with F32/F16/Q8_0/Q4_0/Q4_K_M weights, reporting each tensor's error.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "cli/cli_parse.h"
#include "common/error.h"
#include "platform/console.h"
#include "platform/file_io.h"
#include "quant/convert.h"
#include "quant/gguf_reader.h"
#include "quant/gguf_types.h"
#include "model/model_config.h"
#include "quant/model_source.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace {

enum class InputKind { Llama2c, Hf, Gguf, Synthetic };

// A positional INPUT: a directory is a Hugging Face model, a file starting with the GGUF magic a
// GGUF model, anything else a llama2.c checkpoint.
InputKind detect_input(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p = tern::platform::path_from_utf8(path);
  if (fs::is_directory(p, ec)) return InputKind::Hf;
  std::ifstream f(p, std::ios::binary);
  tern::check(f.good(), tern::Status::Io, "cannot open input '" + path + "'");
  uint32_t magic = 0;
  f.read(reinterpret_cast<char*>(&magic), sizeof magic);
  return f.gcount() == sizeof magic && magic == tern::k_gguf_magic ? InputKind::Gguf : InputKind::Llama2c;
}

// Reads a written file back through the checks Tern's loader makes before it uses a device
// (hyper-parameters and their ranges, the vocabulary and its special ids), so tern-quantize
// never leaves a file behind that Tern would refuse.
void check_loadable(const std::string& path) {
  const auto file = tern::GgufFile::open(path);
  tern::read_model_config(*file);
  tern::Tokenizer::from_vocab(tern::vocab_from_gguf(*file));
}

void usage() {
  std::printf(
      "usage: tern-quantize INPUT [--tokenizer FILE] -o OUT.gguf [--type TYPE] [options]\n"
      "\n"
      "INPUT is recognised by what it is:\n"
      "  a directory                   Hugging Face model (config.json, *.safetensors,\n"
      "                                tokenizer.model or tokenizer.json); llama, qwen2, qwen3, gemma3\n"
      "  a file starting with 'GGUF'   GGUF model: every tensor is dequantised and re-quantised,\n"
      "                                the metadata copied (general.file_type updated)\n"
      "  any other file                llama2.c version-0 checkpoint; needs --tokenizer TOK.bin\n"
      "or named explicitly (instead of INPUT):\n"
      "  --llama2c FILE.bin --tokenizer TOK.bin\n"
      "  --hf DIR\n"
      "  --gguf FILE\n"
      "  --synthetic NAME [--tokenizer SP.model|tokenizer.json]  random N(0, 0.02) weights at real\n"
      "                                shapes; NAME is tinyllama-1.1b, llama-2-7b, qwen2.5-0.5b, smollm-135m,\n"
      "                                qwen3-0.6b, qwen3-1.7b, gemma3-1b, gemma3-4b\n"
      "\n"
      "types (--type, default f16):\n"
      "  f32, f16   2-D weights in that float type\n"
      "  q8_0       8-bit blocks of 32\n"
      "  q4_0       4-bit blocks of 32\n"
      "  q4_k       llama.cpp's Q4_K_M mix: Q4_K, with Q6_K for the output head and for half of\n"
      "             attn_v / ffn_down\n"
      "  Norms and biases stay F32. Rows that do not fill whole blocks fall back (Q4_K -> the\n"
      "  --k-fallback type, Q6_K -> Q8_0, then F16), as llama.cpp does.\n"
      "\n"
      "options:\n"
      "  -o, --output FILE     output GGUF path (required)\n"
      "  --k-fallback TYPE     q8_0 (default), q5_0 (llama.cpp's choice; not run by Tern's GPU) or q4_0\n"
      "  --seed N              seed for --synthetic (default 1)\n"
      "  --quiet               no per-tensor lines\n"
      "  -h, --help            this text\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tern;
  using platform::path_from_utf8;
  platform::init_console();
  const std::vector<std::string> args = platform::utf8_arguments(argc, argv);
  argc = int(args.size());
  std::string positional, llama2c, hf, synthetic, gguf, tokenizer, output, type = "f16", fallback = "q8_0";
  uint64_t seed = 1;
  bool quiet = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tern-quantize: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "--llama2c") llama2c = value();
    else if (a == "--hf") hf = value();
    else if (a == "--synthetic") synthetic = value();
    else if (a == "--gguf") gguf = value();
    else if (a == "--tokenizer") tokenizer = value();
    else if (a == "-o" || a == "--output") output = value();
    else if (a == "--type") type = value();
    else if (a == "--k-fallback") fallback = value();
    else if (a == "--seed") {
      try {
        seed = cli::u64_option(a, value());
      } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "tern-quantize: %s\n", e.what());
        return 2;
      }
    }
    else if (a == "--quiet") quiet = true;
    else if (a.empty() || a[0] != '-') {
      if (!positional.empty()) {
        std::fprintf(stderr, "tern-quantize: more than one INPUT ('%s' and '%s')\n", positional.c_str(), a.c_str());
        return 2;
      }
      positional = a;
    } else {
      std::fprintf(stderr, "tern-quantize: unknown argument '%s' (see --help)\n", a.c_str());
      return 2;
    }
  }
  const int inputs = !positional.empty() + !llama2c.empty() + !hf.empty() + !synthetic.empty() + !gguf.empty();
  if (inputs != 1 || output.empty()) {
    std::fprintf(stderr, "tern-quantize: need exactly one input and -o OUT.gguf (see --help)\n");
    return 2;
  }
  try {
    quant::ConvertOptions opts;
    const auto t = ggml_type_from_name(type);
    check(t && (*t == GgmlType::F32 || *t == GgmlType::F16 || *t == GgmlType::Q8_0 || *t == GgmlType::Q4_0 ||
                *t == GgmlType::Q4_K),
          Status::InvalidArgument, "unknown --type '" + type + "' (f32, f16, q8_0, q4_0, q4_k)");
    opts.target = *t;
    const auto fb = ggml_type_from_name(fallback);
    check(fb && (*fb == GgmlType::Q8_0 || *fb == GgmlType::Q5_0 || *fb == GgmlType::Q4_0), Status::InvalidArgument,
          "unknown --k-fallback '" + fallback + "' (q8_0, q5_0, q4_0)");
    opts.k_fallback = *fb;
    opts.progress = !quiet;

    InputKind kind = InputKind::Synthetic;
    std::string input = synthetic;
    if (!positional.empty()) kind = detect_input(input = positional);
    else if (!llama2c.empty()) kind = InputKind::Llama2c, input = llama2c;
    else if (!hf.empty()) kind = InputKind::Hf, input = hf;
    else if (!gguf.empty()) kind = InputKind::Gguf, input = gguf;
    check(tokenizer.empty() || kind == InputKind::Llama2c || kind == InputKind::Synthetic, Status::InvalidArgument,
          "--tokenizer is only for llama2.c checkpoints and --synthetic: '" + input +
              "' brings its own vocabulary");

    std::unique_ptr<quant::ModelSource> src;
    switch (kind) {
      case InputKind::Llama2c:
        check(!tokenizer.empty(), Status::InvalidArgument,
              "'" + input + "' is neither a directory nor a GGUF file, so it is read as a llama2.c checkpoint, "
              "which needs its vocabulary: add --tokenizer TOKENIZER.bin");
        src = quant::open_llama2c(path_from_utf8(input), path_from_utf8(tokenizer));
        break;
      case InputKind::Hf: src = quant::open_hf_dir(path_from_utf8(input)); break;
      case InputKind::Gguf: src = quant::open_gguf(path_from_utf8(input)); break;
      case InputKind::Synthetic: src = quant::make_synthetic(input, path_from_utf8(tokenizer), seed); break;
    }
    const auto& hp = src->hparams;
    std::printf("model: %s, arch %s, %u layers, embd %u, ff %u, heads %u/%u, vocab %u, ctx %u%s\n", hp.name.c_str(),
                hp.arch.c_str(), hp.n_layer, hp.n_embd, hp.n_ff, hp.n_head, hp.n_head_kv, hp.n_vocab, hp.n_ctx,
                hp.tied_output ? ", tied output" : "");
    // Written beside the output and renamed over it once it checks out: a failed or refused
    // conversion leaves no file (and an older output as it was).
    const std::string tmp = output + ".tmp." + std::to_string(platform::process_id());
    std::vector<quant::TensorReport> reports;
    try {
      reports = quant::convert_to_gguf(*src, path_from_utf8(tmp), opts, std::cout);
      check_loadable(tmp);
      std::filesystem::rename(path_from_utf8(tmp), path_from_utf8(output));
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove(path_from_utf8(tmp), ec);
      throw;
    }
    uint64_t fallbacks = 0;
    double worst = 0;
    for (const auto& r : reports) {
      if (r.why.find("fallback") != std::string::npos) ++fallbacks;
      worst = std::max(worst, r.rms_rel_error);
    }
    std::printf("wrote %s: %zu tensors, %llu fallbacks, worst rms rel error %.3e\n", output.c_str(), reports.size(),
                static_cast<unsigned long long>(fallbacks), worst);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "tern-quantize: %s: %s\n", status_name(e.status()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern-quantize: %s\n", e.what());
    return 1;
  }
}

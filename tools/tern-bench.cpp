// tern-bench: model-level speed (prompt processing, decode at context depths), memory, the
// copy-bandwidth roofline with decode efficiency, per-op GPU time of a decode step, and
// op-level kernel timings (--ops). Prints Markdown tables; --json writes everything.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <tuple>
#include <utility>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/common.h"
#include "bench/model_bench.h"
#include "bench/op_bench.h"
#include "api/c_params.h"
#include "cli/kv_spec.h"
#include "cli/cli_parse.h"
#include "common/error.h"
#include "gpu/device.h"

namespace {

void usage() {
  std::printf(
      "usage: tern-bench [-m MODEL.gguf] [--ops] [options]\n"
      "\n"
      "model benchmark (-m):\n"
      "  -m, --model FILE     GGUF model to benchmark\n"
      "  -p, --prompt LIST    prompt-processing sizes in tokens (default 128,512)\n"
      "  -d, --depth LIST     decode context depths (default 0,1024,4096,16384); the context is\n"
      "                       filled to each depth (--depth-fill), then -n decode steps are timed\n"
      "  --depth-fill HOW     prefill (default: random tokens through the model, the state saved\n"
      "                       and restored per repeat) or synthetic (the KV policy's own steps\n"
      "                       committed and the cache rows filled with random values on the GPU,\n"
      "                       no forward pass: seconds instead of hours at depth on a CPU driver;\n"
      "                       decode costs the same, the cached values are random)\n"
      "  -n, --n-gen N        timed decode steps per repeat (default 32)\n"
      "  -c, --ctx N          context length (default: the model's training length); depths\n"
      "                       that do not fit are skipped with a note\n"
      "  -b, --batch N        prefill batch (default 512)\n"
      "  --kv SPEC            KV policy (default dense): %s;\n"
      "                       window policies decode at depths past the cache (N default: -c or the\n"
      "                       model's length)\n"
      "  --kv-budget BYTES    KV cache memory budget (suffixes K, M, G)\n"
      "  --kv-type TYPE       KV cache elements: f16 (default), f32 or q8_0\n"
      "  --bw-mib N           size of the copy-bandwidth buffers (default 256)\n"
      "  --top N              ops listed in the per-op decode profile (default 8)\n"
      "  --ab-fusion          decode A/B of the forward pass's fusions (TERN_FUSE): timed steps\n"
      "                       alternate fused / unfused in one process; both reported per depth\n"
      "  --ab-norm-fusion     the same for the RMSNorm-into-product fusion alone (TERN_FUSE_NORM),\n"
      "                       the other fusions on\n"
      "  --ab-gpu-sampling MODE  decode A/B of sampling on the GPU (TERN_GPU_SAMPLING): each timed\n"
      "                       step evals and samples (MODE greedy, or a top-k K with the default\n"
      "                       temperature, top-p and min-p), feeding the token; every other step\n"
      "                       selects on the GPU and reads back only the selection\n"
      "  --ab-kv SPEC         decode A/B of two KV policies (with --depth-fill synthetic): --kv's\n"
      "                       and SPEC's, each in its own context on the model, the timed steps\n"
      "                       alternating between them; per-op profiles of both\n"
      "\n"
      "op benchmark:\n"
      "  --ops                matvec / matmul per weight type, decode attention, sampling selections\n"
      "  --op-groups LIST     only these of matvec,matmul,attention,selection (default all), or\n"
      "                       kernels: the variants below of one product, run interleaved\n"
      "  --kernels LIST       kernel variants (default auto,gpu,lanes), each KERNEL[:OPT...][+fused|+ops]:\n"
      "                       KERNEL auto, gpu, lanes or q8act; OPT RxC (lanes tile), rows=N, wg=N,\n"
      "                       words, f16math, shared; +fused the FFN down product with SwiGLU and\n"
      "                       accumulate fused, +ops the separate ops it replaces\n"
      "  --kernel-type T      weight type of the kernels group (default q4_0)\n"
      "  --kernel-shape RxC   weight rows x columns (default 4096x14336; --quick 256x512)\n"
      "  --kernel-batch N     activation rows (default 1: matrix-vector)\n"
      "\n"
      "common:\n"
      "  -r, --repeats N      repeats per measurement (default 3): median and min-max reported\n"
      "  --quick              tiny sizes for a smoke run (pp 16,64; depths 0,64; 4 steps; 2 repeats;\n"
      "                       small op shapes); explicit options still win\n"
      "  --json FILE          write all results as JSON\n"
      "  --device SEL         Vulkan device index or name substring\n"
      "  --seed N             random tokens / data seed (default 1)\n"
      "  --validate           run under the Vulkan validation layer; any message fails the run\n"
      "  -h, --help           this text\n",
      tern::tools::kv_spec_grammar().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tern;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // tables appear as they are measured, also in logs
  bench::ModelBenchOptions mo;
  bench::OpBenchOptions oo;
  std::optional<std::vector<uint32_t>> prompts, depths;
  std::optional<uint32_t> n_gen, repeats;
  std::optional<uint64_t> bw_mib;
  std::string json_path, device;
  tern::tools::KvSpec kv_spec = tern::tools::parse_kv_spec("dense");
  std::optional<tern::tools::KvSpec> ab_kv_spec;
  uint64_t kv_budget = 0;
  int32_t kv_type = TERN_KV_TYPE_F16;
  std::optional<uint32_t> n_ctx;
  bool ops = false, quick = false, validate = false;
  std::optional<std::pair<uint32_t, uint32_t>> kernel_shape;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw Error(Status::InvalidArgument, a + " needs a value");
        return argv[++i];
      };
      if (a == "-h" || a == "--help") {
        usage();
        return 0;
      } else if (a == "-m" || a == "--model") mo.model_path = value();
      else if (a == "-p" || a == "--prompt") prompts = cli::uint_list_option(a, value(), 0, INT32_MAX);  // 0: no prompt row
      else if (a == "-d" || a == "--depth") depths = cli::uint_list_option(a, value(), 0, INT32_MAX);
      else if (a == "--depth-fill") {
        const std::string how = value();
        if (how != "prefill" && how != "synthetic")
          throw Error(Status::InvalidArgument, "--depth-fill: '" + how + "' is not prefill or synthetic");
        mo.depth_fill = how == "synthetic" ? bench::DepthFill::Synthetic : bench::DepthFill::Prefill;
      }
      else if (a == "-n" || a == "--n-gen") n_gen = uint32_t(cli::int_option(a, value(), 1, INT32_MAX));
      else if (a == "-r" || a == "--repeats") repeats = uint32_t(cli::int_option(a, value(), 1, INT32_MAX));
      else if (a == "-c" || a == "--ctx") n_ctx = uint32_t(cli::int_option(a, value(), 0, INT32_MAX));
      else if (a == "-b" || a == "--batch") mo.n_batch = uint32_t(cli::int_option(a, value(), 1, INT32_MAX));
      else if (a == "--kv") kv_spec = tern::tools::parse_kv_spec(value());
      else if (a == "--ab-kv") ab_kv_spec = tern::tools::parse_kv_spec(value());
      else if (a == "--kv-budget") kv_budget = cli::byte_size_option(a, value());
      else if (a == "--kv-type") kv_type = tern::tools::parse_kv_type(value());
      else if (a == "--bw-mib") bw_mib = uint64_t(cli::int_option(a, value(), 1, 1 << 20));
      else if (a == "--top") mo.top_ops = uint32_t(cli::int_option(a, value(), 0, INT32_MAX));
      else if (a == "--ab-fusion") mo.ab_fusion = true;
      else if (a == "--ab-norm-fusion") mo.ab_norm_fusion = true;
      else if (a == "--ab-gpu-sampling") {
        const std::string mode = value();
        mo.ab_gpu_sampling = true;
        mo.ab_sampling_top_k = mode == "greedy" ? 0 : uint32_t(cli::int_option(a, mode, 1, INT32_MAX));
        if (mo.ab_sampling_top_k == 1) mo.ab_sampling_top_k = 0;
      }
      else if (a == "--ops") ops = true;
      else if (a == "--op-groups") {
        oo.groups.clear();
        const std::string list = value();
        for (size_t at = 0; at <= list.size();) {
          const size_t comma = std::min(list.find(',', at), list.size());
          const std::string g = list.substr(at, comma - at);
          if (g != "matvec" && g != "matmul" && g != "attention" && g != "selection" && g != "kernels")
            throw Error(Status::InvalidArgument, "--op-groups: unknown group '" + g + "'");
          oo.groups.push_back(g);
          at = comma + 1;
        }
      }
      else if (a == "--kernels") {
        oo.kernels.variants = cli::split_commas(value());
        bench::check_kernel_variants(oo.kernels.variants);
      } else if (a == "--kernel-type") {
        const std::string t = value();
        const auto type = ggml_type_from_name(t);
        if (!type || !ggml_type_runs_on_gpu(*type))
          throw Error(Status::InvalidArgument, "--kernel-type: '" + t + "' is not a weight type (f32, f16, q8_0, q4_0, q4_k, q6_k)");
        oo.kernels.type = *type;
      } else if (a == "--kernel-shape") {
        const std::string v = value();
        const size_t x = v.find('x');
        if (x == std::string::npos) throw Error(Status::InvalidArgument, "--kernel-shape: '" + v + "' is not ROWSxCOLS");
        kernel_shape = {uint32_t(cli::int_option(a, v.substr(0, x), 1, 1 << 20)),
                        uint32_t(cli::int_option(a, v.substr(x + 1), 1, 1 << 20))};
      } else if (a == "--kernel-batch") oo.kernels.batch = uint32_t(cli::int_option(a, value(), 1, 4096));
      else if (a == "--quick") quick = true;
      else if (a == "--validate") validate = true;
      else if (a == "--json") json_path = value();
      else if (a == "--device") device = value();
      else if (a == "--seed") mo.seed = oo.seed = cli::u64_option(a, value());
      else throw Error(Status::InvalidArgument, "unknown argument '" + a + "' (see --help)");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern-bench: %s\n", e.what());
    return 2;
  }
  {  // the context's KV cache: --ctx, then the spec (its N wins), then the budget
    tern_context_params cp = tern_context_default_params();
    if (n_ctx) cp.n_ctx = int32_t(*n_ctx);
    tern::tools::apply_kv_spec(kv_spec, cp);
    cp.kv_budget_bytes = kv_budget;
    cp.kv_type = kv_type;
    static const tern::BeaconSettings no_file;  // the context applies the model file's own (api/context.cpp)
    mo.kv = kv_request_from(cp, no_file);
    mo.kv_type = kv_type_from(cp);
    if (ab_kv_spec) {  // the B policy of --ab-kv: the same context length, budget and type
      tern_context_params cpb = tern_context_default_params();
      if (n_ctx) cpb.n_ctx = int32_t(*n_ctx);
      tern::tools::apply_kv_spec(*ab_kv_spec, cpb);
      cpb.kv_budget_bytes = kv_budget;
      cpb.kv_type = kv_type;
      mo.ab_kv = kv_request_from(cpb, no_file);
    }
  }
  if (int(mo.ab_fusion) + int(mo.ab_norm_fusion) + int(mo.ab_gpu_sampling) + int(mo.ab_kv.has_value()) > 1) {
    std::fprintf(stderr,
                 "tern-bench: --ab-fusion, --ab-norm-fusion, --ab-gpu-sampling and --ab-kv are separate runs\n");
    return 2;
  }
  if (mo.ab_kv && mo.depth_fill != bench::DepthFill::Synthetic) {
    std::fprintf(stderr, "tern-bench: --ab-kv needs --depth-fill synthetic (both contexts filled alike)\n");
    return 2;
  }
  if (mo.model_path.empty() && !ops) {
    std::fprintf(stderr, "tern-bench: nothing to do: give -m MODEL.gguf and/or --ops (see --help)\n");
    return 2;
  }
  mo.prompt_sizes = prompts.value_or(quick ? std::vector<uint32_t>{16, 64} : mo.prompt_sizes);
  mo.depths = depths.value_or(quick ? std::vector<uint32_t>{0, 64} : mo.depths);
  mo.n_gen = n_gen.value_or(quick ? 4 : mo.n_gen);
  mo.repeats = oo.repeats = std::max<uint32_t>(1, repeats.value_or(quick ? 2 : 3));
  mo.bandwidth_bytes = bw_mib.value_or(quick ? 16 : 256) << 20;
  oo.quick = quick;
  if (kernel_shape) std::tie(oo.kernels.rows, oo.kernels.cols) = *kernel_shape;
  else if (quick) std::tie(oo.kernels.rows, oo.kernels.cols) = std::pair<uint32_t, uint32_t>{256, 512};

  nlohmann::json out;
  try {
    out["tern_bench"] = {{"version", 1}, {"quick", quick}, {"kv_policy", kv_spec.label}};
    out["date"] = bench::utc_timestamp();
    out["load_average_1min_start"] = bench::load_average_1min();
    std::printf("tern-bench %s, load average %.2f%s\n", out["date"].get<std::string>().c_str(),
                bench::load_average_1min(), quick ? " (quick)" : "");
    auto device_json = [](const gpu::Device& d) {
      const auto& i = d.info();
      std::printf("device: %s (%s), driver %s %s, Vulkan %u.%u.%u\n", i.name.c_str(), gpu::device_type_name(i.type),
                  i.driver_name.c_str(), i.driver_info.c_str(), VK_API_VERSION_MAJOR(i.api_version),
                  VK_API_VERSION_MINOR(i.api_version), VK_API_VERSION_PATCH(i.api_version));
      return nlohmann::json{{"name", i.name},
                            {"type", gpu::device_type_name(i.type)},
                            {"driver", i.driver_name},
                            {"driver_info", i.driver_info},
                            {"api_version", std::to_string(VK_API_VERSION_MAJOR(i.api_version)) + "." +
                                                std::to_string(VK_API_VERSION_MINOR(i.api_version)) + "." +
                                                std::to_string(VK_API_VERSION_PATCH(i.api_version))},
                            {"timestamps", i.timestamps},
                            {"unified_memory", i.unified_memory}};
    };
    gpu::DeviceOptions dopt;
    dopt.selector = device;
    if (validate) dopt.validation = gpu::Validation::Required;
    std::shared_ptr<gpu::Device> dev = gpu::Device::create(dopt);
    out["device"] = device_json(*dev);
    mo.device = dev;
    if (!mo.model_path.empty()) out["model_bench"] = bench::run_model_bench(mo);
    if (ops) out["ops"] = bench::run_op_bench(*dev, oo);
    if (dev->validation_enabled()) {
      out["validation_messages"] = dev->validation_message_count();
      for (const auto& m : dev->validation_messages()) std::fprintf(stderr, "validation: %s\n", m.c_str());
      check(dev->validation_message_count() == 0, Status::Internal,
            std::to_string(dev->validation_message_count()) + " validation messages (printed above)");
    }
    out["host_peak_rss_bytes"] = bench::peak_rss_bytes();
    out["load_average_1min_end"] = bench::load_average_1min();
    std::printf("\nload average at the end %.2f\n", bench::load_average_1min());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tern-bench: %s\n", e.what());
    return 1;
  }
  if (!json_path.empty()) {
    std::ofstream f(json_path);
    f << out.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "tern-bench: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return 0;
}

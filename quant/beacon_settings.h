// Activation Beacon settings of a model file: what the released checkpoints' config.json says
// (beacon_window, beacon_stride, beacon_ratio, ...) as GGUF metadata keys `beacon.*`, read by
// tern-quantize from a Hugging Face folder and by the model loader (README, "Long context").
//
//   beacon.window          u32     raw tokens per chunk (Tern's sliding mode: raw window)
//   beacon.stride          u32     tokens between chunk starts (Tern implements stride == window)
//   beacon.ratios          u32[]   allowed compression ratios; the first is the default of "fixed-R"
//   beacon.ratio_mix       string  how a ratio is chosen: "adapt-N" (inference rule of the reference:
//                                  the smallest allowed ratio that fits the expected length + N),
//                                  "fixed-R", or the reference's training mixes ("step-random",
//                                  "instance-random", "sequence"), which Tern treats as adapt-1024
//   beacon.attention       string  "full-coverage" (TERN_KV_BEACON), "sliding" (Tern's
//                                  TERN_KV_BEACON_SLIDING); "step-expansion" and "segmentation"
//                                  are refused as Unsupported
//   beacon.position        string  "interleave"; "append" is refused as Unsupported
//   beacon.sink_size       u32     sinks kept before the beacons
//   beacon.param           string[] trained beacon projections: any of "q", "k", "v", "o"
//   beacon.embed_init      string  how the beacon embedding started ("eos", ...)
//   beacon.attend_prev     bool    beacons attend to earlier beacons (the reference's default true)
//   beacon.parallel_window u32     chunks processed in parallel in training (informational)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tern {
class GgufFile;
class GgufWriter;

struct BeaconSettings {
  bool present = false;  // the file says anything about beacons
  uint32_t window = 0, stride = 0;
  std::vector<uint32_t> ratios;
  std::string ratio_mix, attention, position;
  uint32_t sink_size = 0;
  std::vector<std::string> params;
  std::string embed_init;
  bool attend_prev = true;
  uint32_t parallel_window = 1;

  // "" when Tern implements these settings, else the reason (naming the mode).
  std::string unsupported() const;
  // The ratio a context uses by default: R of "fixed-R", else 0 (the adapt rule decides).
  uint32_t fixed_ratio() const;
  // Extra tokens of the adapt rule: N of "adapt-N" (1024 for the training mixes).
  uint32_t adapt_margin() const;
  // One line for tools: "full-coverage, interleave, window 2048, stride 2048, ratios 2,4,8, ...".
  std::string describe() const;
};

// From GGUF metadata (present == false when there is no beacon.* key). Error(BadModel) naming
// the key for a value of the wrong type or an inconsistent window/stride/ratio.
BeaconSettings read_beacon_settings(const GgufFile& f);
void write_beacon_settings(GgufWriter& g, const BeaconSettings& s);
// From a Hugging Face config.json (present == false without beacon_* keys). Error(BadModel) for
// malformed values.
BeaconSettings beacon_settings_from_hf_config(const nlohmann::json& cfg);

}  // namespace tern

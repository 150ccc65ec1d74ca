// Shared pieces of tern-bench: summary statistics over repeats, timers, host memory, and
// GPU-timed submissions of a recorded command buffer.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpu/recorder.h"

namespace tern::bench {

// Median and range of repeated measurements.
struct Spread {
  double median = 0, min = 0, max = 0;
  uint32_t n = 0;
};
Spread spread(std::vector<double> values);
// The same spread after applying f to each value (f monotone, e.g. ms -> tokens/s).
Spread spread_of(const std::vector<double>& values, const std::function<double(double)>& f);
nlohmann::json to_json(const Spread& s);
// Every statistic multiplied by k (unit changes).
Spread scaled(const Spread& s, double k);
// "12.3 ± [11.9, 12.8]"-style cell: median (min-max).
std::string cell(const Spread& s, int decimals = 2);

double now_ms();
// User + system CPU time of the whole process (every thread) in ms. On a CPU driver such as
// lavapipe the device's work runs on this process's threads, so this measures the work itself,
// and it is steadier than wall time when other jobs share the cores.
double process_cpu_ms();
uint64_t peak_rss_bytes();  // getrusage(RUSAGE_SELF).ru_maxrss
uint64_t current_rss_bytes();  // resident now (/proc/self/statm); 0 where unavailable
double load_average_1min();
std::string utc_timestamp();
std::string mib(uint64_t bytes);

// Records `record` into one submission and runs it once. Returns its GPU time in ms: from the
// first to the last dispatch timestamp when the recorder profiles, the wall-clock time of the
// submit otherwise.
double time_one_submission(gpu::Recorder& rec, const std::function<void(gpu::Recorder&)>& record);

// Records `record` into one submission, runs it once as warm-up (pipeline creation) and then
// `repeats` times. Returns the time_one_submission of each run.
std::vector<double> time_submissions(gpu::Recorder& rec, uint32_t repeats,
                                     const std::function<void(gpu::Recorder&)>& record);

}  // namespace tern::bench

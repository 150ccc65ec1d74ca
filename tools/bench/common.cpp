#include "bench/common.h"

#include <unistd.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace tern::bench {

Spread spread(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.n = uint32_t(v.size());
  s.min = v.front();
  s.max = v.back();
  const size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  return s;
}

Spread spread_of(const std::vector<double>& values, const std::function<double(double)>& f) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(f(v));
  return spread(std::move(out));
}

nlohmann::json to_json(const Spread& s) {
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

Spread scaled(const Spread& s, double k) { return {s.median * k, s.min * k, s.max * k, s.n}; }

std::string cell(const Spread& s, int decimals) {
  char buf[96];
  if (s.n <= 1) std::snprintf(buf, sizeof buf, "%.*f", decimals, s.median);
  else std::snprintf(buf, sizeof buf, "%.*f (%.*f-%.*f)", decimals, s.median, decimals, s.min, decimals, s.max);
  return buf;
}

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

double process_cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-3;
}

uint64_t current_rss_bytes() {
  unsigned long long size = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  const int got = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return got == 2 ? uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE)) : 0;
}

uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return uint64_t(u.ru_maxrss) * 1024;  // KiB on Linux
}

double load_average_1min() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / 1048576.0);
  return buf;
}

double time_one_submission(gpu::Recorder& rec, const std::function<void(gpu::Recorder&)>& record) {
  rec.begin();
  record(rec);
  const double t0 = now_ms();
  rec.submit_and_wait();
  const double wall = now_ms() - t0;
  double gpu = 0;
  for (const auto& t : rec.timings()) gpu += t.ms;
  return rec.timings().empty() ? wall : gpu;
}

std::vector<double> time_submissions(gpu::Recorder& rec, uint32_t repeats,
                                     const std::function<void(gpu::Recorder&)>& record) {
  time_one_submission(rec, record);  // warm-up: pipeline creation
  std::vector<double> ms;
  for (uint32_t r = 0; r < repeats; ++r) ms.push_back(time_one_submission(rec, record));
  return ms;
}

}  // namespace tern::bench

// SPDX-License-Identifier: MIT
// Records known latencies through SessionRecorder over three seconds, closes the session and
// writes expected.json: per stage, the count, the number of intervals and the exact percentiles.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "daemon/engine/session_recorder.h"

using hft::engine::kStageCount;
using hft::engine::kStageNames;

namespace {

// Nearest rank, as HdrHistogram: the smallest value with at least percent% of samples at or below.
std::uint64_t exactPercentile(std::vector<std::uint64_t> v, double percent) {
  std::sort(v.begin(), v.end());
  const auto milli = static_cast<std::size_t>(percent * 1000.0 + 0.5); // integers: no fp ulp
  const std::size_t rank =
      std::clamp<std::size_t>((milli * v.size() + 99'999) / 100'000, 1, v.size());
  return v[rank - 1];
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SESSION_DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1];
    hft::engine::SessionRecorder recorder;
    recorder.open(dir);
    std::vector<std::vector<std::uint64_t>> values(kStageCount);
    std::vector<std::map<std::uint64_t, int>> seconds(kStageCount);
    const std::uint64_t base = 1'765'000'000'000'000'000ULL; // a whole second, CLOCK_REALTIME ns
    std::uint64_t seed = 88172645463325252ULL;
    auto next = [&seed] { // xorshift64: spread over ns to ms so many buckets are used
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      return seed;
    };
    for (std::uint64_t i = 0; i < 30'000; ++i) {
      // Seconds 0, 1 and 3 (2 is idle): 10'000 orders each, in order of sent time.
      const std::uint64_t second = i / 10'000 == 2 ? 3 : i / 10'000;
      const std::uint64_t rx = base + second * 1'000'000'000ULL + (i % 10'000) * 50'000ULL;
      hft::engine::LatencyRecord r{};
      r.clOrdId = i + 1;
      r.symbolId = 1;
      r.mdTimestamp = i % 7 == 0 ? 0 : rx - (1'000 + next() % 200'000); // some without md time
      r.rxNs = rx;
      r.decodedNs = r.rxNs + 50 + next() % 400;
      r.bookNs = r.decodedNs + 100 + next() % (i % 100 == 0 ? 3'000'000 : 5'000);
      r.decidedNs = r.bookNs + 1 + next() % 2'000;
      r.sentNs = r.decidedNs + 700 + next() % 30'000;
      if (r.sentNs >= base + (second + 1) * 1'000'000'000ULL)
        r.sentNs = base + (second + 1) * 1'000'000'000ULL - 1; // keep each order in its second
      // Kernel stamps on most orders (some have none, as when the kernel gives none).
      const bool kernel = i % 11 != 0;
      if (kernel) {
        r.kernelRxNs = r.rxNs - (500 + next() % 20'000);
        r.sendNs = r.sentNs - (100 + next() % 600);
        r.kernelTxNs = r.sendNs + 300 + next() % 40'000;
      }
      const std::uint64_t v[kStageCount] = {
          r.rxNs - r.mdTimestamp, r.decodedNs - r.rxNs,    r.bookNs - r.decodedNs,
          r.decidedNs - r.bookNs, r.sentNs - r.decidedNs,  r.sentNs - r.rxNs,
          r.rxNs - r.kernelRxNs,  r.kernelTxNs - r.sendNs, r.kernelTxNs - r.kernelRxNs};
      for (std::size_t s = 0; s < kStageCount; ++s) {
        if (s == 0 && r.mdTimestamp == 0)
          continue;
        if (s >= hft::engine::kFirstKernelStage && !kernel)
          continue;
        values[s].push_back(v[s]);
        ++seconds[s][second];
      }
      recorder.record(r);
      if (i % 1000 == 0)
        recorder.flush();
    }
    recorder.close("{}\n");
    std::ofstream out(dir + "/expected.json");
    out << "{\n";
    for (std::size_t s = 0; s < kStageCount; ++s) {
      const auto& v = values[s];
      out << "  \"" << kStageNames[s] << "\": {\"count\": " << v.size()
          << ", \"intervals\": " << seconds[s].size() << ", \"p50\": " << exactPercentile(v, 50)
          << ", \"p90\": " << exactPercentile(v, 90) << ", \"p99\": " << exactPercentile(v, 99)
          << ", \"p99_9\": " << exactPercentile(v, 99.9)
          << ", \"max\": " << *std::max_element(v.begin(), v.end()) << "}"
          << (s + 1 < kStageCount ? ",\n" : "\n");
    }
    out << "}\n";
    if (!out)
      throw std::runtime_error("cannot write " + dir + "/expected.json");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hlog_session_driver: %s\n", e.what());
    return 1;
  }
}

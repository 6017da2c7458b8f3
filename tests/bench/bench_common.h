// SPDX-License-Identifier: MIT
// Shared by the benchmarks: the machine, a cycle timer, run statistics and market data.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "libhft/core/cpu.h"
#include "libhft/core/histogram.h"
#include "libhft/protocol/codec.h"

namespace hft::bench {

inline std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      if (const auto colon = line.find(':'); colon != std::string::npos)
        return line.substr(colon + 2);
  return "unknown";
}

inline std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Printed first by every benchmark: figures mean little without the machine they came from.
inline void printMachine(const char* benchmark) {
  std::printf("== %s\n", benchmark);
  std::printf("machine: %s, %u logical cores, allowed CPUs %s, load average %s\n",
              cpuModel().c_str(), std::thread::hardware_concurrency(),
              core::formatCpuList(core::allowedCpus()).c_str(), loadAverage().c_str());
}

// The time-stamp counter (constant and non-stop on the machines we run on), fenced so the
// measured code neither starts before the first read nor finishes after the second.
inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Nanoseconds per tick, measured against steady_clock over `ms` milliseconds.
inline double nsPerTick(int ms = 100) {
  const auto c0 = std::chrono::steady_clock::now();
  const std::uint64_t t0 = ticks();
  while (std::chrono::steady_clock::now() - c0 < std::chrono::milliseconds(ms)) {
  }
  const auto c1 = std::chrono::steady_clock::now();
  const std::uint64_t t1 = ticks();
  return static_cast<double>(
             std::chrono::duration_cast<std::chrono::nanoseconds>(c1 - c0).count()) /
         static_cast<double>(t1 - t0);
}

// The cost of the two ticks() calls around nothing, in ticks (median): what every
// per-call figure below includes.
inline std::uint64_t timerOverhead() {
  core::Histogram h;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t a = ticks();
    const std::uint64_t b = ticks();
    h.record(b - a);
  }
  return h.percentile(50);
}

// The single-thread benchmarks' start: pin to the last CPU this process may use, measure the
// timer there and print what every figure includes.
struct TimerCalibration {
  double nsPerTick;
  double overheadNs; // one timing pair around nothing
};

inline TimerCalibration pinAndCalibrateTimer() {
  (void)core::pinThisThread(core::allowedCpus().back());
  TimerCalibration t{};
  t.nsPerTick = nsPerTick();
  t.overheadNs = static_cast<double>(timerOverhead()) * t.nsPerTick;
  std::printf("timer: %.3f ns/tick; %.1f ns per timing pair, included in the figures below\n",
              t.nsPerTick, t.overheadNs);
  return t;
}

inline double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One figure over repeated runs: median, min and max of the per-run values.
struct Spread {
  std::vector<double> runs;
  void add(double v) { runs.push_back(v); }
  void print(const char* name, const char* unit) const {
    std::printf("  %-28s median %10.1f %s   (min %.1f, max %.1f over %zu runs)\n", name,
                median(runs), unit, *std::min_element(runs.begin(), runs.end()),
                *std::max_element(runs.begin(), runs.end()), runs.size());
  }
};

// Pre-generated MARKET_DATA frames as exchange-sim sends them: `symbols` symbols in turn
// (ids 1..), a random-walk mid from 100.00 moving about one 0.01 tick per update, a spread of
// one or two ticks, `levels` levels a side, random quantities.
struct MarketDataSet {
  std::vector<std::byte> bytes;
  std::vector<std::size_t> offsets;
  std::vector<std::uint16_t> lengths;

  [[nodiscard]] std::size_t size() const { return offsets.size(); }
  [[nodiscard]] std::span<const std::byte> frame(std::size_t i) const {
    return {bytes.data() + offsets[i], lengths[i]};
  }
};

inline MarketDataSet makeMarketData(std::size_t count, std::uint32_t symbols = 4,
                                    unsigned levels = 5, std::uint64_t seed = 42) {
  constexpr std::int64_t kTick = 100;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> step(-1, 1);
  std::uniform_int_distribution<int> spreadTicks(1, 2);
  std::uniform_int_distribution<std::uint32_t> qty(1, 500);
  std::vector<std::int64_t> midTicks(symbols + 1, 10000);
  MarketDataSet set;
  std::vector<protocol::MdEntry> entries(2 * levels);
  std::uint64_t timestamp = 1'700'000'000'000'000'000ULL;
  for (std::size_t i = 0; i < count; ++i) {
    const auto symbol = static_cast<std::uint32_t>(i % symbols + 1);
    midTicks[symbol] += step(rng);
    const std::int64_t bid = midTicks[symbol] * kTick;
    const std::int64_t ask = bid + spreadTicks(rng) * kTick;
    for (unsigned l = 0; l < levels; ++l) {
      const auto level = static_cast<std::uint8_t>(l);
      entries[l] = {bid - l * kTick, qty(rng), 0, level, 0};
      entries[levels + l] = {ask + l * kTick, qty(rng), 1, level, 0};
    }
    timestamp += 2'500'000; // 4 symbols every 10 ms
    const std::size_t at = set.bytes.size();
    set.bytes.resize(at + protocol::marketDataSize(entries.size()));
    const std::size_t n = protocol::encodeMarketData(
        set.bytes.data() + at, static_cast<std::uint32_t>(i + 1), timestamp, symbol, entries);
    set.offsets.push_back(at);
    set.lengths.push_back(static_cast<std::uint16_t>(n));
  }
  return set;
}

// Keeps a value alive so the compiler cannot drop the work that made it.
template <typename T> inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

} // namespace hft::bench

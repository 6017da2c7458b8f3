// SPDX-License-Identifier: MIT
// Benchmark: SpscRing ping-pong between two threads on two cores, ns per one-way hop.
#include <atomic>
#include <cstdio>
#include <thread>

#include "libhft/core/spsc_ring.h"
#include "tests/bench/bench_common.h"

using namespace hft;

int main() {
  bench::printMachine("ring hop (SpscRing<uint64_t> ping-pong, one-way = round trip / 2)");
  constexpr int kRuns = 10;
  constexpr int kRoundTrips = 100'000;
  const std::vector<int> cpus = core::allowedCpus();
  if (cpus.size() < 2) {
    std::printf("needs two CPUs to pin the two threads on; this process may use %zu\n",
                cpus.size());
    return 0;
  }
  const int pingCpu = cpus[0];
  const int pongCpu = cpus[1];
  std::printf("ping on CPU %d, pong on CPU %d; both spin, so on a 2-core machine nothing else "
              "runs meanwhile and any other load shows up in the tail\n",
              pingCpu, pongCpu);
  const double nsPerTick = bench::nsPerTick();
  const std::uint64_t overhead = bench::timerOverhead();
  std::printf("timer: %.3f ns/tick, %.1f ns per timing pair (included below, halved)\n", nsPerTick,
              static_cast<double>(overhead) * nsPerTick);

  core::SpscRing<std::uint64_t> ping(1024);
  core::SpscRing<std::uint64_t> pong(1024);
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    (void)core::pinThisThread(pongCpu);
    std::uint64_t v;
    // Busy-wait on purpose: the hop we measure is the spinning consumer's.
    while (!stop.load(std::memory_order_relaxed)) {
      if (ping.tryPop(v))
        while (!pong.tryPush(v)) {
        }
    }
  });
  (void)core::pinThisThread(pingCpu);

  bench::Spread p50, p90, p99, p999;
  core::Histogram all;
  for (int run = -1; run < kRuns; ++run) { // run -1 warms up
    core::Histogram h;
    for (int i = 0; i < kRoundTrips; ++i) {
      std::uint64_t back = 0;
      const std::uint64_t t0 = bench::ticks();
      while (!ping.tryPush(static_cast<std::uint64_t>(i))) {
      }
      while (!pong.tryPop(back)) {
      }
      const std::uint64_t t1 = bench::ticks();
      bench::keep(back);
      h.record(t1 - t0);
    }
    if (run < 0)
      continue;
    const auto oneWay = [&](double pct) {
      return static_cast<double>(h.percentile(pct)) * nsPerTick / 2;
    };
    p50.add(oneWay(50));
    p90.add(oneWay(90));
    p99.add(oneWay(99));
    p999.add(oneWay(99.9));
    all.merge(h);
  }
  stop.store(true, std::memory_order_relaxed);
  echo.join();
  std::printf("results (%d runs x %d round trips):\n", kRuns, kRoundTrips);
  p50.print("one-way hop p50", "ns");
  p90.print("one-way hop p90", "ns");
  p99.print("one-way hop p99", "ns");
  p999.print("one-way hop p99.9", "ns");
  std::printf("  all runs: p50 %.1f ns, p99 %.1f ns, max %.1f ns\n",
              static_cast<double>(all.percentile(50)) * nsPerTick / 2,
              static_cast<double>(all.percentile(99)) * nsPerTick / 2,
              static_cast<double>(all.max()) * nsPerTick / 2);
  return 0;
}

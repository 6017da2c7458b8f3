// SPDX-License-Identifier: MIT
// Stamp calibration: the TSC's rate against CLOCK_MONOTONIC, once.
#include "libhft/core/stamp_clock.h"

#include <cpuid.h>

namespace hft::core {
namespace {

bool invariantTsc() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000U, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007U)
    return false;
  __get_cpuid(0x80000007U, &eax, &ebx, &ecx, &edx);
  return (edx & (1U << 8)) != 0; // "invariant TSC": constant rate in every P-, C- and T-state
}

// One (ticks, ns) pair read as close together as the clock allows: the tightest of a few.
template <typename Clock> void pair(Clock clock, std::uint64_t& ticks, std::uint64_t& ns) noexcept {
  std::uint64_t best = ~0ULL;
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t t0 = __rdtsc();
    const std::uint64_t n = clock();
    const std::uint64_t t1 = __rdtsc();
    if (t1 - t0 < best) {
      best = t1 - t0;
      ticks = t0 + (t1 - t0) / 2;
      ns = n;
    }
  }
}

double gTicksPerNs = 1.0;

} // namespace

void calibrateStamps() noexcept {
  if (detail::gStampsUseTsc || !invariantTsc())
    return;
  std::uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
  pair(monotonicNs, t0, n0);
  // Deliberate busy-wait, once at start-up: a 20 ms baseline puts the rate within a few ppm.
  while (monotonicNs() - n0 < 20'000'000ULL) {
  }
  pair(monotonicNs, t1, n1);
  if (t1 <= t0 || n1 <= n0)
    return;
  detail::gNsPerTickQ32 =
      static_cast<std::uint64_t>((static_cast<detail::U128>(n1 - n0) << 32) / (t1 - t0));
  gTicksPerNs = static_cast<double>(t1 - t0) / static_cast<double>(n1 - n0);
  detail::gStampsUseTsc = true;
}

double stampTicksPerNs() noexcept { return detail::gStampsUseTsc ? gTicksPerNs : 1.0; }

void RealtimeAnchor::reanchor() noexcept {
  std::uint64_t ticks = 0, ns = 0;
  if (stampsUseTsc()) {
    pair(core::realtimeNs, ticks, ns);
  } else {
    // Stamps are CLOCK_MONOTONIC ns: the anchor maps that clock onto CLOCK_REALTIME.
    ticks = monotonicNs();
    ns = core::realtimeNs();
  }
  baseTicks_ = ticks;
  baseRealtimeNs_ = ns;
  if (firstTicks_ == 0 || !stampsUseTsc()) {
    firstTicks_ = ticks;
    firstRealtimeNs_ = ns;
    nsPerTickQ32_ = detail::gNsPerTickQ32;
    return;
  }
  // The longer the baseline, the better the rate; a clock step would make it absurd, so a rate
  // more than 0.1% off the calibration is not taken.
  if (ticks > firstTicks_ && ns > firstRealtimeNs_ && ticks - firstTicks_ > (1ULL << 30)) {
    const auto rate = static_cast<std::uint64_t>(
        (static_cast<detail::U128>(ns - firstRealtimeNs_) << 32) / (ticks - firstTicks_));
    const std::uint64_t base = detail::gNsPerTickQ32;
    if (rate > base - base / 1000 && rate < base + base / 1000)
      nsPerTickQ32_ = rate;
    else {
      firstTicks_ = ticks; // the system clock was stepped: start a new baseline
      firstRealtimeNs_ = ns;
    }
  }
}

} // namespace hft::core

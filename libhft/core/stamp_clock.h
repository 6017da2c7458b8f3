// SPDX-License-Identifier: MIT
// Per-hop stamps that cost a few ns: the TSC where it is invariant, calibrated against the
// system clocks once at start-up; CLOCK_MONOTONIC where it is not.
#pragma once

#include <x86intrin.h>

#include <cstdint>

#include "libhft/core/clock.h"

namespace hft::core {

namespace detail {
// 64x64->128-bit products keep the tick-to-ns conversion exact for the TSC's whole range.
__extension__ using U128 = unsigned __int128;
// Written once by calibrateStamps() before any worker thread starts, read-only after.
inline bool gStampsUseTsc = false;
inline std::uint64_t gNsPerTickQ32 = 1ULL << 32; // ns per stamp tick, 32.32 fixed point
} // namespace detail

// Measures the TSC against CLOCK_MONOTONIC (spins about 20 ms). Call once at start-up, before
// the threads that stamp exist. Without an invariant TSC (CPUID 0x80000007 EDX bit 8) stamps
// stay CLOCK_MONOTONIC nanoseconds. Idempotent.
void calibrateStamps() noexcept;
[[nodiscard]] inline bool stampsUseTsc() noexcept { return detail::gStampsUseTsc; }
// TSC ticks per ns (GHz) as calibrated; 1.0 when stamps are nanoseconds.
[[nodiscard]] double stampTicksPerNs() noexcept;

// A stamp: ticks of an unspecified epoch, monotonic. Convert intervals with stampToNs().
[[nodiscard]] inline std::uint64_t stamp() noexcept {
  // rdtsc, not rdtscp: a stamp marks a point in this thread's program order and the few
  // cycles an out-of-order read can move are far below what the stages measure.
  return detail::gStampsUseTsc ? __rdtsc() : monotonicNs();
}

// Ticks -> ns, on a monotonic time base (what heartbeats and timeouts need).
[[nodiscard]] inline std::uint64_t stampToNs(std::uint64_t ticks) noexcept {
  return static_cast<std::uint64_t>((static_cast<detail::U128>(ticks) * detail::gNsPerTickQ32) >>
                                    32);
}

// Turns stamps into CLOCK_REALTIME nanoseconds (what the wire and the journal carry) without a
// system call: one per thread, re-anchored by its owner off the critical moment (one
// clock_gettime), so that NTP's slew of the system clock never builds up. Since the last
// anchor the error is the TSC's rate error times the elapsed time; the rate is refined from
// the first anchor on every re-anchor.
class RealtimeAnchor {
public:
  RealtimeAnchor() noexcept { reanchor(); }

  void reanchor() noexcept;

  [[nodiscard]] std::uint64_t realtimeNs(std::uint64_t stampTicks) const noexcept {
    // Stamps taken just before the anchor are a few ticks behind it: signed arithmetic.
    const auto delta = static_cast<std::int64_t>(stampTicks - baseTicks_);
    const auto sign = delta < 0 ? -1 : 1;
    const auto magnitude = static_cast<detail::U128>(delta < 0 ? -delta : delta);
    const auto ns = static_cast<std::int64_t>((magnitude * nsPerTickQ32_) >> 32);
    return baseRealtimeNs_ + static_cast<std::uint64_t>(sign * ns);
  }
  [[nodiscard]] std::uint64_t nowRealtimeNs() const noexcept { return realtimeNs(stamp()); }
  [[nodiscard]] std::uint64_t anchorTicks() const noexcept { return baseTicks_; }

private:
  std::uint64_t baseTicks_ = 0;
  std::uint64_t baseRealtimeNs_ = 0;
  std::uint64_t firstTicks_ = 0;
  std::uint64_t firstRealtimeNs_ = 0;
  std::uint64_t nsPerTickQ32_ = 1ULL << 32;
};

} // namespace hft::core

// SPDX-License-Identifier: MIT
// Nanosecond clocks: wall time for the wire, monotonic time for intervals.
#pragma once

#include <cstdint>
#include <ctime>

namespace hft::core {

// CLOCK_REALTIME in ns: what the protocol's timestamps carry (comparable across processes).
[[nodiscard]] inline std::uint64_t realtimeNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// CLOCK_MONOTONIC in ns: for timers and intervals that must not jump.
[[nodiscard]] inline std::uint64_t monotonicNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

} // namespace hft::core

// SPDX-License-Identifier: MIT
// Seeded PRNG (xoshiro256**) whose sequence is the same on every platform for a given seed.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace hft::market {

// Our own generator and distributions, not <random>'s: the standard leaves the output of its
// distributions to the library, and the simulator promises one sequence per seed.
class Rng {
public:
  explicit Rng(std::uint64_t seed) noexcept {
    // splitmix64 spreads any seed (even 0) over the 256-bit state.
    for (auto& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }

  [[nodiscard]] std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  [[nodiscard]] double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [lo, hi] (hi >= lo); the modulo bias is below 2^-32 for our ranges.
  [[nodiscard]] std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t span = hi - lo + 1;
    return span == 0 ? next() : lo + next() % span;
  }

  // True with probability percent/100.
  [[nodiscard]] bool chance(double percent) noexcept { return uniform() * 100.0 < percent; }

  // Standard normal (Box-Muller); one draw per call keeps the sequence easy to reason about.
  [[nodiscard]] double gaussian() noexcept {
    const double u1 = 1.0 - uniform(); // (0, 1]: log() stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }

  std::uint64_t state_[4];
};

} // namespace hft::market

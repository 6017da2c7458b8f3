// SPDX-License-Identifier: MIT
// Seeded delay model for order entry and market data: a constant, a jitter draw and occasional
// spikes; and the statistics of the delays actually applied.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "exchange-sim/market/rng.h"

namespace hft::market {

enum class Jitter : std::uint8_t {
  None,        // constant only
  Uniform,     // uniform in [0, jitterNs]
  Exponential, // exponential with mean jitterNs (a long right tail, like a queueing delay)
};

struct LatencyParams {
  std::uint64_t constantNs = 0;
  Jitter jitter = Jitter::None;
  std::uint64_t jitterNs = 0;
  double spikePercent = 0.0; // chance, per delayed event, of adding spikeNs
  std::uint64_t spikeNs = 0;

  [[nodiscard]] bool zero() const noexcept {
    return constantNs == 0 && (jitter == Jitter::None || jitterNs == 0) &&
           (spikePercent == 0.0 || spikeNs == 0);
  }
};

class LatencyModel {
public:
  LatencyModel(const LatencyParams& params, std::uint64_t seed) noexcept
      : params_(params), rng_(seed) {}

  // Why a parameter set cannot run, or "" when it can.
  [[nodiscard]] static const char* validate(const LatencyParams& p) noexcept {
    if (p.constantNs > kMaxDelayNs || p.jitterNs > kMaxDelayNs || p.spikeNs > kMaxDelayNs)
      return "a delay is above 10 s";
    if (!(p.spikePercent >= 0.0 && p.spikePercent <= 100.0))
      return "the spike probability must be within 0..100 (percent)";
    return "";
  }

  // The delay for the next event. Draws nothing when the model is zero, so a zero model keeps
  // every other seeded sequence unchanged.
  [[nodiscard]] std::uint64_t sample() noexcept {
    if (params_.zero())
      return 0;
    std::uint64_t d = params_.constantNs;
    switch (params_.jitter) {
    case Jitter::None: break;
    case Jitter::Uniform: d += rng_.between(0, params_.jitterNs); break;
    case Jitter::Exponential: {
      const double u = 1.0 - rng_.uniform(); // (0, 1]: log() stays finite
      const double x = -std::log(u) * static_cast<double>(params_.jitterNs);
      d += static_cast<std::uint64_t>(std::min(x, static_cast<double>(kMaxDelayNs)));
      break;
    }
    }
    if (params_.spikePercent > 0.0 && rng_.chance(params_.spikePercent))
      d += params_.spikeNs;
    return d;
  }

  [[nodiscard]] const LatencyParams& params() const noexcept { return params_; }

  static constexpr std::uint64_t kMaxDelayNs = 10'000'000'000ULL;

private:
  LatencyParams params_;
  Rng rng_;
};

// The delays applied in one run, for the stats file: count, mean, p50, p99.
class DelayStats {
public:
  void record(std::uint64_t ns) {
    samples_.push_back(ns);
    sum_ += static_cast<double>(ns);
  }
  [[nodiscard]] std::uint64_t count() const noexcept { return samples_.size(); }
  [[nodiscard]] double meanNs() const noexcept {
    return samples_.empty() ? 0.0 : sum_ / static_cast<double>(samples_.size());
  }
  // Nearest-rank percentile (0 < q <= 100); 0 when nothing was recorded.
  [[nodiscard]] std::uint64_t percentileNs(double q) const {
    if (samples_.empty())
      return 0;
    std::vector<std::uint64_t> sorted = samples_;
    std::sort(sorted.begin(), sorted.end());
    auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
  }

private:
  std::vector<std::uint64_t> samples_;
  double sum_ = 0.0;
};

} // namespace hft::market

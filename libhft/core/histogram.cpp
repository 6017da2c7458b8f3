// SPDX-License-Identifier: MIT
// HDR-style log-linear latency histogram.
#include "libhft/core/histogram.h"

#include <cmath>

namespace hft::core {

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.count_ && other.min_ < min_)
    min_ = other.min_;
  if (other.max_ > max_)
    max_ = other.max_;
}

void Histogram::reset() noexcept {
  counts_.fill(0);
  count_ = 0;
  sum_ = 0;
  min_ = std::numeric_limits<std::uint64_t>::max();
  max_ = 0;
}

std::uint64_t Histogram::percentile(double percent) const noexcept {
  if (count_ == 0)
    return 0;
  if (percent <= 0.0)
    return min_;
  // Rank of the sample wanted, 1-based: the nearest-rank definition, in integers (percent in
  // thousandths) so that 99.9% of 1000 samples is rank 999, not 1000 by rounding.
  const auto milli = static_cast<std::uint64_t>(std::llround(percent * 1000.0));
  auto rank = (milli * count_ + 99'999) / 100'000;
  if (rank < 1)
    rank = 1;
  if (rank > count_)
    rank = count_;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t high = highestOf(i);
      return high < max_ ? high : max_;
    }
  }
  return max_;
}

} // namespace hft::core

// SPDX-License-Identifier: MIT
// HDR-style log-linear latency histogram: fixed memory, O(1) record, < 0.8% relative error.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace hft::core {

class Histogram {
public:
  // 128 sub-buckets per power of two: values below 256 are exact, the rest within 1/128.
  static constexpr unsigned kSubBits = 7;
  static constexpr std::uint64_t kSubCount = 1ULL << kSubBits;
  static constexpr std::size_t kBuckets = 2 * kSubCount + (64 - kSubBits - 1) * kSubCount;

  void record(std::uint64_t value) noexcept {
    ++counts_[indexOf(value)];
    ++count_;
    sum_ += value;
    if (value < min_)
      min_ = value;
    if (value > max_)
      max_ = value;
  }

  void merge(const Histogram& other) noexcept;
  void reset() noexcept;

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
  }
  // The value at or below which `percent` of the samples lie (the highest value its bucket
  // can hold, clipped to the largest sample seen). 0 when empty.
  [[nodiscard]] std::uint64_t percentile(double percent) const noexcept;

  // For serialisation: non-empty buckets as (lowest value, highest value, count).
  template <typename F> void forEachBucket(F&& f) const {
    for (std::size_t i = 0; i < kBuckets; ++i)
      if (counts_[i] != 0)
        f(lowestOf(i), highestOf(i), counts_[i]);
  }

  [[nodiscard]] static constexpr std::size_t indexOf(std::uint64_t v) noexcept {
    if (v < 2 * kSubCount)
      return static_cast<std::size_t>(v);
    const unsigned msb = 63U - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - kSubBits;
    return static_cast<std::size_t>(2 * kSubCount + (msb - kSubBits - 1) * kSubCount +
                                    ((v >> shift) - kSubCount));
  }
  [[nodiscard]] static constexpr std::uint64_t lowestOf(std::size_t i) noexcept {
    if (i < 2 * kSubCount)
      return i;
    const std::size_t k = (i - 2 * kSubCount) / kSubCount;
    const std::uint64_t sub = (i - 2 * kSubCount) % kSubCount + kSubCount;
    return sub << (k + 1);
  }
  [[nodiscard]] static constexpr std::uint64_t highestOf(std::size_t i) noexcept {
    if (i < 2 * kSubCount)
      return i;
    const std::size_t k = (i - 2 * kSubCount) / kSubCount;
    const std::uint64_t sub = (i - 2 * kSubCount) % kSubCount + kSubCount;
    return ((sub + 1) << (k + 1)) - 1;
  }

private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

static_assert(Histogram::indexOf(~0ULL) == Histogram::kBuckets - 1);

} // namespace hft::core

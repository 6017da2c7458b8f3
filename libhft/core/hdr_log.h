// SPDX-License-Identifier: MIT
// HdrHistogram (3 significant digits) and its .hlog interval log, as Java HdrHistogram writes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace hft::core {

// The standard HdrHistogram bucket layout: lowest discernible value 1, 3 significant digits
// (2048 sub-buckets, 1024 per bucket after the first), values up to kHighestTrackable.
class HdrHistogram {
public:
  static constexpr int kSignificantDigits = 3;
  static constexpr unsigned kSubBucketHalfCountMagnitude = 10;
  static constexpr std::uint64_t kSubBucketHalfCount = 1ULL << kSubBucketHalfCountMagnitude;
  static constexpr std::uint64_t kSubBucketMask = 2 * kSubBucketHalfCount - 1;
  // One hour in ns: anything longer is clipped to it (a latency that long is a fault anyway).
  static constexpr std::uint64_t kHighestTrackable = 3'600'000'000'000ULL;

  // Allocates the counts once; record() never allocates.
  HdrHistogram();

  void record(std::uint64_t value) noexcept {
    if (value > kHighestTrackable)
      value = kHighestTrackable;
    ++counts_[indexOf(value)];
    ++count_;
    if (value > max_)
      max_ = value;
  }
  void reset() noexcept;
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }

  [[nodiscard]] static constexpr std::size_t indexOf(std::uint64_t v) noexcept {
    const unsigned bucket =
        53U - static_cast<unsigned>(std::countl_zero(v | kSubBucketMask)); // 64-0-10-1 = 53
    const std::uint64_t sub = v >> bucket;
    return static_cast<std::size_t>(((std::uint64_t{bucket} + 1) << kSubBucketHalfCountMagnitude) +
                                    (sub - kSubBucketHalfCount));
  }

  // The V2 encoding (cookie 0x1c849303): 40-byte big-endian header, then the counts up to the
  // highest non-zero one as ZigZag LEB128, runs of more than one zero as a negative run length.
  [[nodiscard]] std::vector<std::uint8_t> encode() const;
  // The compressed form (cookie 0x1c849304): 8-byte header, then the zlib-deflated encoding.
  // Throws std::runtime_error if zlib fails.
  [[nodiscard]] std::vector<std::uint8_t> encodeCompressed() const;

private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

[[nodiscard]] std::string base64Encode(const std::vector<std::uint8_t>& bytes);

// Writes an interval log: the header once, then one line per (tag, interval).
// Values are ns; Interval_Max is written in ms, the Java writer's default unit ratio (1e6).
class HdrLogWriter {
public:
  HdrLogWriter() = default;
  HdrLogWriter(const HdrLogWriter&) = delete;
  HdrLogWriter& operator=(const HdrLogWriter&) = delete;
  ~HdrLogWriter();

  // Creates the file and writes the header; baseNs (CLOCK_REALTIME) is StartTime and BaseTime,
  // and interval timestamps are written relative to it. Throws std::system_error on failure.
  void open(const std::string& path, std::uint64_t baseNs);
  // false if the write failed (the caller counts it).
  [[nodiscard]] bool writeInterval(const char* tag, std::uint64_t startNs, std::uint64_t endNs,
                                   const HdrHistogram& histogram);
  [[nodiscard]] bool flush();
  void close();
  [[nodiscard]] bool isOpen() const { return file_ != nullptr; }

private:
  std::FILE* file_ = nullptr;
  std::uint64_t baseNs_ = 0;
};

} // namespace hft::core

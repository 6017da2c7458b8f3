// SPDX-License-Identifier: MIT
// Per-order tick-to-trade samples for --samples-file: recorded into a preallocated array on
// the hot path, formatted as CSV and written only when the loop flushes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "libhft/core/fd.h"

namespace hft::server {

class SampleLog {
public:
  // Creates (truncates) the file and writes the CSV header. Throws std::system_error.
  SampleLog(const std::string& path, std::size_t capacity);
  SampleLog(const SampleLog&) = delete;
  SampleLog& operator=(const SampleLog&) = delete;
  ~SampleLog();

  // One NEW_ORDER received; tickToTradeNs is meaningless unless hasTickToTrade.
  void record(std::uint64_t recvNs, std::uint64_t clOrdId, std::uint32_t symbolId,
              std::int64_t tickToTradeNs, bool hasTickToTrade) noexcept {
    if (count_ == samples_.size())
      flush(); // a burst larger than the array: write now rather than drop
    samples_[count_++] = {recvNs, clOrdId, tickToTradeNs, symbolId, hasTickToTrade};
  }
  [[nodiscard]] bool halfFull() const noexcept { return 2 * count_ >= samples_.size(); }
  // Writes every recorded sample. A write error is logged once; later rows are dropped.
  void flush() noexcept;

  [[nodiscard]] std::uint64_t rowsWritten() const noexcept { return rowsWritten_; }
  [[nodiscard]] std::uint64_t rowsDropped() const noexcept { return rowsDropped_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
  struct Sample {
    std::uint64_t recvNs;
    std::uint64_t clOrdId;
    std::int64_t tickToTradeNs;
    std::uint32_t symbolId;
    bool hasTickToTrade;
  };

  std::string path_;
  core::UniqueFd fd_;
  std::vector<Sample> samples_;
  std::size_t count_ = 0;
  fmt::memory_buffer text_;
  std::uint64_t rowsWritten_ = 0;
  std::uint64_t rowsDropped_ = 0;
  bool failed_ = false;
};

} // namespace hft::server

// SPDX-License-Identifier: MIT
// Per-order tick-to-trade samples, flushed as CSV off the order path.
#include "exchange-sim/server/sample_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

namespace hft::server {

namespace {

constexpr std::string_view kCsvHeader = "recv_ns,cl_ord_id,symbol_id,tick_to_trade_ns\n";

[[nodiscard]] bool writeAll(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace

SampleLog::SampleLog(const std::string& path, std::size_t capacity)
    : path_(path), samples_(capacity == 0 ? 1 : capacity) {
  fd_.reset(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd_)
    throw std::system_error(errno, std::generic_category(), "cannot create samples file " + path);
  if (!writeAll(fd_.get(), kCsvHeader.data(), kCsvHeader.size()))
    throw std::system_error(errno, std::generic_category(), "cannot write samples file " + path);
  text_.reserve(capacity * 48);
}

SampleLog::~SampleLog() { flush(); }

void SampleLog::flush() noexcept {
  if (count_ == 0)
    return;
  if (failed_) {
    rowsDropped_ += count_;
    count_ = 0;
    return;
  }
  text_.clear();
  try {
    for (std::size_t i = 0; i < count_; ++i) {
      const Sample& s = samples_[i];
      if (s.hasTickToTrade)
        fmt::format_to(std::back_inserter(text_), "{},{},{},{}\n", s.recvNs, s.clOrdId, s.symbolId,
                       s.tickToTradeNs);
      else // no md_timestamp: no tick-to-trade to give
        fmt::format_to(std::back_inserter(text_), "{},{},{},\n", s.recvNs, s.clOrdId, s.symbolId);
    }
  } catch (...) {
    failed_ = true; // only bad_alloc can get here
  }
  if (failed_ || !writeAll(fd_.get(), text_.data(), text_.size())) {
    if (!failed_)
      spdlog::warn("Cannot write samples file {}: {}; dropping further samples", path_,
                   std::strerror(errno));
    failed_ = true;
    rowsDropped_ += count_;
  } else {
    rowsWritten_ += count_;
  }
  count_ = 0;
}

} // namespace hft::server

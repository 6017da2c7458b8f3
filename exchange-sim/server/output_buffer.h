// SPDX-License-Identifier: MIT
// A session's bounded send buffer: frames queue here and leave with one send() per batch;
// when it is full the client is not reading, and the server drops it rather than block.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>

namespace hft::server {

class OutputBuffer {
public:
  // Allocated once; new[] without value-initialising, so untouched pages stay unmapped.
  explicit OutputBuffer(std::size_t capacity)
      : data_(new std::byte[capacity]), capacity_(capacity) {}
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;

  // Room for `n` more bytes at the end, moving the unsent bytes to the front when that helps.
  // Returns nullptr when the buffer cannot hold them: the caller treats it as overflow.
  [[nodiscard]] std::byte* claim(std::size_t n) noexcept {
    if (capacity_ - end_ < n) {
      if (capacity_ - size() < n)
        return nullptr;
      compact();
    }
    std::byte* p = data_.get() + end_;
    end_ += n;
    return p;
  }
  [[nodiscard]] bool append(const void* bytes, std::size_t n) noexcept {
    std::byte* p = claim(n);
    if (p == nullptr)
      return false;
    std::memcpy(p, bytes, n);
    return true;
  }
  [[nodiscard]] bool fits(std::size_t n) const noexcept { return capacity_ - size() >= n; }

  [[nodiscard]] const std::byte* pending() const noexcept { return data_.get() + begin_; }
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  // `n` bytes of pending() were sent.
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_)
      begin_ = end_ = 0;
  }
  void clear() noexcept { begin_ = end_ = 0; }

private:
  void compact() noexcept {
    const std::size_t n = size();
    if (begin_ != 0 && n != 0)
      std::memmove(data_.get(), data_.get() + begin_, n);
    begin_ = 0;
    end_ = n;
  }

  std::unique_ptr<std::byte[]> data_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

} // namespace hft::server

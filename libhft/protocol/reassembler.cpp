// SPDX-License-Identifier: MIT
// Cuts whole frames out of a TCP byte stream.
#include "libhft/protocol/reassembler.h"

#include <cassert>
#include <cstring>

namespace hft::protocol {

StreamReassembler::StreamReassembler(std::size_t capacity)
    : buffer_(std::make_unique<std::byte[]>(capacity)), capacity_(capacity) {
  assert(capacity >= 2 * kMaxFrameSize);
}

void StreamReassembler::compact() noexcept {
  const std::size_t n = end_ - begin_;
  if (begin_ != 0 && n != 0)
    std::memmove(buffer_.get(), buffer_.get() + begin_, n);
  begin_ = 0;
  end_ = n;
}

std::span<std::byte> StreamReassembler::writable() noexcept {
  // Moving the partial frame to the front is rare and short (< 4096 bytes).
  if (capacity_ - end_ < kMaxFrameSize || begin_ == end_)
    compact();
  return {buffer_.get() + end_, capacity_ - end_};
}

bool StreamReassembler::append(std::span<const std::byte> bytes) noexcept {
  if (capacity_ - end_ < bytes.size())
    compact();
  if (capacity_ - end_ < bytes.size())
    return false;
  std::memcpy(buffer_.get() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
  return true;
}

StreamReassembler::Result StreamReassembler::next(FrameView& out, FrameError& error) noexcept {
  const std::size_t available = end_ - begin_;
  if (available < 2)
    return Result::NeedMore;
  const std::byte* p = buffer_.get() + begin_;
  std::uint16_t length;
  std::memcpy(&length, p, sizeof(length));
  // msg_length alone can condemn the stream before the rest of the frame arrives.
  if (error = checkLength(length); error != FrameError::None)
    return Result::Malformed;
  if (available < length)
    return Result::NeedMore;
  if (error = checkFrame({p, length}); error != FrameError::None)
    return Result::Malformed;
  out.data = p;
  out.length = length;
  std::memcpy(&out.type, p + offsetof(Header, msgType), sizeof(out.type));
  begin_ += length;
  return Result::Frame;
}

} // namespace hft::protocol

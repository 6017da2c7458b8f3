// SPDX-License-Identifier: MIT
// Cuts whole frames out of a TCP byte stream, without copying them and without reading past
// the bytes received.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "libhft/protocol/codec.h"

namespace hft::protocol {

class StreamReassembler {
public:
  enum class Result : std::uint8_t {
    Frame,     // `out` holds a whole, well-formed frame (possibly of an unknown type)
    NeedMore,  // no whole frame buffered: read more bytes
    Malformed, // the stream is broken (`error` says why): close the connection
  };

  // The buffer is allocated once here; capacity must hold at least two largest frames.
  explicit StreamReassembler(std::size_t capacity = 64 * 1024);
  StreamReassembler(const StreamReassembler&) = delete;
  StreamReassembler& operator=(const StreamReassembler&) = delete;

  // Free space to recv() into. Consume every frame (until NeedMore) before asking again:
  // then at least kMaxFrameSize bytes are always free.
  [[nodiscard]] std::span<std::byte> writable() noexcept;
  // Declares `n` bytes written into writable().
  void commit(std::size_t n) noexcept { end_ += n; }
  // Copies bytes in (tests and non-socket callers). Returns false if they do not fit.
  [[nodiscard]] bool append(std::span<const std::byte> bytes) noexcept;

  // The next frame, if a whole one is buffered. The view stays valid until writable(),
  // append() or reset() is called.
  [[nodiscard]] Result next(FrameView& out, FrameError& error) noexcept;

  // Drops everything buffered (a new connection).
  void reset() noexcept { begin_ = end_ = 0; }
  [[nodiscard]] std::size_t buffered() const noexcept { return end_ - begin_; }

private:
  void compact() noexcept;

  std::unique_ptr<std::byte[]> buffer_;
  std::size_t capacity_;
  std::size_t begin_ = 0; // first unread byte
  std::size_t end_ = 0;   // one past the last received byte
};

} // namespace hft::protocol

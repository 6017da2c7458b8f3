// SPDX-License-Identifier: MIT
// Validation, encoding and decoding of protocol v1 frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "libhft/protocol/wire.h"

namespace hft::protocol {

// Why a frame is malformed (framing) or its content invalid (semantics).
enum class FrameError : std::uint8_t {
  None = 0,
  TooShort,       // msg_length < 16
  TooLong,        // msg_length > 4096
  WrongLength,    // msg_length differs from the size its type requires
  Truncated,      // TCP: the peer closed the connection inside a frame
  TooManyEntries, // MARKET_DATA num_entries > 64
  // Content errors: the frame is well formed but its fields break the spec.
  BadSide,
  BadLevel,
  ZeroQuantity,
  UnorderedLadder, // bids not falling, asks not rising, or crossed
  BadFlags,
};

[[nodiscard]] std::string_view describe(FrameError error) noexcept;
[[nodiscard]] std::string_view describe(MsgType type) noexcept;
[[nodiscard]] std::string_view describe(ExecType type) noexcept;
[[nodiscard]] std::string_view describe(RejectReason reason) noexcept;

// A whole frame whose length is valid for its type (or whose type is unknown but whose length
// is within 16..4096). `data` points at the header; valid until the buffer behind it changes.
struct FrameView {
  const std::byte* data = nullptr;
  std::uint16_t length = 0;
  std::uint16_t type = 0;

  [[nodiscard]] Header header() const noexcept { return as<Header>(); }
  // Copies the frame into its struct; the caller has checked `type`.
  template <typename T> [[nodiscard]] T as() const noexcept {
    T out{};
    std::memcpy(&out, data, sizeof(T) < length ? sizeof(T) : length);
    return out;
  }
  [[nodiscard]] MdEntry mdEntry(std::size_t i) const noexcept {
    MdEntry e;
    std::memcpy(&e, data + sizeof(MarketDataHead) + i * sizeof(MdEntry), sizeof(e));
    return e;
  }
};

// Checks msg_length against the limits; needs only the header.
[[nodiscard]] FrameError checkLength(std::uint16_t msgLength) noexcept;

// Checks a frame's length against its type. `bytes` holds the whole frame
// (msg_length bytes). Unknown types pass: the caller counts and skips them.
[[nodiscard]] FrameError checkFrame(std::span<const std::byte> bytes) noexcept;

// Checks a well-formed MARKET_DATA frame's ladder against the spec's rules.
[[nodiscard]] FrameError checkMarketDataContent(const FrameView& frame) noexcept;

// Fills a header in place.
inline void stampHeader(Header& h, MsgType type, std::size_t length, std::uint32_t seq,
                        std::uint64_t timestampNs) noexcept {
  h.msgLength = static_cast<std::uint16_t>(length);
  h.msgType = static_cast<std::uint16_t>(type);
  h.seq = seq;
  h.timestamp = timestampNs;
}

// Builds a MARKET_DATA frame into `out` (at least marketDataSize(entries.size()) bytes);
// returns its length. Entries beyond kMaxMdEntries are not written.
std::size_t encodeMarketData(std::byte* out, std::uint32_t seq, std::uint64_t timestampNs,
                             std::uint32_t symbolId, std::span<const MdEntry> entries) noexcept;

// Copies a fixed-size frame struct to bytes.
template <typename T> inline void writeFrame(std::byte* out, const T& frame) noexcept {
  std::memcpy(out, &frame, sizeof(T));
}

// Counts missing frames from a sender's seq: 1 for the first, +1 for each frame.
class SeqTracker {
public:
  // Returns how many frames are missing before this one (0 when in order).
  [[nodiscard]] std::uint64_t onSeq(std::uint32_t seq) noexcept {
    std::uint64_t missing = 0;
    if (seq > expected_)
      missing = seq - expected_;
    expected_ = seq + 1;
    gaps_ += missing;
    return missing;
  }
  void reset() noexcept {
    expected_ = 1;
    gaps_ = 0;
  }
  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }

private:
  std::uint32_t expected_ = 1;
  std::uint64_t gaps_ = 0;
};

// Sequence numbers for one sender on one connection or feed.
class SeqCounter {
public:
  [[nodiscard]] std::uint32_t next() noexcept { return next_++; }
  void reset() noexcept { next_ = 1; }

private:
  std::uint32_t next_ = 1;
};

} // namespace hft::protocol

// SPDX-License-Identifier: MIT
// Turns the UDP feed's datagrams into frames (docs/protocol.md: "a datagram holds one or more
// whole frames"): framing checks first, so a malformed datagram is dropped whole, then the
// feed's own sequence numbers, then each MARKET_DATA's content. Shared by the kernel socket
// and the AF_XDP receive paths; allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "libhft/protocol/codec.h"

namespace hft::feed {

// Receives what the feed decodes. Called on the trading thread, in order.
class FeedListener {
public:
  virtual ~FeedListener() = default;
  // A MARKET_DATA frame whose content is valid (the one validation it gets); rxStamp
  // (core::stamp()) is when its datagram was taken. Valid until onFeedBatchEnd() returns.
  virtual void onFeedFrame(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept = 0;
  // Every frame of one receive batch (recvmmsg, or one AF_XDP ring peek) was handed over, and
  // their bytes are not yet given back: work that may wait until the orders are out goes here.
  virtual void onFeedBatchEnd() noexcept {}
  // A datagram dropped whole (a framing error) or one frame dropped (invalid content).
  virtual void onFeedBadFrame(protocol::FrameError error, std::uint16_t type) noexcept = 0;
  virtual void onFeedGap(std::uint64_t missing) noexcept = 0;
};

struct FeedCounters {
  std::uint64_t datagrams = 0;          // datagrams (or XSK packets) that reached the decoder
  std::uint64_t bytes = 0;              // UDP payload bytes
  std::uint64_t frames = 0;             // frames of any type in accepted datagrams
  std::uint64_t marketData = 0;         // MARKET_DATA frames handed on
  std::uint64_t gaps = 0;               // frames missing by the feed's seq
  std::uint64_t stale = 0;              // frames older than one already seen: dropped
  std::uint64_t restarts = 0;           // seq went back to 1: the exchange restarted
  std::uint64_t malformedDatagrams = 0; // framing errors: the whole datagram dropped
  std::uint64_t invalidMarketData = 0;  // MARKET_DATA with bad content: that frame dropped
  std::uint64_t otherTypes = 0;         // frames of another or unknown type: skipped
  std::uint64_t emptyDatagrams = 0;     // no frame at all: dropped
};

class FeedDecoder {
public:
  explicit FeedDecoder(FeedListener& listener) noexcept : listener_(listener) {}

  // One datagram's UDP payload. Never reads outside `payload`.
  void onDatagram(std::span<const std::byte> payload, std::uint64_t rxStamp) noexcept;
  // The receiver's batch is over; its datagrams are still in place (FeedListener::onFeedBatchEnd).
  void batchEnd() noexcept { listener_.onFeedBatchEnd(); }

  void reset() noexcept {
    counters_ = {};
    expected_ = 1;
  }
  [[nodiscard]] const FeedCounters& counters() const noexcept { return counters_; }

private:
  FeedListener& listener_;
  FeedCounters counters_;
  std::uint32_t expected_ = 1; // the next seq the feed should send
};

// Checks the framing of a whole datagram without dispatching anything: None when it is a
// sequence of whole, well-formed frames (unknown types allowed), else the first error.
[[nodiscard]] protocol::FrameError checkDatagram(std::span<const std::byte> payload) noexcept;

} // namespace hft::feed

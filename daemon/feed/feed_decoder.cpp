// SPDX-License-Identifier: MIT
// The UDP feed's datagrams to frames.
#include "daemon/feed/feed_decoder.h"

#include <cstring>

#include "libhft/core/stamp_clock.h"

namespace hft::feed {

using namespace hft::protocol;

FrameError checkDatagram(std::span<const std::byte> payload) noexcept {
  if (payload.empty())
    return FrameError::TooShort;
  std::size_t at = 0;
  while (at < payload.size()) {
    if (payload.size() - at < kHeaderSize)
      return FrameError::TooShort; // a partial header at the end: frames never span datagrams
    std::uint16_t length = 0;
    std::memcpy(&length, payload.data() + at, sizeof(length));
    if (const FrameError e = checkLength(length); e != FrameError::None)
      return e;
    if (length > payload.size() - at)
      return FrameError::WrongLength; // the frame claims more bytes than the datagram holds
    if (const FrameError e = checkFrame(payload.subspan(at, length)); e != FrameError::None)
      return e;
    at += length;
  }
  return FrameError::None;
}

void FeedDecoder::onDatagram(std::span<const std::byte> payload, std::uint64_t rxStamp) noexcept {
  ++counters_.datagrams;
  counters_.bytes += payload.size();
  if (payload.empty()) {
    ++counters_.emptyDatagrams;
    listener_.onFeedBadFrame(FrameError::TooShort, 0);
    return;
  }
  // The whole datagram is checked before any of it is used: a bad one is dropped whole.
  if (const FrameError e = checkDatagram(payload); e != FrameError::None) {
    ++counters_.malformedDatagrams;
    listener_.onFeedBadFrame(e, 0);
    return;
  }
  std::size_t at = 0;
  while (at < payload.size()) {
    Header h;
    std::memcpy(&h, payload.data() + at, sizeof(h));
    const FrameView frame{payload.data() + at, h.msgLength, h.msgType};
    at += h.msgLength;
    ++counters_.frames;
    if (h.seq == 1 && expected_ != 1) {
      ++counters_.restarts; // the exchange started again: its feed numbers from 1 again
      expected_ = 1;
    }
    if (h.seq < expected_) {
      ++counters_.stale; // a duplicate or a late frame: newer snapshots already went out
      continue;
    }
    if (h.seq > expected_) {
      const std::uint64_t missing = h.seq - expected_;
      counters_.gaps += missing;
      listener_.onFeedGap(missing);
    }
    expected_ = h.seq + 1;
    if (h.msgType != static_cast<std::uint16_t>(MsgType::MarketData)) {
      ++counters_.otherTypes; // the feed carries market data only; anything else is skipped
      continue;
    }
    if (const FrameError e = checkMarketDataContent(frame); e != FrameError::None) {
      ++counters_.invalidMarketData;
      listener_.onFeedBadFrame(e, h.msgType);
      continue;
    }
    ++counters_.marketData;
    listener_.onFeedFrame(frame, rxStamp);
  }
}

} // namespace hft::feed

// SPDX-License-Identifier: MIT
// OrderBook: a validated snapshot copied into the ladder; the checking entry point for tools.
#include "daemon/book/order_book.h"

#include <cstring>

namespace hft::book {

void OrderBook::applyValidated(const protocol::FrameView& frame) noexcept {
  protocol::MarketDataHead head;
  std::memcpy(&head, frame.data, sizeof(head));
  assert(frame.type == static_cast<std::uint16_t>(protocol::MsgType::MarketData));
  assert(frame.length == protocol::marketDataSize(head.numEntries));
  assert(head.numEntries <= kMaxLevels);
  assert(symbolId_ == 0 || head.symbolId == symbolId_);
  assert(protocol::checkMarketDataContent(frame) == protocol::FrameError::None);
  // Entries of a valid snapshot come level by level per side: each lands at its own level.
  std::uint32_t depth[2] = {0, 0};
  const std::byte* entry = frame.data + sizeof(protocol::MarketDataHead);
  for (std::size_t i = 0; i < head.numEntries; ++i, entry += sizeof(protocol::MdEntry)) {
    protocol::MdEntry e;
    std::memcpy(&e, entry, sizeof(e));
    const unsigned side = e.side & 1U; // 0 or 1 in a valid frame; the mask bounds the index
    levels_[side][depth[side]++] = PriceLevel{e.price, e.qty, true};
  }
  depth_ = {depth[0], depth[1]};
  symbolId_ = head.symbolId;
  lastTimestamp_ = head.header.timestamp;
  ++updateCount_;
}

bool OrderBook::applySnapshot(const protocol::FrameView& frame) noexcept {
  if (frame.type != static_cast<std::uint16_t>(protocol::MsgType::MarketData)) {
    ++refusedCount_;
    return false;
  }
  const auto head = frame.as<protocol::MarketDataHead>();
  if (symbolId_ != 0 && head.symbolId != symbolId_) {
    ++refusedCount_;
    return false;
  }
  // The entry count is checkFrame()'s job; testing it again keeps a caller's mistake from
  // writing past the ladder.
  if (head.numEntries > kMaxLevels ||
      protocol::checkMarketDataContent(frame) != protocol::FrameError::None) {
    refuse();
    return false;
  }
  applyValidated(frame);
  return true;
}

BookSet::BookSet() : books_(std::make_unique<OrderBook[]>(kMaxSymbols)) {
  for (std::uint32_t id = 1; id < kMaxSymbols; ++id)
    books_[id] = OrderBook(id);
}

} // namespace hft::book

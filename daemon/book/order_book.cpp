// SPDX-License-Identifier: MIT
// OrderBook: one pass over a snapshot that checks the spec's ladder rules while it copies.
#include "daemon/book/order_book.h"

#include <cstring>

namespace hft::book {

bool OrderBook::applySnapshot(const protocol::FrameView& frame) noexcept {
  if (frame.type != static_cast<std::uint16_t>(protocol::MsgType::MarketData)) {
    ++refusedCount_;
    return false;
  }
  protocol::MarketDataHead head;
  std::memcpy(&head, frame.data, sizeof(head));
  assert(frame.length == protocol::marketDataSize(head.numEntries));
  if (symbolId_ != 0 && head.symbolId != symbolId_) {
    ++refusedCount_;
    return false;
  }
  // v1 sends only snapshots; anything else would be a delta this book cannot apply.
  // The entry count is checkFrame()'s job; testing it again costs nothing and keeps a caller's
  // mistake from writing past the ladder.
  if (head.flags != protocol::kMdFlagSnapshot || head.numEntries > kMaxLevels) {
    refuse();
    return false;
  }

  // Written straight into the ladder; a refusal below sets both depths to 0, which hides the
  // half-written levels. Each side's depth and last price stay in registers: going through an
  // array indexed by side would chain every entry to the previous one's store.
  std::uint32_t bids = 0, asks = 0;
  std::int64_t lastBid = 0, lastAsk = 0;
  const std::byte* entry = frame.data + sizeof(protocol::MarketDataHead);
  for (std::size_t i = 0; i < head.numEntries; ++i, entry += sizeof(protocol::MdEntry)) {
    protocol::MdEntry e;
    std::memcpy(&e, entry, sizeof(e));
    if (e.qty == 0) {
      refuse();
      return false;
    }
    // Levels come 0,1,2.. per side; bids fall strictly as the level rises, asks rise strictly.
    if (e.side == static_cast<std::uint8_t>(protocol::MdSide::Bid)) {
      if (e.level != bids || (bids != 0 && e.price >= lastBid)) {
        refuse();
        return false;
      }
      levels_[0][bids++] = PriceLevel{e.price, e.qty, true};
      lastBid = e.price;
    } else if (e.side == static_cast<std::uint8_t>(protocol::MdSide::Ask)) {
      if (e.level != asks || (asks != 0 && e.price <= lastAsk)) {
        refuse();
        return false;
      }
      levels_[1][asks++] = PriceLevel{e.price, e.qty, true};
      lastAsk = e.price;
    } else {
      refuse();
      return false;
    }
  }
  if (bids != 0 && asks != 0 && levels_[0][0].price >= levels_[1][0].price) {
    refuse(); // crossed or locked
    return false;
  }
  depth_ = {bids, asks};
  symbolId_ = head.symbolId;
  lastTimestamp_ = head.header.timestamp;
  ++updateCount_;
  return true;
}

BookSet::BookSet() : books_(std::make_unique<OrderBook[]>(kMaxSymbols)) {
  for (std::uint32_t id = 1; id < kMaxSymbols; ++id)
    books_[id] = OrderBook(id);
}

} // namespace hft::book

// SPDX-License-Identifier: MIT
// One symbol's top-of-book ladder, rebuilt from each MARKET_DATA snapshot, and the set of them.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "libhft/protocol/codec.h"
#include "libhft/protocol/wire.h"

namespace hft::book {

inline constexpr std::size_t kMaxLevels = protocol::kMaxMdEntries; // a side can fill a frame
// Symbol ids 1..kMaxSymbols-1 are indexed directly; 0 and larger ids have no book.
inline constexpr std::uint32_t kMaxSymbols = 256;

[[nodiscard]] constexpr bool isTradableSymbol(std::uint32_t symbolId) noexcept {
  return symbolId != 0 && symbolId < kMaxSymbols;
}

// A price level as the book reports it; `valid` is false past the last level of a side.
struct PriceLevel {
  std::int64_t price = 0; // 1e-4 units
  std::uint32_t qty = 0;
  bool valid = false;
};

class OrderBook {
public:
  OrderBook() noexcept = default;
  explicit OrderBook(std::uint32_t symbolId) noexcept : symbolId_(symbolId) {}

  // Replaces the ladder with a MARKET_DATA snapshot of this book's symbol that the edge has
  // validated (checkFrame() and checkMarketDataContent() both accepted it): the engine's path,
  // where a frame is validated once, where it enters. Invariants are debug asserts only.
  void applyValidated(const protocol::FrameView& frame) noexcept;

  // For callers without an edge (tools, tests): validates the content, then applyValidated().
  // Refuses (returns false) a frame of another type or symbol, which leaves the book alone, and
  // content that breaks the spec (flags without the snapshot bit, a side other than 0/1, qty 0,
  // levels not 0,1,2.. per side, a ladder not strictly ordered, a crossed book), which empties
  // it: trading on half a ladder or on the one before is worse than not trading until the next.
  // A book built without a symbol id takes the id of its first accepted snapshot.
  [[nodiscard]] bool applySnapshot(const protocol::FrameView& frame) noexcept;

  [[nodiscard]] PriceLevel bestBid() const noexcept { return level(0, protocol::MdSide::Bid); }
  [[nodiscard]] PriceLevel bestAsk() const noexcept { return level(0, protocol::MdSide::Ask); }
  [[nodiscard]] bool hasBothSides() const noexcept { return depth_[0] != 0 && depth_[1] != 0; }
  // (best bid + best ask) / 2 in 1e-4 units, rounded toward zero; 0 unless both sides exist.
  // 0 is what risk reads as "no reference price".
  [[nodiscard]] std::int64_t mid() const noexcept {
    if (!hasBothSides())
      return 0;
    // Wire prices may be any i64, so bid + ask may overflow: add half the gap to the bid.
    const std::int64_t bid = levels_[0][0].price;
    const std::uint64_t gap = priceGap();
    std::int64_t m = bid + static_cast<std::int64_t>(gap / 2); // within [bid, ask]
    if (m < 0 && (gap & 1U) != 0)
      ++m; // toward zero, as (bid + ask) / 2 rounds
    return m;
  }
  // Best ask - best bid (> 0 for an accepted book); 0 unless both sides exist. Saturates at
  // INT64_MAX (only absurd prices on either side of 0 are further apart).
  [[nodiscard]] std::int64_t spread() const noexcept {
    if (!hasBothSides())
      return 0;
    const std::uint64_t gap = priceGap();
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return gap > kMax ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(gap);
  }
  // Level i (0 = best) of a side; invalid past the side's depth.
  [[nodiscard]] PriceLevel level(std::size_t i, protocol::MdSide side) const noexcept {
    const auto s = static_cast<std::size_t>(side);
    assert(s < 2);
    if (i >= depth_[s])
      return {};
    return levels_[s][i];
  }
  [[nodiscard]] std::size_t depth(protocol::MdSide side) const noexcept {
    return depth_[static_cast<std::size_t>(side)];
  }

  [[nodiscard]] std::uint32_t symbolId() const noexcept { return symbolId_; }
  // Snapshots applied / refused since construction.
  [[nodiscard]] std::uint64_t updateCount() const noexcept { return updateCount_; }
  [[nodiscard]] std::uint64_t refusedCount() const noexcept { return refusedCount_; }
  // Header timestamp (exchange CLOCK_REALTIME, ns) of the last applied snapshot; 0 before one.
  [[nodiscard]] std::uint64_t lastExchangeTimestamp() const noexcept { return lastTimestamp_; }

  void clear() noexcept { depth_ = {0, 0}; }

private:
  // Best ask - best bid, exact: an accepted book has bid < ask, so it fits a u64.
  [[nodiscard]] std::uint64_t priceGap() const noexcept {
    return static_cast<std::uint64_t>(levels_[1][0].price) -
           static_cast<std::uint64_t>(levels_[0][0].price);
  }
  void refuse() noexcept {
    depth_ = {0, 0};
    ++refusedCount_;
  }

  std::array<std::uint32_t, 2> depth_{0, 0}; // levels in use per side (bid, ask)
  std::uint32_t symbolId_ = 0;
  std::uint64_t updateCount_ = 0;
  std::uint64_t refusedCount_ = 0;
  std::uint64_t lastTimestamp_ = 0;
  std::array<std::array<PriceLevel, kMaxLevels>, 2> levels_{}; // [side][level]
};

// Every symbol's book, allocated once; ids are direct indexes.
class BookSet {
public:
  BookSet();
  BookSet(const BookSet&) = delete;
  BookSet& operator=(const BookSet&) = delete;

  // nullptr for ids outside 1..kMaxSymbols-1: the caller counts and drops those.
  [[nodiscard]] OrderBook* find(std::uint32_t symbolId) noexcept {
    return isTradableSymbol(symbolId) ? &books_[symbolId] : nullptr;
  }
  [[nodiscard]] const OrderBook* find(std::uint32_t symbolId) const noexcept {
    return isTradableSymbol(symbolId) ? &books_[symbolId] : nullptr;
  }

private:
  std::unique_ptr<OrderBook[]> books_; // [kMaxSymbols]; slot 0 unused
};

} // namespace hft::book

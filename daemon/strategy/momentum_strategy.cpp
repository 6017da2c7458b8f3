// SPDX-License-Identifier: MIT
// MomentumStrategy: a fixed ring of mids per symbol and one comparison per snapshot.
#include "daemon/strategy/momentum_strategy.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace hft::strategy {

namespace {
std::uint32_t clampLookback(std::uint32_t lookback) noexcept {
  return std::clamp<std::uint32_t>(lookback, 2, kMaxLookback);
}
} // namespace

MomentumStrategy::MomentumStrategy(const StrategyParams& params)
    : params_(params), lookback_(clampLookback(params.lookback)),
      symbols_(std::make_unique<SymbolState[]>(book::kMaxSymbols)) {}

void MomentumStrategy::setParams(const StrategyParams& params) noexcept {
  const std::uint32_t lookback = clampLookback(params.lookback);
  params_ = params;
  if (lookback != lookback_) {
    lookback_ = lookback;
    for (std::uint32_t i = 0; i < book::kMaxSymbols; ++i) {
      symbols_[i].head = 0;
      symbols_[i].count = 0;
    }
  }
}

void MomentumStrategy::reset() noexcept {
  for (std::uint32_t i = 0; i < book::kMaxSymbols; ++i)
    symbols_[i] = SymbolState{};
}

bool MomentumStrategy::onBookUpdate(const book::OrderBook& book, std::uint32_t symbolId,
                                    std::int64_t position, std::uint64_t nowNs,
                                    std::uint64_t mdTimestamp, OrderIntent& out) noexcept {
  if (!book::isTradableSymbol(symbolId) || !book.hasBothSides())
    return false; // a one-sided book has no mid to follow and no price to take
  assert(params_.tickSize > 0);
  SymbolState& s = symbols_[symbolId];
  const std::int64_t mid = book.mid();
  s.mids[s.head] = mid;
  s.head = s.head + 1 == lookback_ ? 0 : s.head + 1;
  if (s.count < lookback_) {
    ++s.count;
    if (s.count < lookback_)
      return false; // still filling the window
  }
  // With the ring full, the slot written next holds the oldest mid of the window.
  // Wire prices may be any i64: a move past i64's range saturates rather than wrap (a wrapped
  // rise would read as a fall).
  std::int64_t move = 0;
  if (__builtin_sub_overflow(mid, s.mids[s.head], &move))
    move = mid > s.mids[s.head] ? std::numeric_limits<std::int64_t>::max()
                                : std::numeric_limits<std::int64_t>::min();
  const std::int64_t threshold = std::int64_t{params_.thresholdTicks} * params_.tickSize;
  protocol::Side side;
  if (move >= threshold)
    side = protocol::Side::Buy;
  else if (move <= -threshold)
    side = protocol::Side::Sell;
  else
    return false; // no trend: hold (no flattening; see docs/strategy.md)
  ++signals_;
  if (s.ordered && nowNs - s.lastOrderNs < params_.cooldownNs)
    return false;
  // Room left under the cap on this side: none once |position| reaches it, except to reduce.
  const std::int64_t room =
      side == protocol::Side::Buy ? params_.maxPosition - position : params_.maxPosition + position;
  if (room <= 0)
    return false;
  const std::int64_t qty = std::min<std::int64_t>(params_.orderQty, room);
  if (qty <= 0)
    return false;
  // Take the touch (plus aggressTicks): a taker pays the spread to follow the move at once.
  const std::int64_t aggress = std::int64_t{params_.aggressTicks} * params_.tickSize;
  std::int64_t price = 0;
  const bool beyond = side == protocol::Side::Buy
                          ? __builtin_add_overflow(book.bestAsk().price, aggress, &price)
                          : __builtin_sub_overflow(book.bestBid().price, aggress, &price);
  if (beyond || price <= 0)
    return false; // no price an order can carry
  out.symbolId = symbolId;
  out.side = side;
  out.tif = params_.ioc ? protocol::Tif::Ioc : protocol::Tif::Day;
  out.price = price;
  out.qty = static_cast<std::uint32_t>(qty);
  out.mdTimestamp = mdTimestamp;
  s.ordered = true;
  s.lastOrderNs = nowNs;
  ++intents_;
  return true;
}

} // namespace hft::strategy

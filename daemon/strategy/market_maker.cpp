// SPDX-License-Identifier: MIT
// MarketMaker: the quote arithmetic (in 128 bits: wire prices may be any i64) and the state.
#include "daemon/strategy/market_maker.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace hft::strategy {

namespace {
__extension__ using Wide = __int128;

// Rounds toward minus infinity (down) or plus infinity (up) to a multiple of `tick`.
Wide floorTo(Wide x, Wide tick) noexcept {
  const Wide r = x % tick;
  return r < 0 ? x - r - tick : x - r;
}
Wide ceilTo(Wide x, Wide tick) noexcept {
  const Wide r = x % tick;
  return r > 0 ? x - r + tick : x - r;
}
bool isPrice(Wide x) noexcept {
  return x > 0 && x <= Wide{std::numeric_limits<std::int64_t>::max()};
}
} // namespace

Quotes computeQuotes(const MarketMakerParams& p, std::int64_t bestBid, std::int64_t bestAsk,
                     std::int64_t position) noexcept {
  assert(p.tickSize > 0 && p.orderQty > 0);
  Quotes q;
  const Wide tick = p.tickSize;
  const Wide mid = (Wide{bestBid} + bestAsk) / 2;
  // Long: both quotes move down (sell sooner, buy later); short: up.
  const Wide skew = Wide{position} * p.skewTicks * tick / p.orderQty;
  const Wide fair = mid - skew;
  const Wide half = Wide{p.halfSpreadTicks} * tick;
  // Never at or through the other side's touch: the quote would take instead of rest.
  const Wide bid = std::min(floorTo(fair - half, tick), Wide{bestAsk} - tick);
  const Wide ask = std::max(ceilTo(fair + half, tick), Wide{bestBid} + tick);
  // Room under max_position: a quote never takes |position| beyond it if it fills whole.
  const Wide buyRoom = Wide{p.maxPosition} - position;
  const Wide sellRoom = Wide{p.maxPosition} + position;
  if (buyRoom > 0 && isPrice(bid)) {
    q.bid = true;
    q.bidPrice = static_cast<std::int64_t>(bid);
    q.bidQty = static_cast<std::uint32_t>(std::min<Wide>(p.orderQty, buyRoom));
  }
  if (sellRoom > 0 && isPrice(ask)) {
    q.ask = true;
    q.askPrice = static_cast<std::int64_t>(ask);
    q.askQty = static_cast<std::uint32_t>(std::min<Wide>(p.orderQty, sellRoom));
  }
  return q;
}

MarketMaker::MarketMaker(const MarketMakerParams& params)
    : params_(params), symbols_(std::make_unique<SymbolState[]>(book::kMaxSymbols)) {}

void MarketMaker::reset() noexcept {
  for (std::uint32_t i = 0; i < book::kMaxSymbols; ++i)
    symbols_[i] = SymbolState{};
}

} // namespace hft::strategy

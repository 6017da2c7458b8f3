// SPDX-License-Identifier: MIT
// Market maker: rests a DAY bid and ask around the mid, skewed by inventory, and cancels and
// replaces them when the mid moves, no more often than a minimum requote interval.
#pragma once

#include <cstdint>
#include <memory>

#include "daemon/book/order_book.h"
#include "daemon/strategy/strategy.h"

namespace hft::strategy {

// Every field, its default and why: docs/strategy.md ("Market maker").
struct MarketMakerParams {
  std::uint32_t orderQty = 10;              // qty of each quote
  std::uint32_t halfSpreadTicks = 1;        // each quote this many ticks from the (skewed) mid
  std::uint32_t skewTicks = 1;              // both quotes move this many ticks per order_qty held
  std::uint32_t requoteTicks = 2;           // cancel and replace once the mid moved this far
  std::uint64_t minRequoteNs = 250'000'000; // per symbol, between two placements (md clock)
  std::int64_t maxPosition = 100;           // no quote on a side that would take |position| past it
  std::int64_t tickSize = 100;              // [strategy] tick_size: the market's price increment
};

// The quotes wanted for one book and position: a pure function, so tests can check it alone.
struct Quotes {
  bool bid = false; // a bid is wanted (room under max_position on the buy side)
  bool ask = false;
  std::int64_t bidPrice = 0;
  std::int64_t askPrice = 0;
  std::uint32_t bidQty = 0;
  std::uint32_t askQty = 0;
};
// Fair price = mid - position * skew_ticks * tick / order_qty; bid = fair - half spread, rounded
// down to a tick, ask = fair + half spread, rounded up; neither crosses the other side's touch
// (a quote rests: it never takes). A side is off when its qty would breach max_position, or its
// price falls outside 1..i64.
[[nodiscard]] Quotes computeQuotes(const MarketMakerParams& p, std::int64_t bestBid,
                                   std::int64_t bestAsk, std::int64_t position) noexcept;

class MarketMaker {
public:
  using Params = MarketMakerParams;

  explicit MarketMaker(const MarketMakerParams& params);
  MarketMaker(const MarketMaker&) = delete;
  MarketMaker& operator=(const MarketMaker&) = delete;

  void setParams(const MarketMakerParams& params) noexcept { params_ = params; }
  [[nodiscard]] const MarketMakerParams& params() const noexcept { return params_; }

  template <OrderGateway G> void onBookUpdate(const BookUpdate& u, G& gateway) noexcept;
  template <OrderGateway G>
  void onExecution(const protocol::ExecutionReport& report, std::int64_t position,
                   G& gateway) noexcept;
  // Quoting follows book updates only, so a replay of the same frames decides the same.
  template <OrderGateway G> void onTimer(std::uint64_t, G&) noexcept {}
  // Every quote is gone (the exchange cancels on disconnect; a new session starts clean).
  void reset() noexcept;

  // Strategy thread only, for tests and status.
  [[nodiscard]] std::uint64_t quotesSent() const noexcept { return quotesSent_; }
  [[nodiscard]] std::uint64_t requotes() const noexcept { return requotes_; }
  [[nodiscard]] std::uint64_t throttled() const noexcept { return throttled_; }

  // Pending (sent) and Live (acknowledged) are treated alike; the difference is for tests.
  enum class QuoteState : std::uint8_t { None, Pending, Live };
  struct SideQuote {
    QuoteState state = QuoteState::None;
    std::uint64_t clOrdId = 0;
    std::int64_t price = 0;
    std::int64_t placedMid = 0;      // the mid when it was sent
    std::int64_t placedPosition = 0; // the position when it was sent (its skew)
  };
  // The quote of one side of a symbol (tests).
  [[nodiscard]] const SideQuote& quote(std::uint32_t symbolId, protocol::Side side) const noexcept {
    const SymbolState& s = symbols_[book::isTradableSymbol(symbolId) ? symbolId : 0];
    return side == protocol::Side::Buy ? s.bid : s.ask;
  }

private:
  struct SymbolState {
    SideQuote bid;
    SideQuote ask;
    bool placed = false;            // lastPlacedTs is meaningful
    std::uint64_t lastPlacedTs = 0; // md timestamp of the last placement
  };

  // Whether a live quote is out of date: the mid moved requote_ticks, or the position (and so
  // the skew) changed since it was sent.
  [[nodiscard]] bool stale(const SideQuote& q, std::int64_t mid,
                           std::int64_t position) const noexcept {
    const std::int64_t move = mid >= q.placedMid ? mid - q.placedMid : q.placedMid - mid;
    return move / params_.tickSize >= std::int64_t{params_.requoteTicks} ||
           position != q.placedPosition;
  }

  template <OrderGateway G>
  bool place(SideQuote& q, protocol::Side side, std::uint32_t symbolId, std::int64_t price,
             std::uint32_t qty, const BookUpdate& u, std::int64_t mid, G& gateway) noexcept {
    OrderIntent intent;
    intent.symbolId = symbolId;
    intent.side = side;
    intent.tif = protocol::Tif::Day;
    intent.price = price;
    intent.qty = qty;
    intent.mdTimestamp = u.mdTimestamp;
    const std::uint64_t id = gateway.send(intent);
    if (id == 0)
      return false;
    q = SideQuote{QuoteState::Pending, id, price, mid, u.position};
    ++quotesSent_;
    return true;
  }

  MarketMakerParams params_;
  std::uint64_t quotesSent_ = 0;
  std::uint64_t requotes_ = 0;
  std::uint64_t throttled_ = 0;
  std::unique_ptr<SymbolState[]> symbols_; // [book::kMaxSymbols]
};

template <OrderGateway G> void MarketMaker::onBookUpdate(const BookUpdate& u, G& gateway) noexcept {
  if (!book::isTradableSymbol(u.symbolId) || !u.book.hasBothSides())
    return; // no mid to quote around
  SymbolState& s = symbols_[u.symbolId];
  const std::int64_t mid = u.book.mid();
  const Quotes want =
      computeQuotes(params_, u.book.bestBid().price, u.book.bestAsk().price, u.position);

  // A side at its limit is pulled at once, whatever the interval: it only lowers risk.
  bool acted = false;
  auto pull = [&](SideQuote& q) noexcept {
    if (q.state != QuoteState::None && gateway.cancel(q.clOrdId)) {
      q = SideQuote{};
      acted = true;
    }
  };
  if (!want.bid)
    pull(s.bid);
  if (!want.ask)
    pull(s.ask);

  // Pending or live alike: whether the ack has come yet is a matter of timing, and a decision
  // that waited for it would differ between two replays of the same frames.
  const bool bidNeeds =
      want.bid && (s.bid.state == QuoteState::None || stale(s.bid, mid, u.position));
  const bool askNeeds =
      want.ask && (s.ask.state == QuoteState::None || stale(s.ask, mid, u.position));
  if (!bidNeeds && !askNeeds)
    return;
  // The rate limit, on the exchange's clock (the frames' timestamps), not this host's: a
  // replay of the same frames, stamped alike, decides alike.
  if (s.placed && u.mdTimestamp - s.lastPlacedTs < params_.minRequoteNs) {
    ++throttled_;
    return;
  }
  auto replace = [&](SideQuote& q, bool needs, protocol::Side side, std::int64_t price,
                     std::uint32_t qty) noexcept {
    if (!needs)
      return;
    if (q.state != QuoteState::None) {
      // Cancel first: the old quote's qty is still counted against the risk limits until the
      // exchange confirms, so the replacement is checked against the worst case.
      if (!gateway.cancel(q.clOrdId))
        return; // not cancelable now (ring full): keep it and try on a later update
      q = SideQuote{};
      ++requotes_;
      acted = true;
    }
    // An attempt starts the interval whatever risk decides, so a refused quote (kill switch,
    // a limit) is retried once per interval, not on every update.
    (void)place(q, side, u.symbolId, price, qty, u, mid, gateway);
    acted = true;
  };
  replace(s.bid, bidNeeds, protocol::Side::Buy, want.bidPrice, want.bidQty);
  replace(s.ask, askNeeds, protocol::Side::Sell, want.askPrice, want.askQty);
  if (acted) {
    s.placed = true;
    s.lastPlacedTs = u.mdTimestamp;
  }
}

template <OrderGateway G>
void MarketMaker::onExecution(const protocol::ExecutionReport& r, std::int64_t, G&) noexcept {
  if (!book::isTradableSymbol(r.symbolId))
    return;
  SymbolState& s = symbols_[r.symbolId];
  SideQuote* q = s.bid.clOrdId == r.clOrdId   ? &s.bid
                 : s.ask.clOrdId == r.clOrdId ? &s.ask
                                              : nullptr;
  if (q == nullptr || r.clOrdId == 0)
    return; // a quote already replaced (its cancel's answer, or a last fill): forgotten
  switch (static_cast<protocol::ExecType>(r.execType)) {
  case protocol::ExecType::New:
  case protocol::ExecType::PartialFill: q->state = QuoteState::Live; break;
  case protocol::ExecType::Fill:
  case protocol::ExecType::Canceled:
  case protocol::ExecType::Rejected:
  case protocol::ExecType::Expired: *q = SideQuote{}; break;
  case protocol::ExecType::CancelRejected: break; // we cancel only forgotten quotes
  }
}

} // namespace hft::strategy

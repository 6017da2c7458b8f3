// SPDX-License-Identifier: MIT
// The exchange's order handling and fill model.
#include "exchange-sim/matching/matching_engine.h"

#include <algorithm>
#include <cassert>

namespace hft::matching {

using protocol::ExecType;
using protocol::RejectReason;

namespace {

constexpr std::uint64_t kThrottleWindowNs = 1'000'000'000;

[[nodiscard]] bool isBuy(std::uint8_t side) noexcept {
  return side == static_cast<std::uint8_t>(protocol::Side::Buy);
}

} // namespace

MatchingEngine::MatchingEngine(const MatchingParams& params, const market::MarketModel& market,
                               ReportSink& sink)
    : params_(params), market_(market), sink_(sink),
      // A stream apart from the market's: order flow must not change the ladders of a seed.
      rng_(params.seed ^ 0x6a09e667f3bcc909ULL), liquidity_(market.symbolCount()) {
  books_.reserve(params_.maxSessions);
  for (std::uint32_t i = 0; i < params_.maxSessions; ++i) {
    books_.push_back(SessionBook{{}, ClOrdIdMap(4096), 0, 0, false});
    books_.back().resting.reserve(params_.maxOpenOrders);
  }
  onTick();
}

void MatchingEngine::openSession(std::uint32_t session) noexcept {
  SessionBook& book = books_[session];
  book.resting.clear();
  book.ids.clear();
  book.throttleWindowStart = 0;
  book.throttleCount = 0;
  book.open = true;
}

std::uint32_t MatchingEngine::closeSession(std::uint32_t session) noexcept {
  SessionBook& book = books_[session];
  const auto canceled = static_cast<std::uint32_t>(book.resting.size());
  counters_.cancelsOnDisconnect += canceled;
  book.resting.clear();
  book.ids.clear();
  book.open = false;
  return canceled;
}

std::uint64_t MatchingEngine::restingOrdersTotal() const noexcept {
  std::uint64_t n = 0;
  for (const auto& book : books_)
    n += book.resting.size();
  return n;
}

protocol::ExecutionReport MatchingEngine::report(std::uint64_t clOrdId, std::uint64_t orderId,
                                                 std::uint32_t symbolId, ExecType type,
                                                 std::uint8_t side, std::int64_t price) noexcept {
  protocol::ExecutionReport r{};
  r.clOrdId = clOrdId;
  r.orderId = orderId;
  r.execId = nextExecId_++;
  r.symbolId = symbolId;
  r.execType = static_cast<std::uint8_t>(type);
  r.side = side;
  r.price = price;
  return r;
}

void MatchingEngine::send(std::uint32_t session, const protocol::ExecutionReport& r) noexcept {
  ++counters_.executionReports;
  sink_.onExecutionReport(session, r);
}

void MatchingEngine::rejectOrder(std::uint32_t session, const protocol::NewOrder& order,
                                 RejectReason reason) noexcept {
  ++counters_.orders;
  reject(session, order, reason);
}

void MatchingEngine::rejectCancel(std::uint32_t session, const protocol::CancelOrder& cancel,
                                  RejectReason reason) noexcept {
  ++counters_.cancelRequests;
  cancelReject(session, cancel, reason);
}

void MatchingEngine::reject(std::uint32_t session, const protocol::NewOrder& order,
                            RejectReason reason) noexcept {
  ++counters_.rejects;
  ++counters_.rejectsByReason[reasonIndex(reason)];
  auto r = report(order.clOrdId, 0, order.symbolId, ExecType::Rejected, order.side, order.price);
  r.rejectReason = static_cast<std::uint8_t>(reason);
  send(session, r);
}

void MatchingEngine::cancelReject(std::uint32_t session, const protocol::CancelOrder& cancel,
                                  RejectReason reason) noexcept {
  ++counters_.cancelRejects;
  ++counters_.cancelRejectsByReason[reasonIndex(reason)];
  auto r = report(cancel.clOrdId, 0, cancel.symbolId, ExecType::CancelRejected, 0, 0);
  r.rejectReason = static_cast<std::uint8_t>(reason);
  send(session, r);
}

bool MatchingEngine::throttled(SessionBook& book, std::uint64_t nowNs) noexcept {
  if (params_.maxOrdersPerSec == 0)
    return false;
  // A fixed one-second window: cheap, and exact enough for a simulator's rate limit.
  if (book.throttleCount == 0 || nowNs - book.throttleWindowStart >= kThrottleWindowNs) {
    book.throttleWindowStart = nowNs;
    book.throttleCount = 0;
  }
  return ++book.throttleCount > params_.maxOrdersPerSec;
}

void MatchingEngine::newOrder(std::uint32_t session, const protocol::NewOrder& order,
                              std::uint64_t nowNs) noexcept {
  ++counters_.orders;
  SessionBook& book = books_[session];
  assert(book.open);
  if (throttled(book, nowNs))
    return reject(session, order, RejectReason::Throttled);
  if (order.clOrdId == 0 || book.ids.find(order.clOrdId) != nullptr)
    return reject(session, order, RejectReason::DuplicateClOrdId);
  if (order.side > 1 || order.tif > 1)
    return reject(session, order, RejectReason::InvalidSideOrTif);
  if (!market_.validSymbol(order.symbolId))
    return reject(session, order, RejectReason::UnknownSymbol);
  if (order.price <= 0)
    return reject(session, order, RejectReason::InvalidPrice);
  if (order.qty == 0 || order.qty > params_.maxOrderQty)
    return reject(session, order, RejectReason::InvalidQuantity);
  const bool day = order.tif == static_cast<std::uint8_t>(protocol::Tif::Day);
  // A DAY order may rest, so it needs a free slot in the session's table.
  if (day && book.resting.size() >= params_.maxOpenOrders)
    return reject(session, order, RejectReason::Other);

  RestingOrder o{order.clOrdId, nextOrderId_++, order.price, order.symbolId, order.qty, 0,
                 order.side};
  book.ids.insert(o.clOrdId, ClOrdIdMap::kNotResting);
  ++counters_.ordersAccepted;
  auto ack = report(o.clOrdId, o.orderId, o.symbolId, ExecType::New, o.side, o.price);
  ack.leavesQty = o.qty;
  send(session, ack);

  const market::Ladder& ladder = market_.ladder(o.symbolId);
  const bool marketable = isBuy(o.side) ? o.price >= ladder.bestAsk() : o.price <= ladder.bestBid();
  if (marketable) {
    ++counters_.ordersMarketable;
    // One draw per marketable order, whatever the ladder holds.
    if (rng_.chance(params_.fillProbPercent) && take(session, o, true) > 0)
      ++counters_.ordersFilled;
  }
  if (o.cumQty == o.qty)
    return;
  if (!day) {
    ++counters_.expired;
    auto r = report(o.clOrdId, o.orderId, o.symbolId, ExecType::Expired, o.side, o.price);
    r.cumQty = o.cumQty;
    send(session, r);
    return;
  }
  ++counters_.rested;
  // Joins the back of its price level: behind everything displayed there now.
  o.ahead = static_cast<std::uint32_t>(std::max<std::int64_t>(displayedAt(o), 0));
  book.ids.at(o.clOrdId) = static_cast<std::uint32_t>(book.resting.size());
  book.resting.push_back(o); // within the capacity reserved at start-up
}

std::uint32_t MatchingEngine::take(std::uint32_t session, RestingOrder& o,
                                   bool atLevelPrices) noexcept {
  const market::Ladder& ladder = market_.ladder(o.symbolId);
  Liquidity& liq = liquidity_[o.symbolId - 1];
  const bool buy = isBuy(o.side);
  const auto& levels = buy ? ladder.asks : ladder.bids;
  auto& available = buy ? liq.asks : liq.bids;
  std::uint32_t taken = 0;
  for (std::uint32_t i = 0; i < ladder.depth && o.cumQty < o.qty; ++i) {
    const std::int64_t px = levels[i].price;
    if (buy ? px > o.price : px < o.price)
      break;
    if (!atLevelPrices && o.ahead > 0) {
      if (px != o.price) {
        o.ahead = 0; // the market traded through the order's price: its whole queue went
      } else {
        // Trading at the order's price meets the queue ahead of it first.
        const std::uint32_t c = std::min(o.ahead, available[i]);
        available[i] -= c;
        o.ahead -= c;
      }
    }
    const std::uint32_t q = std::min(o.qty - o.cumQty, available[i]);
    if (q == 0)
      continue;
    available[i] -= q;
    o.cumQty += q;
    taken += q;
    if (atLevelPrices) {
      auto r = report(o.clOrdId, o.orderId, o.symbolId,
                      o.cumQty == o.qty ? ExecType::Fill : ExecType::PartialFill, o.side, o.price);
      r.lastPx = px;
      r.lastQty = q;
      r.cumQty = o.cumQty;
      r.leavesQty = o.qty - o.cumQty;
      ++counters_.fills;
      counters_.partialFills += r.leavesQty != 0;
      send(session, r);
    }
  }
  if (!atLevelPrices && taken > 0) {
    // A resting order is the passive side: it trades at its own limit.
    auto r = report(o.clOrdId, o.orderId, o.symbolId,
                    o.cumQty == o.qty ? ExecType::Fill : ExecType::PartialFill, o.side, o.price);
    r.lastPx = o.price;
    r.lastQty = taken;
    r.cumQty = o.cumQty;
    r.leavesQty = o.qty - o.cumQty;
    ++counters_.fills;
    ++counters_.restingFills;
    counters_.partialFills += r.leavesQty != 0;
    send(session, r);
  }
  counters_.filledQty += taken;
  return taken;
}

std::int64_t MatchingEngine::displayedAt(const RestingOrder& o) const noexcept {
  const market::Ladder& ladder = market_.ladder(o.symbolId);
  const auto& own = isBuy(o.side) ? ladder.bids : ladder.asks;
  for (std::uint32_t i = 0; i < ladder.depth; ++i)
    if (own[i].price == o.price)
      return own[i].qty;
  return -1;
}

void MatchingEngine::removeResting(SessionBook& book, std::size_t index) noexcept {
  book.ids.at(book.resting[index].clOrdId) = ClOrdIdMap::kNotResting;
  if (index + 1 != book.resting.size()) {
    book.resting[index] = book.resting.back();
    book.ids.at(book.resting[index].clOrdId) = static_cast<std::uint32_t>(index);
  }
  book.resting.pop_back();
}

void MatchingEngine::cancelOrder(std::uint32_t session,
                                 const protocol::CancelOrder& cancel) noexcept {
  ++counters_.cancelRequests;
  SessionBook& book = books_[session];
  if (!market_.validSymbol(cancel.symbolId))
    return cancelReject(session, cancel, RejectReason::UnknownSymbol);
  const std::uint32_t* slot = cancel.clOrdId == 0 ? nullptr : book.ids.find(cancel.clOrdId);
  if (slot == nullptr || *slot == ClOrdIdMap::kNotResting ||
      book.resting[*slot].symbolId != cancel.symbolId)
    return cancelReject(session, cancel, RejectReason::UnknownOrder);
  const std::uint32_t index = *slot;
  const RestingOrder& o = book.resting[index];
  ++counters_.cancels;
  auto r = report(o.clOrdId, o.orderId, o.symbolId, ExecType::Canceled, o.side, o.price);
  r.cumQty = o.cumQty;
  send(session, r);
  removeResting(book, index);
}

void MatchingEngine::onTick() noexcept {
  for (std::uint32_t s = 1; s <= market_.symbolCount(); ++s) {
    const market::Ladder& ladder = market_.ladder(s);
    Liquidity& liq = liquidity_[s - 1];
    for (std::uint32_t i = 0; i < ladder.depth; ++i) {
      liq.bids[i] = ladder.bids[i].qty;
      liq.asks[i] = ladder.asks[i].qty;
    }
  }
  for (std::uint32_t session = 0; session < books_.size(); ++session) {
    SessionBook& book = books_[session];
    for (std::size_t i = 0; i < book.resting.size();) {
      RestingOrder& o = book.resting[i];
      const market::Ladder& ladder = market_.ladder(o.symbolId);
      // Displayed quantity at our price can only shrink from ahead of us (traded or canceled);
      // what is added joins behind. Not displayed (the market moved away): unchanged.
      if (const std::int64_t shown = displayedAt(o); shown >= 0)
        o.ahead = std::min(o.ahead, static_cast<std::uint32_t>(shown));
      const bool through =
          isBuy(o.side) ? ladder.bestAsk() <= o.price : ladder.bestBid() >= o.price;
      const bool firstFill = o.cumQty == 0;
      if (through && take(session, o, false) > 0) {
        counters_.ordersFilled += firstFill;
        if (o.cumQty == o.qty) {
          removeResting(book, i); // the last order moved here: look at index i again
          continue;
        }
      }
      ++i;
    }
  }
}

} // namespace hft::matching

// SPDX-License-Identifier: MIT
// The engine's strategy::OrderGateway, where a decision becomes an order: every new order a
// strategy emits passes the pre-trade risk checks and the journal guard and gets its
// cl_ord_id; every cancel must name a live order of ours. Then it leaves: with
// layout = run_to_completion straight through the OrderExit (order_exit.h), encoded and
// written in this call; with the pipeline through the orders ring to the network thread.
// Built on the stack for one event.
#pragma once

#include <cstdint>

#include "daemon/book/order_book.h"
#include "daemon/engine/order_exit.h"
#include "daemon/engine/shared_state.h"
#include "daemon/order/order_manager.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/strategy.h"
#include "libhft/core/stamp_clock.h"

namespace hft::engine {

// The path that led to the event being handled, for the latency record of an order it sends.
struct EventStamps {
  std::uint64_t rxNs = 0;      // CLOCK_REALTIME when the frame was read (0: not a frame)
  std::uint64_t decodedNs = 0; // ... when it was decoded
  std::uint64_t bookStamp = 0; // core::stamp() when the book was updated
  std::uint64_t nowNs = 0;     // the monotonic clock risk's rate window runs on
};

class OrderGateway {
public:
  OrderGateway(SharedState& shared, order::OrderManager& orders, risk::RiskChecker& risk,
               const book::BookSet& books, const core::RealtimeAnchor& clock,
               const EventStamps& stamps, OrderExit* exit) noexcept
      : shared_(shared), orders_(orders), risk_(risk), books_(books), clock_(clock),
        stamps_(stamps), exit_(exit) {}

  [[nodiscard]] std::uint64_t send(const risk::OrderIntent& intent) noexcept {
    return submit(intent, false);
  }

  // send()'s own code for `intent`, run to just before each effect and stopped there: risk's
  // verdict is computed but not counted, no cl_ord_id is taken, nothing is recorded, sent,
  // queued or logged; what the effects would write is prefetched instead. Orders are rare
  // (tens of milliseconds apart with the default strategy) and the busy loop's system calls
  // evict their code and data in between, so the frame that trades found them cold:
  // StrategyWorker::service calls this between frames ([engine] warm_interval_us). The same
  // instructions as a real order (submit() is not inlined into either caller), so the
  // instruction cache and the branch predictor are warmed too. Returns the verdict.
  [[nodiscard]] risk::RiskResult warm(const risk::OrderIntent& intent) noexcept {
    (void)submit(intent, true);
    return warmVerdict_;
  }

  // No risk limit applies to a cancel: each bounds exposure, and a cancel only lowers it (the
  // kill switch itself cancels). An order not acknowledged yet may be canceled: the exchange
  // reads the connection in order, so it has the NEW_ORDER first (a rejected one makes the
  // cancel a cancel reject, which the order table takes as too late).
  [[nodiscard]] bool cancel(std::uint64_t clOrdId) noexcept {
    const order::Order* o = orders_.find(clOrdId);
    if (o == nullptr || order::isTerminal(o->state) || o->state == order::OrderState::PendingCancel)
      return false;
    const bool direct = exit_ != nullptr && shared_.orders.size() == 0;
    OrderCommand* queued = direct ? nullptr : shared_.orders.claim();
    if (!direct && !queued) {
      bump(shared_.strategy.outboundDrops);
      return false;
    }
    const std::uint32_t symbolId = o->symbolId;
    if (!orders_.markCancelSent(clOrdId))
      return false;
    OrderCommand cmd{};
    cmd.kind = OrderCommand::Kind::Cancel;
    cmd.clOrdId = clOrdId;
    cmd.symbolId = symbolId;
    leave(cmd, queued);
    return true;
  }

private:
  // One body for send() and warm(); `warm` skips every effect (see warm()). Out of line: the
  // two callers then run the very same instructions.
  [[gnu::noinline]] std::uint64_t submit(const risk::OrderIntent& intent, bool warm) noexcept {
    if (!shared_.tradingEnabled.load(std::memory_order_acquire))
      return 0; // not trading (session starting or stopping): nothing leaves
    const book::OrderBook* book = books_.find(intent.symbolId);
    const std::int64_t mid = book ? book->mid() : 0;
    const std::int64_t position = orders_.positions().position(intent.symbolId);
    const auto verdict =
        risk_.evaluate(intent, position, orders_.openQty(intent.symbolId, protocol::Side::Buy),
                       orders_.openQty(intent.symbolId, protocol::Side::Sell), orders_.openOrders(),
                       mid, stamps_.nowNs);
    warmVerdict_ = verdict;
    if (!warm)
      risk_.countVerdict(verdict);
    if (verdict != risk::RiskResult::Accepted) {
      if (warm)
        return 0;
      bump(shared_.strategy.riskRejects);
      log(LogEvent::Kind::RiskReject, static_cast<std::uint64_t>(verdict), intent.symbolId);
      return 0;
    }
    if (shared_.journalRingLow.load(std::memory_order_relaxed) ||
        shared_.recordsHalted.load(std::memory_order_relaxed)) {
      // The journal must stay complete: no order whose reports it might not be able to keep.
      if (!warm)
        bump(shared_.strategy.ordersHeld);
      return 0;
    }
    // Written here unless commands wait in the ring (they go first: the wire keeps the order).
    const bool direct = exit_ != nullptr && shared_.orders.size() == 0;
    OrderCommand* queued = nullptr;
    if (!direct) {
      if (warm) {
        shared_.orders.prefetchClaim();
      } else if ((queued = shared_.orders.claim()) == nullptr) {
        bump(shared_.strategy.outboundDrops);
        return 0;
      }
    }
    std::uint64_t clOrdId = 0;
    if (warm) {
      orders_.prefetchNextOrder(intent.symbolId);
    } else {
      clOrdId = orders_.nextClOrdId();
      if (!orders_.onOrderSent(clOrdId, intent, stamps_.nowNs))
        return 0; // no free slot (the claimed ring slot is simply not published)
      risk_.onOrderSent(stamps_.nowNs);
    }
    const std::uint64_t decidedStamp = core::stamp();
    // An order no frame led to (a timer, a report) has no wire stages: they read as 0.
    const std::uint64_t bookNs =
        clock_.realtimeNs(stamps_.bookStamp ? stamps_.bookStamp : decidedStamp);
    const OrderCommand cmd{OrderCommand::Kind::NewOrder,
                           clOrdId,
                           intent.symbolId,
                           intent.side,
                           intent.tif,
                           intent.price,
                           intent.qty,
                           intent.mdTimestamp,
                           stamps_.rxNs ? stamps_.rxNs : bookNs,
                           stamps_.decodedNs ? stamps_.decodedNs : bookNs,
                           bookNs,
                           clock_.realtimeNs(decidedStamp)};
    if (warm) {
      if (direct)
        exit_->warm(cmd);
      return 0;
    }
    leave(cmd, queued);
    return clOrdId;
  }

  // `queued`: the ring slot claimed for it, or null to write it now.
  void leave(const OrderCommand& cmd, OrderCommand* queued) noexcept {
    if (queued == nullptr) {
      if (exit_->write(cmd) != OrderExit::Write::SocketFull)
        return;
      // The socket is full: the ring was empty, so it has room; the loop retries from there.
      queued = shared_.orders.claim();
      if (queued == nullptr) {
        bump(shared_.strategy.outboundDrops);
        return;
      }
    }
    *queued = cmd;
    shared_.orders.publish();
    shared_.networkParker.notify();
  }

  void log(LogEvent::Kind kind, std::uint64_t a, std::uint64_t b) noexcept {
    if (!shared_.strategyLog.tryPush(LogEvent{kind, a, b, 0, 0}))
      bump(shared_.strategy.logDrops);
  }

  SharedState& shared_;
  order::OrderManager& orders_;
  risk::RiskChecker& risk_;
  const book::BookSet& books_;
  const core::RealtimeAnchor& clock_;
  const EventStamps& stamps_;
  OrderExit* exit_; // run to completion: where orders are written; null: the ring
  risk::RiskResult warmVerdict_ = risk::RiskResult::Accepted; // the last submit()'s
};

static_assert(strategy::OrderGateway<OrderGateway>);

} // namespace hft::engine

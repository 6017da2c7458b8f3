// SPDX-License-Identifier: MIT
// Our live orders by cl_ord_id: state machine, open quantities and positions from reports.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "daemon/book/order_book.h"
#include "daemon/order/position_book.h"
#include "daemon/risk/order_intent.h"
#include "libhft/protocol/reject_reasons.h"
#include "libhft/protocol/wire.h"

namespace hft::order {

using risk::OrderIntent;

// PendingNew -> New -> PartiallyFilled -> Filled | Canceled | Rejected | Expired, with
// PendingCancel between a cancel we sent and its answer (a cancel reject goes back).
enum class OrderState : std::uint8_t {
  PendingNew,
  New,
  PartiallyFilled,
  PendingCancel,
  Filled,
  Canceled,
  Rejected,
  Expired,
};
[[nodiscard]] constexpr bool isTerminal(OrderState state) noexcept {
  return state >= OrderState::Filled;
}
[[nodiscard]] std::string_view describe(OrderState state) noexcept;

// What onExecutionReport() did with a report.
enum class ReportOutcome : std::uint8_t {
  Applied,      // state, open quantities and positions updated
  UnknownOrder, // no order of ours has this cl_ord_id (or its slot has been reused)
  Duplicate,    // an exec_id this order has already seen
  Inconsistent, // breaks the spec (cum/leaves mismatch, overfill, fill beyond the limit, a
                // transition the state does not allow): changes nothing; the engine should stop
                // trading, as our positions may no longer match the exchange's
};
[[nodiscard]] std::string_view describe(ReportOutcome outcome) noexcept;

struct Order {
  std::uint64_t clOrdId = 0; // 0: slot never used
  std::uint64_t orderId = 0; // the exchange's, from the first report that carries one
  std::uint64_t lastExecId = 0;
  std::uint64_t sentNs = 0;
  std::uint64_t mdTimestamp = 0;
  std::int64_t price = 0;
  std::uint32_t symbolId = 0;
  std::uint32_t qty = 0;
  std::uint32_t cumQty = 0;
  std::uint32_t leavesQty = 0;
  protocol::Side side = protocol::Side::Buy;
  protocol::Tif tif = protocol::Tif::Ioc;
  OrderState state = OrderState::PendingNew;
  OrderState beforeCancel = OrderState::PendingNew; // where a cancel reject returns to
  protocol::RejectReason rejectReason = protocol::RejectReason::None; // of the last reject
};

// Single writer (the strategy thread); publish copies for other threads.
struct OrderCounters {
  std::uint64_t sent = 0;
  std::uint64_t refused = 0; // onOrderSent() refusals (table slot busy, bad id or symbol)
  std::uint64_t cancelsSent = 0;
  std::uint64_t acks = 0;
  std::uint64_t partialFills = 0;
  std::uint64_t fills = 0;
  std::uint64_t rejects = 0;
  // rejects by reject_reason, in the slots of protocol::kRejectReasons: they add up to rejects.
  std::array<std::uint64_t, protocol::kRejectReasonSlots> rejectsByReason{};
  std::uint64_t cancels = 0;
  std::uint64_t expired = 0;
  std::uint64_t cancelRejects = 0;
  std::uint64_t unknown = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t inconsistent = 0;
  std::uint64_t closedBySession = 0; // live orders taken as canceled by onSessionClosed()
};

class OrderManager {
public:
  // Live orders at once; a slot is cl_ord_id & (kCapacity - 1).
  static constexpr std::size_t kCapacity = 4096;
  static_assert((kCapacity & (kCapacity - 1)) == 0, "slots are indexed with a mask");

  OrderManager();
  OrderManager(const OrderManager&) = delete;
  OrderManager& operator=(const OrderManager&) = delete;

  // The next cl_ord_id (increasing from 1) whose slot is free, skipping ids whose slot still
  // holds a live order; 0 when every slot is live.
  [[nodiscard]] std::uint64_t nextClOrdId() noexcept;
  // Brings the slot and the open-quantity entry the next order of `symbolId` will write into
  // this core's cache; changes nothing (OrderGateway::warm).
  void prefetchNextOrder(std::uint32_t symbolId) const noexcept {
    __builtin_prefetch(&orders_[nextId_ & kMask], 1, 3);
    if (book::isTradableSymbol(symbolId))
      __builtin_prefetch(&openQty_[symbolId], 1, 3);
  }

  // Records an order written (or about to be written) to the exchange: PendingNew, its qty
  // open. Refuses an id of 0, an id whose slot holds a live order or that was used already, a
  // symbol without a slot and a zero qty.
  [[nodiscard]] bool onOrderSent(std::uint64_t clOrdId, const OrderIntent& intent,
                                 std::uint64_t nowNs) noexcept;

  // Records a CANCEL_ORDER sent: PendingCancel. False when the order is unknown, done or
  // already pending cancel (then sending the cancel is pointless).
  [[nodiscard]] bool markCancelSent(std::uint64_t clOrdId) noexcept;

  [[nodiscard]] ReportOutcome onExecutionReport(const protocol::ExecutionReport& report) noexcept;

  // The connection closed: the exchange cancels every resting order of the session (rule 4),
  // so every live order is taken as canceled. An order still PendingNew may have filled before
  // the close; that fill is lost to us, which is why the engine reconciles positions on logon.
  void onSessionClosed() noexcept;

  // Calls f(const Order&) for every live order (not terminal; PendingCancel included).
  // Scans the table: for the kill switch and status, not for every event.
  template <typename F> void forEachOpen(F&& f) const {
    std::uint32_t left = open_;
    for (std::size_t i = 0; i < kCapacity && left != 0; ++i) {
      const Order& o = orders_[i];
      if (o.clOrdId != 0 && !isTerminal(o.state)) {
        --left;
        f(o);
      }
    }
  }

  [[nodiscard]] std::uint32_t openOrders() const noexcept { return open_; }
  // Leaves of the live orders of one symbol and side.
  [[nodiscard]] std::int64_t openQty(std::uint32_t symbolId, protocol::Side side) const noexcept {
    return book::isTradableSymbol(symbolId) ? openQty_[symbolId][static_cast<std::size_t>(side)]
                                            : 0;
  }
  // The order with this id while its slot holds it (live or done), else nullptr.
  [[nodiscard]] const Order* find(std::uint64_t clOrdId) const noexcept {
    const Order& o = orders_[clOrdId & kMask];
    return clOrdId != 0 && o.clOrdId == clOrdId ? &o : nullptr;
  }
  [[nodiscard]] const OrderCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const PositionBook& positions() const noexcept { return positions_; }

private:
  static constexpr std::uint64_t kMask = kCapacity - 1;

  [[nodiscard]] Order* findLive(std::uint64_t clOrdId) noexcept;
  [[nodiscard]] ReportOutcome applyFill(Order& o, const protocol::ExecutionReport& r,
                                        bool complete) noexcept;
  void finish(Order& o, OrderState state) noexcept;
  // Where an ack or fill moves the order: PendingCancel stays, recording the new base state.
  static void advance(Order& o, OrderState state) noexcept {
    if (o.state == OrderState::PendingCancel)
      o.beforeCancel = state;
    else
      o.state = state;
  }
  // The state the order is in if no cancel were pending.
  [[nodiscard]] static OrderState baseState(const Order& o) noexcept {
    return o.state == OrderState::PendingCancel ? o.beforeCancel : o.state;
  }
  std::int64_t& openQtyOf(const Order& o) noexcept {
    return openQty_[o.symbolId][static_cast<std::size_t>(o.side)];
  }

  std::unique_ptr<Order[]> orders_; // [kCapacity]
  std::uint64_t nextId_ = 1;
  std::uint64_t lowestNewId_ = 1; // ids must increase: onOrderSent() refuses one below
  std::uint32_t open_ = 0;
  std::array<std::array<std::int64_t, 2>, book::kMaxSymbols> openQty_{}; // [symbol][side]
  OrderCounters counters_;
  PositionBook positions_;
};

} // namespace hft::order

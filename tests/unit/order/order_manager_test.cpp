// SPDX-License-Identifier: MIT
// OrderManager: the order state machine for every report type, open quantities and positions.
#include <doctest/doctest.h>

#include <vector>

#include "daemon/order/order_manager.h"

using namespace hft::order;
using hft::protocol::ExecType;
using hft::protocol::ExecutionReport;
using hft::protocol::RejectReason;
using hft::protocol::Side;
using hft::protocol::Tif;

namespace {

constexpr std::uint32_t kSymbol = 2;
constexpr std::int64_t kPrice = 1000200;

OrderIntent intent(Side side = Side::Buy, std::uint32_t qty = 10, Tif tif = Tif::Ioc) {
  return {kSymbol, side, tif, kPrice, qty, 777};
}

// Builds reports for one order with increasing exec ids, as the exchange would.
class Exchange {
public:
  explicit Exchange(std::uint64_t clOrdId, Side side = Side::Buy)
      : clOrdId_(clOrdId), side_(side) {}

  ExecutionReport report(ExecType type, std::uint32_t lastQty, std::int64_t lastPx,
                         std::uint32_t cum, std::uint32_t leaves,
                         RejectReason reason = RejectReason::None) {
    ExecutionReport r{};
    r.clOrdId = clOrdId_;
    r.orderId = type == ExecType::Rejected ? 0 : 5000 + clOrdId_;
    r.execId = ++execId_;
    r.symbolId = kSymbol;
    r.execType = static_cast<std::uint8_t>(type);
    r.side = static_cast<std::uint8_t>(side_);
    r.rejectReason = static_cast<std::uint8_t>(reason);
    r.price = kPrice;
    r.lastPx = lastPx;
    r.lastQty = lastQty;
    r.cumQty = cum;
    r.leavesQty = leaves;
    return r;
  }
  ExecutionReport ack(std::uint32_t qty = 10) { return report(ExecType::New, 0, 0, 0, qty); }

private:
  std::uint64_t clOrdId_;
  Side side_;
  static inline std::uint64_t execId_ = 0; // unique across the whole test program
};

std::uint64_t send(OrderManager& om, const OrderIntent& i = intent()) {
  const std::uint64_t id = om.nextClOrdId();
  REQUIRE(id != 0);
  REQUIRE(om.onOrderSent(id, i, 123));
  return id;
}

} // namespace

TEST_CASE("OrderManager: ids increase from 1 and a sent order is PendingNew with its qty open") {
  OrderManager om;
  CHECK(om.nextClOrdId() == 1);
  CHECK(om.nextClOrdId() == 2);
  REQUIRE(om.onOrderSent(2, intent(Side::Sell, 7), 55));
  const Order* o = om.find(2);
  REQUIRE(o != nullptr);
  CHECK(o->state == OrderState::PendingNew);
  CHECK(o->qty == 7);
  CHECK(o->leavesQty == 7);
  CHECK(o->mdTimestamp == 777);
  CHECK(o->sentNs == 55);
  CHECK(om.openOrders() == 1);
  CHECK(om.openQty(kSymbol, Side::Sell) == 7);
  CHECK(om.openQty(kSymbol, Side::Buy) == 0);
  CHECK(om.counters().sent == 1);
  CHECK(om.nextClOrdId() == 3);
}

TEST_CASE("OrderManager: a reused, zero or lower id, a bad symbol and a zero qty are refused") {
  OrderManager om;
  const std::uint64_t id = send(om);
  CHECK_FALSE(om.onOrderSent(id, intent(), 0));
  CHECK_FALSE(om.onOrderSent(0, intent(), 0));
  OrderIntent bad = intent();
  bad.symbolId = 0;
  CHECK_FALSE(om.onOrderSent(om.nextClOrdId(), bad, 0));
  bad.symbolId = 300;
  CHECK_FALSE(om.onOrderSent(om.nextClOrdId(), bad, 0));
  CHECK_FALSE(om.onOrderSent(om.nextClOrdId(), intent(Side::Buy, 0), 0));
  REQUIRE(om.onOrderSent(10, intent(), 0));
  CHECK_FALSE(om.onOrderSent(9, intent(), 0));
  CHECK(om.nextClOrdId() == 11);
  CHECK(om.counters().refused == 6);
  CHECK(om.openOrders() == 2);
}

TEST_CASE("OrderManager: ack then fill: New, then Filled, position and open qty follow") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::New);
  CHECK(om.find(id)->orderId == 5000 + id);
  CHECK(om.openQty(kSymbol, Side::Buy) == 10);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Fill, 10, 1000100, 10, 0)) ==
          ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Filled);
  CHECK(om.find(id)->cumQty == 10);
  CHECK(om.openOrders() == 0);
  CHECK(om.openQty(kSymbol, Side::Buy) == 0);
  CHECK(om.positions().position(kSymbol) == 10);
  CHECK(om.positions().averageEntryPrice(kSymbol) == 1000100);
  CHECK(om.counters().acks == 1);
  CHECK(om.counters().fills == 1);
}

TEST_CASE("OrderManager: partial fill then fill") {
  OrderManager om;
  const std::uint64_t id = send(om, intent(Side::Sell, 10));
  Exchange x(id, Side::Sell);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  REQUIRE(om.onExecutionReport(x.report(ExecType::PartialFill, 4, 1000300, 4, 6)) ==
          ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::PartiallyFilled);
  CHECK(om.find(id)->leavesQty == 6);
  CHECK(om.openQty(kSymbol, Side::Sell) == 6);
  CHECK(om.positions().position(kSymbol) == -4);
  CHECK(om.openOrders() == 1);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Fill, 6, 1000200, 10, 0)) ==
          ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Filled);
  CHECK(om.openQty(kSymbol, Side::Sell) == 0);
  CHECK(om.positions().position(kSymbol) == -10);
  // (4 x 100.03 + 6 x 100.02) / 10 = 100.024
  CHECK(om.positions().averageEntryPrice(kSymbol) == 1000240);
  CHECK(om.counters().partialFills == 1);
  CHECK(om.counters().fills == 1);
  CHECK(om.openOrders() == 0);
}

TEST_CASE("OrderManager: IOC partial fill then the remainder expires") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  REQUIRE(om.onExecutionReport(x.report(ExecType::PartialFill, 3, kPrice, 3, 7)) ==
          ReportOutcome::Applied);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Expired, 0, 0, 3, 0)) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Expired);
  CHECK(om.find(id)->leavesQty == 0);
  CHECK(om.openQty(kSymbol, Side::Buy) == 0);
  CHECK(om.openOrders() == 0);
  CHECK(om.positions().position(kSymbol) == 3);
  CHECK(om.counters().expired == 1);
}

TEST_CASE("OrderManager: cancel after a partial fill keeps the fill and closes the rest") {
  OrderManager om;
  const std::uint64_t id = send(om, intent(Side::Buy, 10, Tif::Day));
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  REQUIRE(om.onExecutionReport(x.report(ExecType::PartialFill, 2, kPrice, 2, 8)) ==
          ReportOutcome::Applied);
  REQUIRE(om.markCancelSent(id));
  CHECK(om.find(id)->state == OrderState::PendingCancel);
  CHECK_FALSE(om.markCancelSent(id)); // already pending
  CHECK(om.openOrders() == 1);
  // A fill can still land while the cancel travels.
  REQUIRE(om.onExecutionReport(x.report(ExecType::PartialFill, 1, kPrice, 3, 7)) ==
          ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::PendingCancel);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Canceled, 0, 0, 3, 0)) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Canceled);
  CHECK(om.find(id)->cumQty == 3);
  CHECK(om.openQty(kSymbol, Side::Buy) == 0);
  CHECK(om.openOrders() == 0);
  CHECK(om.positions().position(kSymbol) == 3);
  CHECK(om.counters().cancels == 1);
  CHECK(om.counters().cancelsSent == 1);
  CHECK_FALSE(om.markCancelSent(id)); // done
}

TEST_CASE("OrderManager: a reject before acceptance closes the order with its reason") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Rejected, 0, 0, 0, 0,
                                        RejectReason::InvalidPrice)) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Rejected);
  CHECK(om.find(id)->rejectReason == RejectReason::InvalidPrice);
  CHECK(om.openOrders() == 0);
  CHECK(om.openQty(kSymbol, Side::Buy) == 0);
  CHECK(om.positions().position(kSymbol) == 0);
  CHECK(om.counters().rejects == 1);
  CHECK(om.counters().rejectsByReason[1] == 1); // slot 1: invalid_price (code 2)
}

TEST_CASE("OrderManager: rejects are counted by reason; unknown codes count as other") {
  OrderManager om;
  const auto rejectWith = [&om](RejectReason reason) {
    const std::uint64_t id = send(om);
    Exchange x(id);
    REQUIRE(om.onExecutionReport(x.report(ExecType::Rejected, 0, 0, 0, 0, reason)) ==
            ReportOutcome::Applied);
  };
  rejectWith(RejectReason::Throttled);
  rejectWith(RejectReason::Throttled);
  rejectWith(RejectReason::NotLoggedOn);
  rejectWith(RejectReason::Other);
  rejectWith(static_cast<RejectReason>(42)); // not in the protocol
  rejectWith(RejectReason::None);            // 0: the protocol says it never comes
  const auto& c = om.counters();
  CHECK(c.rejects == 6);
  const auto slot = [&c](RejectReason reason) {
    return c.rejectsByReason[hft::protocol::rejectReasonSlot(static_cast<std::uint8_t>(reason))];
  };
  CHECK(slot(RejectReason::Throttled) == 2);
  CHECK(slot(RejectReason::NotLoggedOn) == 1);
  CHECK(slot(RejectReason::Other) == 3);
  CHECK(slot(RejectReason::UnknownSymbol) == 0);
  std::uint64_t sum = 0;
  for (const std::uint64_t n : c.rejectsByReason)
    sum += n;
  CHECK(sum == c.rejects);
}

TEST_CASE("OrderManager: a reject after the ack is inconsistent and changes nothing") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  CHECK(om.onExecutionReport(x.report(ExecType::Rejected, 0, 0, 0, 0, RejectReason::Other)) ==
        ReportOutcome::Inconsistent);
  CHECK(om.find(id)->state == OrderState::New);
  CHECK(om.openOrders() == 1);
  CHECK(om.counters().rejects == 0);
  CHECK(om.counters().rejectsByReason[hft::protocol::rejectReasonSlot(99)] == 0);
  CHECK(om.counters().inconsistent == 1);
}

TEST_CASE("OrderManager: a cancel reject returns the order to its state before the cancel") {
  OrderManager om;
  const std::uint64_t id = send(om, intent(Side::Buy, 10, Tif::Day));
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  REQUIRE(om.onExecutionReport(x.report(ExecType::PartialFill, 5, kPrice, 5, 5)) ==
          ReportOutcome::Applied);
  REQUIRE(om.markCancelSent(id));
  REQUIRE(om.onExecutionReport(x.report(ExecType::CancelRejected, 0, 0, 5, 5,
                                        RejectReason::Other)) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::PartiallyFilled);
  CHECK(om.find(id)->rejectReason == RejectReason::Other);
  CHECK(om.openOrders() == 1);
  CHECK(om.openQty(kSymbol, Side::Buy) == 5);
  CHECK(om.counters().cancelRejects == 1);
  // It can be canceled again.
  CHECK(om.markCancelSent(id));
}

TEST_CASE("OrderManager: a cancel that crosses the fill is rejected harmlessly") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  REQUIRE(om.markCancelSent(id));
  REQUIRE(om.onExecutionReport(x.report(ExecType::Fill, 10, kPrice, 10, 0)) ==
          ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Filled);
  // The exchange no longer knows the order: its cancel reject may carry only the id.
  ExecutionReport late = x.report(ExecType::CancelRejected, 0, 0, 0, 0, RejectReason::UnknownOrder);
  late.side = 0;
  late.symbolId = 0;
  CHECK(om.onExecutionReport(late) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Filled);
  CHECK(om.positions().position(kSymbol) == 10);
  CHECK(om.counters().cancelRejects == 1);
}

TEST_CASE("OrderManager: a cancel sent before the ack survives the ack") {
  OrderManager om;
  const std::uint64_t id = send(om, intent(Side::Buy, 10, Tif::Day));
  Exchange x(id);
  REQUIRE(om.markCancelSent(id));
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::PendingCancel);
  CHECK(om.find(id)->beforeCancel == OrderState::New);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Canceled, 0, 0, 0, 0)) == ReportOutcome::Applied);
  CHECK(om.find(id)->state == OrderState::Canceled);
}

TEST_CASE("OrderManager: a report for no order of ours is unknown") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange stranger(id + 1);
  CHECK(om.onExecutionReport(stranger.ack()) == ReportOutcome::UnknownOrder);
  Exchange zero(0);
  CHECK(om.onExecutionReport(zero.ack()) == ReportOutcome::UnknownOrder);
  // Same slot, other id.
  Exchange aliased(id + OrderManager::kCapacity);
  CHECK(om.onExecutionReport(aliased.ack()) == ReportOutcome::UnknownOrder);
  CHECK(om.counters().unknown == 3);
  CHECK(om.find(id)->state == OrderState::PendingNew);
}

TEST_CASE("OrderManager: a repeated report is a duplicate and applies once") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  const ExecutionReport partial = x.report(ExecType::PartialFill, 4, kPrice, 4, 6);
  REQUIRE(om.onExecutionReport(partial) == ReportOutcome::Applied);
  CHECK(om.onExecutionReport(partial) == ReportOutcome::Duplicate);
  const ExecutionReport fill = x.report(ExecType::Fill, 6, kPrice, 10, 0);
  REQUIRE(om.onExecutionReport(fill) == ReportOutcome::Applied);
  CHECK(om.onExecutionReport(fill) == ReportOutcome::Duplicate);
  CHECK(om.positions().position(kSymbol) == 10);
  CHECK(om.counters().duplicates == 2);
  CHECK(om.counters().partialFills == 1);
  CHECK(om.counters().fills == 1);
}

TEST_CASE("OrderManager: cum/leaves that do not add up are inconsistent and change nothing") {
  OrderManager om;
  const std::uint64_t id = send(om);
  Exchange x(id);
  // An ack with leaves other than the qty.
  CHECK(om.onExecutionReport(x.report(ExecType::New, 0, 0, 0, 9)) == ReportOutcome::Inconsistent);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  CHECK(om.onExecutionReport(x.ack()) == ReportOutcome::Inconsistent); // a second ack
  struct Case {
    const char* what;
    ExecType type;
    std::uint32_t last, cum, leaves;
    std::int64_t px;
  };
  const Case cases[] = {
      {"cum + leaves != qty", ExecType::PartialFill, 4, 4, 5, kPrice},
      {"cum != previous + last", ExecType::PartialFill, 4, 5, 5, kPrice},
      {"overfill", ExecType::Fill, 12, 12, 0, kPrice},
      {"fill with leaves", ExecType::Fill, 4, 4, 6, kPrice},
      {"partial with no leaves", ExecType::PartialFill, 10, 10, 0, kPrice},
      {"zero last qty", ExecType::PartialFill, 0, 0, 10, kPrice},
      {"buy filled above its limit", ExecType::PartialFill, 4, 4, 6, kPrice + 100},
      {"no fill price", ExecType::PartialFill, 4, 4, 6, 0},
      {"cancel with leaves", ExecType::Canceled, 0, 0, 10, 0},
      {"expiry that changes cum", ExecType::Expired, 0, 3, 0, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CHECK(om.onExecutionReport(x.report(c.type, c.last, c.px, c.cum, c.leaves)) ==
          ReportOutcome::Inconsistent);
  }
  ExecutionReport otherSide = x.report(ExecType::PartialFill, 4, kPrice, 4, 6);
  otherSide.side = 1;
  CHECK(om.onExecutionReport(otherSide) == ReportOutcome::Inconsistent);
  ExecutionReport badType = x.report(ExecType::PartialFill, 4, kPrice, 4, 6);
  badType.execType = 9;
  CHECK(om.onExecutionReport(badType) == ReportOutcome::Inconsistent);
  CHECK(om.counters().inconsistent == 14);
  const Order* o = om.find(id);
  CHECK(o->state == OrderState::New);
  CHECK(o->cumQty == 0);
  CHECK(o->leavesQty == 10);
  CHECK(om.openQty(kSymbol, Side::Buy) == 10);
  CHECK(om.positions().position(kSymbol) == 0);
  // A consistent report still applies afterwards.
  CHECK(om.onExecutionReport(x.report(ExecType::Fill, 10, kPrice, 10, 0)) ==
        ReportOutcome::Applied);
  // And a fill after Filled is an overfill.
  CHECK(om.onExecutionReport(x.report(ExecType::Fill, 1, kPrice, 11, 0)) ==
        ReportOutcome::Inconsistent);
  CHECK(om.positions().position(kSymbol) == 10);
}

TEST_CASE("OrderManager: a sell fills at or above its limit only") {
  OrderManager om;
  const std::uint64_t id = send(om, intent(Side::Sell, 10));
  Exchange x(id, Side::Sell);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  CHECK(om.onExecutionReport(x.report(ExecType::Fill, 10, kPrice - 1, 10, 0)) ==
        ReportOutcome::Inconsistent);
  CHECK(om.onExecutionReport(x.report(ExecType::Fill, 10, kPrice + 300, 10, 0)) ==
        ReportOutcome::Applied);
}

TEST_CASE("OrderManager: forEachOpen visits live orders only; openQty sums them per side") {
  OrderManager om;
  const std::uint64_t a = send(om, intent(Side::Buy, 10, Tif::Day));
  const std::uint64_t b = send(om, intent(Side::Buy, 5, Tif::Day));
  const std::uint64_t c = send(om, intent(Side::Sell, 7, Tif::Day));
  const std::uint64_t d = send(om, intent(Side::Buy, 3));
  Exchange xd(d);
  REQUIRE(om.onExecutionReport(xd.report(ExecType::Rejected, 0, 0, 0, 0, RejectReason::Other)) ==
          ReportOutcome::Applied);
  CHECK(om.openOrders() == 3);
  CHECK(om.openQty(kSymbol, Side::Buy) == 15);
  CHECK(om.openQty(kSymbol, Side::Sell) == 7);
  CHECK(om.openQty(kSymbol + 1, Side::Buy) == 0);
  CHECK(om.openQty(9999, Side::Buy) == 0);
  std::vector<std::uint64_t> seen;
  om.forEachOpen([&seen](const Order& o) { seen.push_back(o.clOrdId); });
  CHECK((seen == std::vector<std::uint64_t>{a, b, c}));
  // The kill switch's use: cancel all.
  om.forEachOpen([&om](const Order& o) { CHECK(om.markCancelSent(o.clOrdId)); });
  CHECK(om.counters().cancelsSent == 3);
}

TEST_CASE("OrderManager: a closed session cancels every live order, fills stay") {
  OrderManager om;
  const std::uint64_t a = send(om, intent(Side::Buy, 10, Tif::Day));
  send(om, intent(Side::Sell, 5, Tif::Day));
  Exchange x(a);
  REQUIRE(om.onExecutionReport(x.ack()) == ReportOutcome::Applied);
  REQUIRE(om.onExecutionReport(x.report(ExecType::PartialFill, 4, kPrice, 4, 6)) ==
          ReportOutcome::Applied);
  om.onSessionClosed();
  CHECK(om.openOrders() == 0);
  CHECK(om.openQty(kSymbol, Side::Buy) == 0);
  CHECK(om.openQty(kSymbol, Side::Sell) == 0);
  CHECK(om.find(a)->state == OrderState::Canceled);
  CHECK(om.positions().position(kSymbol) == 4);
  CHECK(om.counters().closedBySession == 2);
}

TEST_CASE("OrderManager: a full table refuses new ids; a done order frees its slot") {
  OrderManager om;
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < OrderManager::kCapacity; ++i)
    ids.push_back(send(om, intent(Side::Buy, 1, Tif::Day)));
  CHECK(om.openOrders() == OrderManager::kCapacity);
  CHECK(om.nextClOrdId() == 0);
  CHECK_FALSE(om.onOrderSent(OrderManager::kCapacity + 1, intent(), 0));
  // Finish the order in slot 5; the next id is the one that maps there.
  Exchange x(ids[4]);
  REQUIRE(ids[4] == 5);
  REQUIRE(om.onExecutionReport(x.report(ExecType::Rejected, 0, 0, 0, 0)) == ReportOutcome::Applied);
  const std::uint64_t next = om.nextClOrdId();
  CHECK(next == OrderManager::kCapacity + 5);
  CHECK(om.onOrderSent(next, intent(), 0));
  CHECK(om.find(5) == nullptr); // its slot holds the new order now
}

TEST_CASE("OrderManager: every state and outcome has a name") {
  CHECK(describe(OrderState::PendingCancel) == "pending_cancel");
  CHECK(describe(OrderState::Expired) == "expired");
  CHECK(describe(ReportOutcome::Inconsistent) == "inconsistent");
  CHECK(describe(ReportOutcome::Duplicate) == "duplicate");
}

// SPDX-License-Identifier: MIT
// OrderManager: every execution report checked against the order before it changes anything.
#include "daemon/order/order_manager.h"

#include <cassert>

namespace hft::order {

using protocol::ExecType;
using protocol::ExecutionReport;

std::string_view describe(OrderState state) noexcept {
  switch (state) {
  case OrderState::PendingNew: return "pending_new";
  case OrderState::New: return "new";
  case OrderState::PartiallyFilled: return "partially_filled";
  case OrderState::PendingCancel: return "pending_cancel";
  case OrderState::Filled: return "filled";
  case OrderState::Canceled: return "canceled";
  case OrderState::Rejected: return "rejected";
  case OrderState::Expired: return "expired";
  }
  return "unknown";
}

std::string_view describe(ReportOutcome outcome) noexcept {
  switch (outcome) {
  case ReportOutcome::Applied: return "applied";
  case ReportOutcome::UnknownOrder: return "unknown order";
  case ReportOutcome::Duplicate: return "duplicate";
  case ReportOutcome::Inconsistent: return "inconsistent";
  }
  return "unknown";
}

OrderManager::OrderManager() : orders_(std::make_unique<Order[]>(kCapacity)) {}

std::uint64_t OrderManager::nextClOrdId() noexcept {
  // Ids increase; one whose slot still holds a live order (kCapacity ids older) is skipped.
  std::uint64_t id = nextId_;
  for (std::size_t tries = 0; tries < kCapacity; ++tries, ++id) {
    const Order& o = orders_[id & kMask];
    if (o.clOrdId == 0 || isTerminal(o.state)) {
      nextId_ = id + 1;
      return id;
    }
  }
  return 0; // every slot live; try again once one is done
}

bool OrderManager::onOrderSent(std::uint64_t clOrdId, const OrderIntent& intent,
                               std::uint64_t nowNs) noexcept {
  Order& o = orders_[clOrdId & kMask];
  // Ids must increase (nextClOrdId() hands them out so), which keeps them unique.
  const bool slotFree = o.clOrdId == 0 || isTerminal(o.state);
  if (clOrdId == 0 || clOrdId < lowestNewId_ || !slotFree ||
      !book::isTradableSymbol(intent.symbolId) || intent.qty == 0) {
    ++counters_.refused;
    return false;
  }
  o = Order{};
  o.clOrdId = clOrdId;
  o.sentNs = nowNs;
  o.mdTimestamp = intent.mdTimestamp;
  o.price = intent.price;
  o.symbolId = intent.symbolId;
  o.qty = intent.qty;
  o.leavesQty = intent.qty;
  o.side = intent.side;
  o.tif = intent.tif;
  o.state = OrderState::PendingNew;
  openQtyOf(o) += intent.qty;
  ++open_;
  ++counters_.sent;
  lowestNewId_ = clOrdId + 1;
  if (nextId_ < lowestNewId_)
    nextId_ = lowestNewId_;
  return true;
}

Order* OrderManager::findLive(std::uint64_t clOrdId) noexcept {
  Order& o = orders_[clOrdId & kMask];
  return clOrdId != 0 && o.clOrdId == clOrdId && !isTerminal(o.state) ? &o : nullptr;
}

bool OrderManager::markCancelSent(std::uint64_t clOrdId) noexcept {
  Order* o = findLive(clOrdId);
  if (o == nullptr || o->state == OrderState::PendingCancel)
    return false;
  o->beforeCancel = o->state;
  o->state = OrderState::PendingCancel;
  ++counters_.cancelsSent;
  return true;
}

void OrderManager::finish(Order& o, OrderState state) noexcept {
  assert(!isTerminal(o.state) && isTerminal(state));
  openQtyOf(o) -= o.leavesQty;
  assert(openQtyOf(o) >= 0);
  o.leavesQty = 0;
  o.state = state;
  assert(open_ > 0);
  --open_;
}

ReportOutcome OrderManager::applyFill(Order& o, const ExecutionReport& r, bool complete) noexcept {
  // The fill must add up: cum grows by last, cum + leaves is the order's qty (leaves 0 exactly
  // when complete), and the price is no worse than our limit.
  const bool priceOk =
      r.lastPx > 0 && (o.side == protocol::Side::Buy ? r.lastPx <= o.price : r.lastPx >= o.price);
  if (isTerminal(o.state) || r.lastQty == 0 || r.lastQty > o.leavesQty ||
      r.cumQty != o.cumQty + r.lastQty || std::uint64_t{r.cumQty} + r.leavesQty != o.qty ||
      (r.leavesQty == 0) != complete || !priceOk)
    return ReportOutcome::Inconsistent;
  if (!positions_.onFill(o.symbolId, o.side, r.lastPx, r.lastQty))
    return ReportOutcome::Inconsistent; // cannot happen: the symbol was checked when sent
  if (o.orderId == 0)
    o.orderId = r.orderId; // a fill before the ack (rule 5 says never): the fill still counts
  o.cumQty = r.cumQty;
  openQtyOf(o) -= r.lastQty;
  o.leavesQty = r.leavesQty;
  if (complete) {
    finish(o, OrderState::Filled);
    ++counters_.fills;
  } else {
    advance(o, OrderState::PartiallyFilled);
    ++counters_.partialFills;
  }
  return ReportOutcome::Applied;
}

ReportOutcome OrderManager::onExecutionReport(const ExecutionReport& r) noexcept {
  Order& o = orders_[r.clOrdId & kMask];
  if (r.clOrdId == 0 || o.clOrdId != r.clOrdId) {
    ++counters_.unknown;
    return ReportOutcome::UnknownOrder;
  }
  // exec_id is unique and increasing per exchange: one not above the last is a repeat.
  // (0 is not a valid exec_id; such a report skips this test and meets the ones below.)
  if (r.execId != 0 && r.execId <= o.lastExecId) {
    ++counters_.duplicates;
    return ReportOutcome::Duplicate;
  }
  const auto type = static_cast<ExecType>(r.execType);
  // A cancel reject may come for an order already done (the cancel crossed its fill) and may
  // echo only the cancel's fields, so it is not held to the order's symbol and side.
  const bool matches = r.symbolId == o.symbolId && r.side == static_cast<std::uint8_t>(o.side);
  ReportOutcome outcome = ReportOutcome::Inconsistent;
  switch (type) {
  case ExecType::New:
    if (matches && baseState(o) == OrderState::PendingNew && r.cumQty == 0 &&
        r.leavesQty == o.qty) {
      o.orderId = r.orderId;
      advance(o, OrderState::New);
      ++counters_.acks;
      outcome = ReportOutcome::Applied;
    }
    break;
  case ExecType::PartialFill:
  case ExecType::Fill:
    if (matches)
      outcome = applyFill(o, r, type == ExecType::Fill);
    break;
  case ExecType::Canceled:
  case ExecType::Expired:
    // Nothing fills in a cancel or an expiry: cum stays, leaves goes to 0.
    if (matches && !isTerminal(o.state) && r.leavesQty == 0 && r.cumQty == o.cumQty) {
      if (o.orderId == 0)
        o.orderId = r.orderId;
      if (type == ExecType::Canceled) {
        finish(o, OrderState::Canceled);
        ++counters_.cancels;
      } else {
        finish(o, OrderState::Expired);
        ++counters_.expired;
      }
      outcome = ReportOutcome::Applied;
    }
    break;
  case ExecType::Rejected:
    // Only before acceptance: an order the exchange acked can be canceled, not rejected.
    if (matches && baseState(o) == OrderState::PendingNew && r.cumQty == 0) {
      o.rejectReason = static_cast<protocol::RejectReason>(r.rejectReason);
      finish(o, OrderState::Rejected);
      ++counters_.rejects;
      ++counters_.rejectsByReason[protocol::rejectReasonSlot(r.rejectReason)];
      outcome = ReportOutcome::Applied;
    }
    break;
  case ExecType::CancelRejected:
    // The order lives on as it was; if it is done already, the cancel simply came too late.
    if (o.state == OrderState::PendingCancel)
      o.state = o.beforeCancel;
    o.rejectReason = static_cast<protocol::RejectReason>(r.rejectReason);
    ++counters_.cancelRejects;
    outcome = ReportOutcome::Applied;
    break;
  }
  if (outcome != ReportOutcome::Applied) {
    ++counters_.inconsistent;
    return outcome;
  }
  if (r.execId > o.lastExecId)
    o.lastExecId = r.execId;
  return outcome;
}

void OrderManager::onSessionClosed() noexcept {
  for (std::size_t i = 0; i < kCapacity && open_ != 0; ++i) {
    Order& o = orders_[i];
    if (o.clOrdId != 0 && !isTerminal(o.state)) {
      finish(o, OrderState::Canceled);
      ++counters_.closedBySession;
    }
  }
}

} // namespace hft::order

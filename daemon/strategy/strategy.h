// SPDX-License-Identifier: MIT
// The strategy plug-in interface: a compile-time concept, a gateway for orders and cancels,
// and the one visit per event that dispatches to whichever strategy a variant holds.
#pragma once

#include <concepts>
#include <cstdint>
#include <variant>

#include "daemon/book/order_book.h"
#include "daemon/risk/order_intent.h"
#include "libhft/protocol/wire.h"

namespace hft::strategy {

using risk::OrderIntent;

// One applied snapshot of a symbol's book, as a strategy sees it.
struct BookUpdate {
  const book::OrderBook& book;
  std::uint32_t symbolId;
  std::int64_t position;     // the symbol's filled position (signed)
  std::uint64_t nowNs;       // monotonic clock of this host
  std::uint64_t mdTimestamp; // the MARKET_DATA header timestamp (the exchange's clock)
};

// Where a strategy's orders and cancels go. The engine's gateway (daemon/engine/order_gateway.h)
// runs every new order through the pre-trade risk checks and the journal guard before it is
// written to the orders ring; tests give their own. Both calls are hot path: noexcept.
template <typename G>
concept OrderGateway = requires(G& g, const OrderIntent& intent, std::uint64_t clOrdId) {
  // The order's cl_ord_id once it is on its way to the exchange; 0 when it was refused
  // (risk, trading off, journal guard, full ring). A refused order is counted by the gateway.
  { g.send(intent) }
  noexcept->std::same_as<std::uint64_t>;
  // True when a CANCEL_ORDER for this live order of ours (acknowledged or not) is on its way;
  // false for an order that is done, unknown or already being canceled.
  { g.cancel(clOrdId) }
  noexcept->std::same_as<bool>;
};

// A strategy: called on the one thread that owns the trading pipeline, never concurrently.
// Every call is noexcept and must not allocate, lock or format a log line (docs/strategy.md).
template <typename S, typename G>
concept Strategy = OrderGateway<G> &&
    requires(S& s, const S& cs, const BookUpdate& update, const protocol::ExecutionReport& report,
             std::int64_t position, std::uint64_t nowNs, G& gateway,
             const typename S::Params& params) {
  // A snapshot of a symbol's book was applied (trading enabled).
  { s.onBookUpdate(update, gateway) }
  noexcept;
  // An execution report for one of our orders was applied to the order table (ack, fill,
  // cancel, reject, expiry); `position` is the symbol's position after it.
  { s.onExecution(report, position, gateway) }
  noexcept;
  // Periodically (about every millisecond) from the engine's service pass.
  { s.onTimer(nowNs, gateway) }
  noexcept;
  // The session closed or a new one starts: every order of ours is gone.
  { s.reset() }
  noexcept;
  // Reload: the new parameters, validated by the configuration, between events.
  { s.setParams(params) }
  noexcept;
  { cs.params() }
  noexcept->std::same_as<const typename S::Params&>;
};

// Dispatches one event to the strategy the variant holds: one visit, no virtual call; the
// compiler sees every alternative's body. `call(strategy)` is instantiated once per type.
template <typename Variant, typename Call>
inline void dispatch(Variant& strategies, Call&& call) noexcept {
  std::visit([&](auto& s) noexcept { call(s); }, strategies);
}

} // namespace hft::strategy

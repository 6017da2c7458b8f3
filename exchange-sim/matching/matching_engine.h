// SPDX-License-Identifier: MIT
// The exchange's order handling and fill model: validation, acks, fills against the displayed
// ladder, resting DAY orders, cancels and cancel-on-disconnect. Pure: no sockets, no clocks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "exchange-sim/market/market_model.h"
#include "exchange-sim/market/rng.h"
#include "exchange-sim/matching/cl_ord_id_map.h"
#include "libhft/protocol/wire.h"

namespace hft::matching {

struct MatchingParams {
  double fillProbPercent = 80.0; // chance that a marketable order fills at all
  std::uint32_t maxOrderQty = 1'000'000;
  std::uint32_t maxOrdersPerSec = 0;  // per session; 0 = no throttle
  std::uint32_t maxOpenOrders = 1024; // resting orders per session
  std::uint32_t maxSessions = 64;
  std::uint64_t seed = 1; // the fill decisions' own stream, apart from the market's
};

// The reject reasons of the spec, as indexes into the counters' arrays.
inline constexpr std::array<protocol::RejectReason, 9> kRejectReasons = {
    protocol::RejectReason::UnknownSymbol,
    protocol::RejectReason::InvalidPrice,
    protocol::RejectReason::InvalidQuantity,
    protocol::RejectReason::DuplicateClOrdId,
    protocol::RejectReason::UnknownOrder,
    protocol::RejectReason::NotLoggedOn,
    protocol::RejectReason::InvalidSideOrTif,
    protocol::RejectReason::Throttled,
    protocol::RejectReason::Other};

[[nodiscard]] constexpr std::size_t reasonIndex(protocol::RejectReason r) noexcept {
  const auto v = static_cast<std::size_t>(r);
  return v >= 1 && v <= 8 ? v - 1 : 8;
}

struct MatchingCounters {
  std::uint64_t orders = 0;           // NEW_ORDER handled, rejected or not
  std::uint64_t ordersAccepted = 0;   // acknowledged (exec_type 0)
  std::uint64_t ordersMarketable = 0; // accepted and crossing the ladder on arrival
  std::uint64_t ordersFilled = 0;     // accepted orders that got at least one fill
  std::uint64_t fills = 0;            // reports with exec_type 1 or 2
  std::uint64_t partialFills = 0;     // reports with exec_type 1
  std::uint64_t filledQty = 0;
  std::uint64_t restingFills = 0; // fills of resting orders when the market moved
  std::uint64_t rested = 0;       // DAY orders that went on the book
  std::uint64_t expired = 0;      // IOC remainders (exec_type 6)
  std::uint64_t cancelRequests = 0;
  std::uint64_t cancels = 0;             // exec_type 3 sent on request
  std::uint64_t cancelsOnDisconnect = 0; // resting orders dropped when their session closed
  std::uint64_t rejects = 0;             // NEW_ORDER rejected (exec_type 4)
  std::uint64_t cancelRejects = 0;       // CANCEL_ORDER rejected (exec_type 5)
  std::array<std::uint64_t, kRejectReasons.size()> rejectsByReason{};
  std::array<std::uint64_t, kRejectReasons.size()> cancelRejectsByReason{};
  std::uint64_t executionReports = 0;
};

// Where the engine's reports go; the session slot says to whom.
class ReportSink {
public:
  virtual ~ReportSink() = default;
  // The report's header is left for the sender to stamp (seq and time are per connection).
  virtual void onExecutionReport(std::uint32_t session,
                                 const protocol::ExecutionReport& report) noexcept = 0;
};

class MatchingEngine {
public:
  // Allocates every session's order table now, so orders later do not.
  MatchingEngine(const MatchingParams& params, const market::MarketModel& market, ReportSink& sink);

  // A session slot starts (after logon) or ends (any disconnect: its resting orders are
  // canceled without reports, since nobody is left to read them; returns how many).
  void openSession(std::uint32_t session) noexcept;
  std::uint32_t closeSession(std::uint32_t session) noexcept;

  // A NEW_ORDER from a logged-on session; nowNs is any monotonic clock (for the throttle).
  void newOrder(std::uint32_t session, const protocol::NewOrder& order,
                std::uint64_t nowNs) noexcept;
  void cancelOrder(std::uint32_t session, const protocol::CancelOrder& cancel) noexcept;

  // Answers without looking at the order (e.g. not logged on); counted as an order (or a
  // cancel request) and a reject.
  void rejectOrder(std::uint32_t session, const protocol::NewOrder& order,
                   protocol::RejectReason reason) noexcept;
  void rejectCancel(std::uint32_t session, const protocol::CancelOrder& cancel,
                    protocol::RejectReason reason) noexcept;

  // Call after every market tick: fresh displayed liquidity, then resting orders that the new
  // ladders trade through fill at their limit price.
  void onTick() noexcept;

  [[nodiscard]] const MatchingCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint32_t restingOrders(std::uint32_t session) const noexcept {
    return static_cast<std::uint32_t>(books_[session].resting.size());
  }
  [[nodiscard]] std::uint64_t restingOrdersTotal() const noexcept;

private:
  struct RestingOrder {
    std::uint64_t clOrdId;
    std::uint64_t orderId;
    std::int64_t price;
    std::uint32_t symbolId;
    std::uint32_t qty;
    std::uint32_t cumQty;
    std::uint8_t side;
    // Displayed quantity at this price on this side that is ahead of the order in the queue
    // (docs/exchange-sim.md, "Queue position"): it must trade or be canceled first.
    std::uint32_t ahead = 0;
  };
  // The displayed quantity at `price` on the order's own side, or -1 when not displayed.
  [[nodiscard]] std::int64_t displayedAt(const RestingOrder& o) const noexcept;

  struct SessionBook {
    std::vector<RestingOrder> resting; // dense; capacity reserved once
    ClOrdIdMap ids;
    std::uint64_t throttleWindowStart = 0;
    std::uint32_t throttleCount = 0;
    bool open = false;
  };

  // What is left to take at each displayed level during the current tick.
  struct Liquidity {
    std::array<std::uint32_t, market::kMaxDepth> bids{};
    std::array<std::uint32_t, market::kMaxDepth> asks{};
  };

  void reject(std::uint32_t session, const protocol::NewOrder& order,
              protocol::RejectReason reason) noexcept;
  void cancelReject(std::uint32_t session, const protocol::CancelOrder& cancel,
                    protocol::RejectReason reason) noexcept;
  [[nodiscard]] bool throttled(SessionBook& book, std::uint64_t nowNs) noexcept;
  [[nodiscard]] protocol::ExecutionReport report(std::uint64_t clOrdId, std::uint64_t orderId,
                                                 std::uint32_t symbolId, protocol::ExecType type,
                                                 std::uint8_t side, std::int64_t price) noexcept;
  void send(std::uint32_t session, const protocol::ExecutionReport& r) noexcept;
  // Takes up to `want` from the levels at or better than `limit`; returns the quantity taken.
  // With `atLevelPrices`, reports each level as a fill at that level's price.
  std::uint32_t take(std::uint32_t session, RestingOrder& order, bool atLevelPrices) noexcept;
  void removeResting(SessionBook& book, std::size_t index) noexcept;

  MatchingParams params_;
  const market::MarketModel& market_;
  ReportSink& sink_;
  market::Rng rng_;
  std::vector<SessionBook> books_;
  std::vector<Liquidity> liquidity_; // per symbol, index symbolId - 1
  std::uint64_t nextOrderId_ = 1;
  std::uint64_t nextExecId_ = 1;
  MatchingCounters counters_;
};

} // namespace hft::matching

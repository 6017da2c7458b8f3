// SPDX-License-Identifier: MIT
// Momentum taker: buys a mid that has risen by a threshold over a lookback, sells a falling one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "daemon/book/order_book.h"
#include "daemon/risk/order_intent.h"
#include "daemon/strategy/strategy.h"

namespace hft::strategy {

using risk::OrderIntent;

// The longest lookback the per-symbol ring holds; longer ones are clamped to it.
inline constexpr std::uint32_t kMaxLookback = 64;

// Every field, its default and why: docs/strategy.md.
struct StrategyParams {
  std::uint32_t lookback = 16;            // mids in the window (2..kMaxLookback)
  std::uint32_t thresholdTicks = 3;       // |newest - oldest mid| that is a signal, in ticks
  std::uint32_t orderQty = 10;            // qty of each order
  std::uint64_t cooldownNs = 200'000'000; // per symbol, after each order
  std::int64_t tickSize = 100;            // 1e-4 units (0.01)
  std::int64_t maxPosition = 200;         // the strategy's own |position| cap
  bool ioc = true;                        // IOC (remainder expires) or DAY (rests)
  std::uint32_t aggressTicks = 0;         // ticks beyond the touch, to fill more often
};

class MomentumStrategy {
public:
  using Params = StrategyParams;

  explicit MomentumStrategy(const StrategyParams& params);
  MomentumStrategy(const MomentumStrategy&) = delete;
  MomentumStrategy& operator=(const MomentumStrategy&) = delete;

  // On a reload, from the strategy thread. A new lookback restarts every symbol's window
  // (its ring layout changes); other changes keep the mids seen so far.
  void setParams(const StrategyParams& params) noexcept;
  [[nodiscard]] const StrategyParams& params() const noexcept { return params_; }

  // Call once per applied snapshot of `symbolId`'s book. `position`: the symbol's filled
  // position; `nowNs`: a monotonic clock (for the cooldown); `mdTimestamp`: the triggering
  // MARKET_DATA's header timestamp, stamped on the intent. True when `out` holds an order to
  // pass to risk; the cooldown starts then, whatever risk decides, so a refused intent is not
  // retried on every tick.
  [[nodiscard]] bool onBookUpdate(const book::OrderBook& book, std::uint32_t symbolId,
                                  std::int64_t position, std::uint64_t nowNs,
                                  std::uint64_t mdTimestamp, OrderIntent& out) noexcept;

  // The plug-in interface (daemon/strategy/strategy.h): the decision above, its intent sent
  // through the gateway (risk decides). A taker has nothing to do on reports or timers.
  template <OrderGateway G> void onBookUpdate(const BookUpdate& u, G& gateway) noexcept {
    OrderIntent intent;
    if (onBookUpdate(u.book, u.symbolId, u.position, u.nowNs, u.mdTimestamp, intent))
      (void)gateway.send(intent);
  }
  template <OrderGateway G>
  void onExecution(const protocol::ExecutionReport&, std::int64_t, G&) noexcept {}
  template <OrderGateway G> void onTimer(std::uint64_t, G&) noexcept {}

  // Drops every symbol's window and cooldown (after a reconnect: the mids before it are stale).
  void reset() noexcept;

  // Signals seen and intents emitted, for status. Strategy thread only.
  [[nodiscard]] std::uint64_t signals() const noexcept { return signals_; }
  [[nodiscard]] std::uint64_t intents() const noexcept { return intents_; }

private:
  struct SymbolState {
    std::array<std::int64_t, kMaxLookback> mids{}; // ring; next write at `head`
    std::uint32_t head = 0;
    std::uint32_t count = 0; // mids seen, up to the lookback
    bool ordered = false;    // lastOrderNs is meaningful
    std::uint64_t lastOrderNs = 0;
  };

  StrategyParams params_;
  std::uint32_t lookback_; // params_.lookback clamped to 2..kMaxLookback
  std::uint64_t signals_ = 0;
  std::uint64_t intents_ = 0;
  std::unique_ptr<SymbolState[]> symbols_; // [book::kMaxSymbols]
};

} // namespace hft::strategy

// SPDX-License-Identifier: MIT
// The trading pipeline: books, the strategy's decisions, pre-trade risk, orders and positions.
// layout = "pipeline": its own thread on the strategy core, fed through the inbound ring.
// layout = "run_to_completion": no thread of its own; the network thread calls onMarketData(),
// onExecutionReport(), onDisconnected() and service() inline, in the pass that read the frame,
// and orders leave in that call through the network thread's OrderExit. The pipeline's orders
// go through the orders ring; the network thread writes them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <variant>

#include "daemon/book/order_book.h"
#include "daemon/config/hftd_config.h"
#include "daemon/engine/order_gateway.h"
#include "daemon/engine/shared_state.h"
#include "daemon/order/order_manager.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/market_maker.h"
#include "daemon/strategy/momentum_strategy.h"
#include "libhft/core/stamp_clock.h"

namespace hft::engine {

// The strategies hftd can run ([strategy] kind, chosen at start-up): one visit per event.
using AnyStrategy = std::variant<strategy::MomentumStrategy, strategy::MarketMaker>;
static_assert(strategy::Strategy<strategy::MomentumStrategy, OrderGateway>);
static_assert(strategy::Strategy<strategy::MarketMaker, OrderGateway>);

class StrategyWorker {
public:
  StrategyWorker(SharedState& shared, const config::HftdConfig& config);

  // Hands new limits and parameters to the thread (control thread; applied between events).
  // Returns false if the previous hand-over has not been taken yet.
  // Both strategies' parameters travel; the running kind takes its own (a reload cannot change
  // the kind: config::planReload reports it as needing a restart).
  [[nodiscard]] bool offerParams(const risk::RiskLimits& limits,
                                 const strategy::StrategyParams& momentum,
                                 const strategy::MarketMakerParams& marketMaker);

  // layout = run_to_completion: orders are written through `exit` (the network thread's) in
  // the call that decided them. Set once, before the threads start.
  void writeOrdersThrough(OrderExit* exit) noexcept { exit_ = exit; }

  // The pipeline layout's thread body; returns when SharedState::stop is set.
  void run() noexcept;

  // The seam both layouts call, on the one thread that owns the pipeline. The frame was
  // validated at the edge; it is read in place, never copied.
  void onMarketData(const protocol::FrameView& frame, std::uint64_t rxNs,
                    std::uint64_t decodedNs) noexcept;
  void onExecutionReport(const protocol::ExecutionReport& report) noexcept;
  // The exchange cancels every resting order of a closed connection (protocol rule 4).
  void onDisconnected() noexcept;
  // Everything that is not an event: proof of life, a new session's reset, kill switch,
  // cancel-all, reloaded parameters. `busy`: an event was handled since the last call (a
  // cancel-all waits for a quiet round so unacknowledged orders' acks come first).
  void service(bool busy) noexcept;

  // Order-path warm-ups run so far (OrderGateway::warm), and how many found risk accepting
  // the sample intent (tests). Pipeline thread only.
  [[nodiscard]] std::uint64_t warmPasses() const noexcept { return warmPasses_; }
  [[nodiscard]] std::uint64_t warmAccepted() const noexcept { return warmAccepted_; }

  // The running strategy (tests, status). Pipeline thread only.
  [[nodiscard]] const AnyStrategy& strategy() const noexcept { return strategy_; }

private:
  void resetForSession() noexcept;
  void cancelAllOpen() noexcept;
  // The control plane's copies of positions and order counters. Events only mark what
  // changed; service() publishes it in a quiet round, or at least every kPublishPeriodNs.
  void publishSymbol(std::uint32_t symbolId) noexcept;
  void publishOrderCounters() noexcept;
  void markSymbol(std::uint32_t symbolId) noexcept {
    if (symbolId < kMaxPublishedSymbols)
      dirtySymbols_ |= std::uint64_t{1} << symbolId;
  }
  void publishChanged(std::uint64_t nowNs) noexcept;
  void takeParams() noexcept;
  // Between frames: OrderGateway::warm on an intent of quantity 1 at the mid of the symbol
  // last updated, so that the next order finds its code and data in cache.
  void warmOrderPath(std::uint64_t nowNs) noexcept;
  [[nodiscard]] OrderGateway gateway(const EventStamps& stamps) noexcept {
    ordersDirty_ = true; // the event may send or cancel
    return OrderGateway(shared_, *orders_, risk_, *books_, clock_, stamps, exit_);
  }
  void log(LogEvent::Kind kind, std::uint64_t a = 0, std::uint64_t b = 0, std::int64_t c = 0,
           std::uint64_t d = 0) noexcept;

  SharedState& shared_;
  core::RealtimeAnchor clock_; // stamps -> CLOCK_REALTIME without a system call
  std::uint64_t anchoredNs_ = 0;
  const int core_;
  const bool busyPoll_;
  const int fifoPriority_;
  // Large fixed tables: allocated once, here, never on the hot path.
  std::unique_ptr<book::BookSet> books_;
  std::unique_ptr<order::OrderManager> orders_;
  risk::RiskChecker risk_;
  AnyStrategy strategy_;
  std::uint64_t lastTimerNs_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t cancelAllSeen_ = 0;
  bool killSwitchSeen_ = false;
  bool cancelPending_ = false;
  OrderExit* exit_ = nullptr; // run to completion: the network thread's

  const std::uint64_t warmIntervalNs_; // [engine] warm_interval_us; 0 = never
  std::uint64_t lastWarmNs_ = 0;
  std::uint32_t warmSymbol_ = 0; // the symbol of the last book update (0: none yet)
  std::uint64_t warmPasses_ = 0;
  std::uint64_t warmAccepted_ = 0;

  static constexpr std::uint64_t kPublishPeriodNs = 1'000'000;
  static_assert(kMaxPublishedSymbols <= 64, "dirtySymbols_ has one bit per published symbol");
  std::uint64_t dirtySymbols_ = 0;
  bool ordersDirty_ = false;
  std::uint64_t publishedNs_ = 0;

  // Control -> strategy hand-over of new parameters (reload).
  std::atomic<bool> paramsPending_{false};
  risk::RiskLimits pendingLimits_;
  strategy::StrategyParams pendingMomentum_;
  strategy::MarketMakerParams pendingMarketMaker_;
};

} // namespace hft::engine

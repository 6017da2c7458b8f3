// SPDX-License-Identifier: MIT
// The strategy thread: books, the strategy's decisions, pre-trade risk, orders and positions.
// Pinned to the strategy core; talks to the network thread only through rings.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "daemon/book/order_book.h"
#include "daemon/config/hftd_config.h"
#include "daemon/engine/shared_state.h"
#include "daemon/order/order_manager.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/momentum_strategy.h"
#include "libhft/core/stamp_clock.h"

namespace hft::engine {

class StrategyWorker {
public:
  StrategyWorker(SharedState& shared, const config::HftdConfig& config);

  // Hands new limits and parameters to the thread (control thread; applied between events).
  // Returns false if the previous hand-over has not been taken yet.
  [[nodiscard]] bool offerParams(const risk::RiskLimits& limits,
                                 const strategy::StrategyParams& params);

  void run() noexcept;

private:
  void resetForSession() noexcept;
  void onMarketData(const InboundEvent& event) noexcept;
  void onExecutionReport(const InboundEvent& event) noexcept;
  void cancelAllOpen() noexcept;
  void publishSymbol(std::uint32_t symbolId) noexcept;
  void publishOrderCounters() noexcept;
  void takeParams() noexcept;
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
  strategy::MomentumStrategy strategy_;
  std::uint64_t generation_ = 0;
  std::uint64_t cancelAllSeen_ = 0;
  bool killSwitchSeen_ = false;

  // Control -> strategy hand-over of new parameters (reload).
  std::atomic<bool> paramsPending_{false};
  risk::RiskLimits pendingLimits_;
  strategy::StrategyParams pendingParams_;
};

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// Pre-trade risk: every order intent passes these checks before it may be sent.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "daemon/risk/order_intent.h"

namespace hft::risk {

// The largest order rate the send-time ring can enforce exactly; a higher limit is enforced
// as this one (the safe direction). Configuration should refuse values above it.
inline constexpr std::uint32_t kMaxOrdersPerSecondLimit = 65536;

// Defaults fit exchange-sim's default market with the default strategy (docs/strategy.md).
struct RiskLimits {
  std::uint32_t maxOrderQty = 100;       // largest qty of one order
  std::int64_t maxPosition = 500;        // |position + open same-side qty + this order| bound
  std::uint32_t maxOpenOrders = 20;      // live orders (all symbols) before another is refused
  std::uint32_t maxOrdersPerSecond = 50; // sends in any sliding one-second window
  std::uint32_t priceBandBps = 100;      // limit price within this many bps of the mid
};

// Why check() refused an intent. It stops at the first breach, checking in this order: kill
// switch, order qty, position, open orders, reference price, price band, order rate.
enum class RiskResult : std::uint8_t {
  Accepted,
  KillSwitch,
  MaxOrderQty,
  MaxPosition,
  MaxOpenOrders,
  MaxOrderRate,
  PriceBand,
  NoReferencePrice,
};
inline constexpr std::size_t kRiskResultCount = 8;

[[nodiscard]] std::string_view describe(RiskResult result) noexcept;

// Owned and called by the strategy thread; only the kill switch may be set from elsewhere.
class RiskChecker {
public:
  explicit RiskChecker(const RiskLimits& limits = {});
  RiskChecker(const RiskChecker&) = delete;
  RiskChecker& operator=(const RiskChecker&) = delete;

  // `position`: the symbol's filled position (signed); `openBuyQty`/`openSellQty`: the leaves of
  // its live orders; `openOrders`: live orders across all symbols; `midPrice`: the symbol's mid
  // (<= 0 when there is none); `nowNs`: a monotonic clock. Counts the result; records nothing
  // else: call onOrderSent() once the order is actually sent.
  [[nodiscard]] RiskResult check(const OrderIntent& intent, std::int64_t position,
                                 std::int64_t openBuyQty, std::int64_t openSellQty,
                                 std::uint32_t openOrders, std::int64_t midPrice,
                                 std::uint64_t nowNs) noexcept;

  // check()'s verdict without counting it: nothing changes (OrderGateway::warm runs it
  // between frames so that the checks' code and data are in cache for the next order).
  [[nodiscard]] RiskResult evaluate(const OrderIntent& intent, std::int64_t position,
                                    std::int64_t openBuyQty, std::int64_t openSellQty,
                                    std::uint32_t openOrders, std::int64_t midPrice,
                                    std::uint64_t nowNs) const noexcept;
  // Counts a verdict evaluate() gave, as check() does.
  void countVerdict(RiskResult result) noexcept { ++counts_[static_cast<std::size_t>(result)]; }
  // Records a send for the rate window; `nowNs` on the clock check() is given.
  void onOrderSent(std::uint64_t nowNs) noexcept {
    sendTimes_[sent_ & kRateMask] = nowNs;
    ++sent_;
  }

  // On a reload, from the strategy thread itself, so no locking. The rate history is kept.
  void setLimits(const RiskLimits& limits) noexcept { limits_ = limits; }
  [[nodiscard]] const RiskLimits& limits() const noexcept { return limits_; }

  // Any thread (the control thread for `kill`, the engine on an inconsistency).
  void setKillSwitch(bool on) noexcept {
    // release: whatever the setter did before (a log line, a counter) is visible to a reader
    // that acquires the new value; a plain flag needs no stronger ordering.
    killSwitch_.store(on, std::memory_order_release);
  }
  [[nodiscard]] bool killSwitch() const noexcept {
    // acquire pairs with the release above; on x86 it is a plain load, so the hot path pays
    // nothing. A kill seen one event late is harmless: no ordering stronger than this is needed.
    return killSwitch_.load(std::memory_order_acquire);
  }

  // How often check() returned each result (Accepted included). Strategy thread only.
  [[nodiscard]] std::uint64_t count(RiskResult result) const noexcept {
    return counts_[static_cast<std::size_t>(result)];
  }
  [[nodiscard]] std::uint64_t ordersSent() const noexcept { return sent_; }

private:
  static constexpr std::uint64_t kRateMask = kMaxOrdersPerSecondLimit - 1;
  static_assert((kMaxOrdersPerSecondLimit & kRateMask) == 0, "the ring wraps with a mask");
  static constexpr std::uint64_t kWindowNs = 1'000'000'000;

  RiskLimits limits_;
  std::array<std::uint64_t, kRiskResultCount> counts_{};
  std::uint64_t sent_ = 0; // sends recorded; sendTimes_[(sent_ - 1) & mask] is the latest
  std::unique_ptr<std::uint64_t[]> sendTimes_; // ring of the last kMaxOrdersPerSecondLimit sends
  // Own cache line: another thread writes it, and the strategy's fields must not bounce with it.
  alignas(64) std::atomic<bool> killSwitch_{false};
};

} // namespace hft::risk

// SPDX-License-Identifier: MIT
// RiskChecker: the pre-trade checks, cheapest and most fundamental first.
#include "daemon/risk/risk_checker.h"

#include <algorithm>

namespace hft::risk {

namespace {
// |price - mid| * 10000 can leave i64 for absurd prices; 128 bits cannot overflow here.
__extension__ using Wide = __int128;
} // namespace

std::string_view describe(RiskResult result) noexcept {
  switch (result) {
  case RiskResult::Accepted: return "accepted";
  case RiskResult::KillSwitch: return "kill switch on";
  case RiskResult::MaxOrderQty: return "order qty outside 1..max_order_qty";
  case RiskResult::MaxPosition: return "position + open orders + order beyond max_position";
  case RiskResult::MaxOpenOrders: return "max_open_orders live orders";
  case RiskResult::MaxOrderRate: return "max_orders_per_second in the last second";
  case RiskResult::PriceBand: return "price outside price_band_bps of the mid";
  case RiskResult::NoReferencePrice: return "no mid to check the price against";
  }
  return "unknown";
}

RiskChecker::RiskChecker(const RiskLimits& limits)
    : limits_(limits), sendTimes_(std::make_unique<std::uint64_t[]>(kMaxOrdersPerSecondLimit)) {}

RiskResult RiskChecker::check(const OrderIntent& intent, std::int64_t position,
                              std::int64_t openBuyQty, std::int64_t openSellQty,
                              std::uint32_t openOrders, std::int64_t midPrice,
                              std::uint64_t nowNs) noexcept {
  const RiskResult result =
      evaluate(intent, position, openBuyQty, openSellQty, openOrders, midPrice, nowNs);
  ++counts_[static_cast<std::size_t>(result)];
  return result;
}

RiskResult RiskChecker::evaluate(const OrderIntent& intent, std::int64_t position,
                                 std::int64_t openBuyQty, std::int64_t openSellQty,
                                 std::uint32_t openOrders, std::int64_t midPrice,
                                 std::uint64_t nowNs) const noexcept {
  if (killSwitch())
    return RiskResult::KillSwitch;
  // A zero qty is outside 1..max as much as a large one; the exchange would reject it anyway.
  if (intent.qty == 0 || intent.qty > limits_.maxOrderQty)
    return RiskResult::MaxOrderQty;
  // Worst case: every open order on this side fills, and so does this one.
  const auto qty = static_cast<std::int64_t>(intent.qty);
  if (intent.side == protocol::Side::Buy) {
    if (position + openBuyQty + qty > limits_.maxPosition)
      return RiskResult::MaxPosition;
  } else if (position - openSellQty - qty < -limits_.maxPosition) {
    return RiskResult::MaxPosition;
  }
  if (openOrders >= limits_.maxOpenOrders)
    return RiskResult::MaxOpenOrders;
  if (midPrice <= 0)
    return RiskResult::NoReferencePrice;
  const Wide distance =
      intent.price >= midPrice ? Wide{intent.price} - midPrice : Wide{midPrice} - intent.price;
  if (distance * 10000 > Wide{limits_.priceBandBps} * midPrice)
    return RiskResult::PriceBand;
  // At most `window` sends in any second: the window-th latest send must be a second old.
  const std::uint64_t window =
      std::min<std::uint64_t>(limits_.maxOrdersPerSecond, kMaxOrdersPerSecondLimit);
  if (window == 0)
    return RiskResult::MaxOrderRate;
  if (sent_ >= window && nowNs < sendTimes_[(sent_ - window) & kRateMask] + kWindowNs)
    return RiskResult::MaxOrderRate;
  return RiskResult::Accepted;
}

} // namespace hft::risk

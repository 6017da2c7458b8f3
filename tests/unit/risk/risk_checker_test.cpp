// SPDX-License-Identifier: MIT
// RiskChecker: every check passes at its limit and refuses just past it.
#include <doctest/doctest.h>

#include <thread>

#include "daemon/risk/risk_checker.h"

using namespace hft::risk;
using hft::protocol::Side;
using hft::protocol::Tif;

namespace {

constexpr std::int64_t kMid = 1000000; // 100.00
constexpr std::uint64_t kSecond = 1'000'000'000;

OrderIntent buy(std::uint32_t qty = 10, std::int64_t price = kMid) {
  return {1, Side::Buy, Tif::Ioc, price, qty, 0};
}
OrderIntent sell(std::uint32_t qty = 10, std::int64_t price = kMid) {
  return {1, Side::Sell, Tif::Ioc, price, qty, 0};
}

// The order alone, flat, nothing open, a mid, at t = 10 s.
RiskResult alone(RiskChecker& risk, const OrderIntent& intent) {
  return risk.check(intent, 0, 0, 0, 0, kMid, 10 * kSecond);
}

} // namespace

TEST_CASE("RiskLimits: the documented defaults") {
  const RiskLimits l;
  CHECK(l.maxOrderQty == 100);
  CHECK(l.maxPosition == 500);
  CHECK(l.maxOpenOrders == 20);
  CHECK(l.maxOrdersPerSecond == 50);
  CHECK(l.priceBandBps == 100);
}

TEST_CASE("RiskChecker: an ordinary order is accepted and counted") {
  RiskChecker risk;
  CHECK(alone(risk, buy()) == RiskResult::Accepted);
  CHECK(alone(risk, sell()) == RiskResult::Accepted);
  CHECK(risk.count(RiskResult::Accepted) == 2);
  CHECK(risk.count(RiskResult::MaxOrderQty) == 0);
}

TEST_CASE("RiskChecker: order qty up to max passes; above it and zero are refused") {
  RiskChecker risk;
  CHECK(alone(risk, buy(100)) == RiskResult::Accepted);
  CHECK(alone(risk, buy(101)) == RiskResult::MaxOrderQty);
  CHECK(alone(risk, sell(0)) == RiskResult::MaxOrderQty);
  CHECK(risk.count(RiskResult::MaxOrderQty) == 2);
}

TEST_CASE("RiskChecker: max position counts the position, same-side open qty and the order") {
  RiskChecker risk; // maxPosition 500
  // Buy: 400 long + 90 open buys + 10 = 500: at the limit.
  CHECK(risk.check(buy(10), 400, 90, 0, 1, kMid, 0) == RiskResult::Accepted);
  CHECK(risk.check(buy(11), 400, 90, 0, 1, kMid, 0) == RiskResult::MaxPosition);
  // Open sells do not offset a buy's worst case (they may never fill).
  CHECK(risk.check(buy(11), 400, 90, 300, 1, kMid, 0) == RiskResult::MaxPosition);
  // Sell: -400 short - 90 open sells - 10 = -500.
  CHECK(risk.check(sell(10), -400, 0, 90, 1, kMid, 0) == RiskResult::Accepted);
  CHECK(risk.check(sell(11), -400, 0, 90, 1, kMid, 0) == RiskResult::MaxPosition);
  // Reducing a position past the limit is allowed: a sell from 600 long.
  CHECK(risk.check(sell(100), 600, 0, 0, 0, kMid, 0) == RiskResult::Accepted);
  CHECK(risk.check(buy(1), 600, 0, 0, 0, kMid, 0) == RiskResult::MaxPosition);
  CHECK(risk.count(RiskResult::MaxPosition) == 4);
}

TEST_CASE("RiskChecker: max open orders refuses once that many are live") {
  RiskChecker risk; // 20
  CHECK(risk.check(buy(), 0, 0, 0, 19, kMid, 0) == RiskResult::Accepted);
  CHECK(risk.check(buy(), 0, 0, 0, 20, kMid, 0) == RiskResult::MaxOpenOrders);
}

TEST_CASE("RiskChecker: the price band is |price - mid| * 10000 <= bps * mid") {
  RiskChecker risk; // 100 bps of 100.00 = 1.00 = 10000 units
  CHECK(alone(risk, buy(10, kMid + 10000)) == RiskResult::Accepted);
  CHECK(alone(risk, buy(10, kMid + 10001)) == RiskResult::PriceBand);
  CHECK(alone(risk, sell(10, kMid - 10000)) == RiskResult::Accepted);
  CHECK(alone(risk, sell(10, kMid - 10001)) == RiskResult::PriceBand);
  // A sell far above the mid is just as far outside.
  CHECK(alone(risk, sell(10, kMid + 20000)) == RiskResult::PriceBand);
  // Absurd prices do not overflow into a pass.
  CHECK(alone(risk, buy(10, INT64_MAX)) == RiskResult::PriceBand);
  CHECK(risk.count(RiskResult::PriceBand) == 4);
}

TEST_CASE("RiskChecker: no mid means no reference price") {
  RiskChecker risk;
  CHECK(risk.check(buy(), 0, 0, 0, 0, 0, 0) == RiskResult::NoReferencePrice);
  CHECK(risk.check(buy(), 0, 0, 0, 0, -5, 0) == RiskResult::NoReferencePrice);
  CHECK(risk.count(RiskResult::NoReferencePrice) == 2);
}

TEST_CASE("RiskChecker: at most max_orders_per_second sends in any sliding second") {
  RiskLimits limits;
  limits.maxOrdersPerSecond = 5;
  RiskChecker risk(limits);
  const std::uint64_t t0 = 100 * kSecond;
  // Five sends 100 ms apart: t0 .. t0+400ms.
  for (std::uint64_t i = 0; i < 5; ++i) {
    const std::uint64_t now = t0 + i * 100'000'000;
    REQUIRE(risk.check(buy(), 0, 0, 0, 0, kMid, now) == RiskResult::Accepted);
    risk.onOrderSent(now);
  }
  // A sixth inside the second of the first is refused, right up to its last nanosecond.
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, t0 + 500'000'000) == RiskResult::MaxOrderRate);
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, t0 + kSecond - 1) == RiskResult::MaxOrderRate);
  // A refused check records nothing; the window slides past the first send at t0 + 1 s.
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, t0 + kSecond) == RiskResult::Accepted);
  risk.onOrderSent(t0 + kSecond);
  // Now the second send (t0 + 100 ms) is the oldest of the last five.
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, t0 + kSecond + 99'999'999) == RiskResult::MaxOrderRate);
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, t0 + kSecond + 100'000'000) == RiskResult::Accepted);
  CHECK(risk.count(RiskResult::MaxOrderRate) == 3);
  CHECK(risk.ordersSent() == 6);
}

TEST_CASE("RiskChecker: a lower rate limit applies at once to the sends already made") {
  RiskChecker risk; // 50/s
  for (std::uint64_t i = 0; i < 10; ++i)
    risk.onOrderSent(kSecond + i);
  CHECK(alone(risk, buy()) == RiskResult::Accepted); // t = 10 s: long after
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, kSecond + 20) == RiskResult::Accepted);
  RiskLimits tighter;
  tighter.maxOrdersPerSecond = 10;
  risk.setLimits(tighter);
  CHECK(risk.limits().maxOrdersPerSecond == 10);
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, kSecond + 20) == RiskResult::MaxOrderRate);
}

TEST_CASE("RiskChecker: the rate ring wraps without losing the window") {
  RiskLimits limits;
  limits.maxOrdersPerSecond = 3;
  RiskChecker risk(limits);
  // More sends than the ring holds, 400 ms apart, then two more within a nanosecond.
  std::uint64_t now = kSecond;
  for (std::uint32_t i = 0; i < kMaxOrdersPerSecondLimit + 7; ++i, now += 400'000'000)
    risk.onOrderSent(now);
  risk.onOrderSent(now);
  risk.onOrderSent(now + 1);
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, now + 2) == RiskResult::MaxOrderRate);
  // The third-latest send was at now - 400 ms: free again at now + 600 ms.
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, now + 600'000'000 - 1) == RiskResult::MaxOrderRate);
  CHECK(risk.check(buy(), 0, 0, 0, 0, kMid, now + 600'000'000) == RiskResult::Accepted);
}

TEST_CASE("RiskChecker: the kill switch refuses everything until it is cleared") {
  RiskChecker risk;
  CHECK_FALSE(risk.killSwitch());
  risk.setKillSwitch(true);
  CHECK(risk.killSwitch());
  CHECK(alone(risk, buy()) == RiskResult::KillSwitch);
  // Even an order that reduces the position.
  CHECK(risk.check(sell(), 100, 0, 0, 0, kMid, 0) == RiskResult::KillSwitch);
  risk.setKillSwitch(false);
  CHECK(alone(risk, buy()) == RiskResult::Accepted);
  CHECK(risk.count(RiskResult::KillSwitch) == 2);
}

TEST_CASE("RiskChecker: a kill switch set on another thread is seen") {
  RiskChecker risk;
  std::thread control([&risk] { risk.setKillSwitch(true); });
  control.join();
  CHECK(alone(risk, buy()) == RiskResult::KillSwitch);
}

TEST_CASE("RiskChecker: the first breach in check order is the one reported") {
  RiskChecker risk;
  risk.setKillSwitch(true);
  CHECK(risk.check(buy(1000), 1000, 0, 0, 100, 0, 0) == RiskResult::KillSwitch);
  risk.setKillSwitch(false);
  CHECK(risk.check(buy(1000), 1000, 0, 0, 100, 0, 0) == RiskResult::MaxOrderQty);
  CHECK(risk.check(buy(10), 1000, 0, 0, 100, 0, 0) == RiskResult::MaxPosition);
  CHECK(risk.check(buy(10), 0, 0, 0, 100, 0, 0) == RiskResult::MaxOpenOrders);
  CHECK(risk.check(buy(10), 0, 0, 0, 0, 0, 0) == RiskResult::NoReferencePrice);
}

TEST_CASE("RiskChecker: every result has a description") {
  for (std::size_t i = 0; i < kRiskResultCount; ++i)
    CHECK(describe(static_cast<RiskResult>(i)) != "unknown");
}

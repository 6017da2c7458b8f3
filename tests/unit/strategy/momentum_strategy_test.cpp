// SPDX-License-Identifier: MIT
// MomentumStrategy: which book moves lead to which intents, at which price, and when not.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "daemon/strategy/momentum_strategy.h"
#include "libhft/protocol/codec.h"

using namespace hft::strategy;
using hft::book::OrderBook;
using hft::protocol::MdEntry;
using hft::protocol::Side;
using hft::protocol::Tif;

namespace {

constexpr std::uint32_t kSym = 3;
constexpr std::int64_t kTick = 100;
constexpr std::uint64_t kMs = 1'000'000;

// Drives one symbol's book through a series of mids (in ticks), one snapshot per 10 ms, with
// a one-tick spread around each mid (bid = mid - 50, ask = mid + 50: the mid is exact).
class Feed {
public:
  explicit Feed(MomentumStrategy& strategy) : strategy_(strategy) {}

  // Applies a snapshot at mid `midTicks` and asks the strategy; true when it made an intent.
  bool tick(std::int64_t midTicks, std::int64_t position = 0) {
    const std::int64_t mid = 1000000 + midTicks * kTick;
    const MdEntry e[4] = {{mid - 50, 10, 0, 0, 0},
                          {mid + 50, 12, 1, 0, 0},
                          {mid - 150, 20, 0, 1, 0},
                          {mid + 150, 22, 1, 1, 0}};
    return apply(e, position);
  }
  // A one-level snapshot with any wire prices (bid < ask); true when it made an intent.
  bool quote(std::int64_t bid, std::int64_t ask) {
    const MdEntry e[2] = {{bid, 10, 0, 0, 0}, {ask, 12, 1, 0, 0}};
    return apply(e, 0);
  }
  // Feeds `n` snapshots at the same mid; returns how many made an intent.
  int hold(std::int64_t midTicks, int n, std::int64_t position = 0) {
    int intents = 0;
    for (int i = 0; i < n; ++i)
      intents += tick(midTicks, position) ? 1 : 0;
    return intents;
  }
  std::uint64_t mdTimestamp() const { return mdTs_; }
  std::int64_t ask() const { return book_.bestAsk().price; }
  std::int64_t bid() const { return book_.bestBid().price; }
  void advance(std::uint64_t ns) { now_ += ns; }

  OrderIntent out;

private:
  // One snapshot of `entries`, 10 ms after the last, then the strategy's answer.
  bool apply(std::span<const MdEntry> entries, std::int64_t position) {
    std::vector<std::byte> bytes(hft::protocol::marketDataSize(entries.size()));
    ++mdTs_;
    REQUIRE(hft::protocol::encodeMarketData(bytes.data(), 1, mdTs_, kSym, entries) == bytes.size());
    REQUIRE(book_.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
    now_ += 10 * kMs;
    out = OrderIntent{};
    return strategy_.onBookUpdate(book_, kSym, position, now_, mdTs_, out);
  }

  MomentumStrategy& strategy_;
  OrderBook book_{kSym};
  std::uint64_t mdTs_ = 1'700'000'000'000'000'000ULL;
  std::uint64_t now_ = 5'000 * kMs;
};

StrategyParams params(std::uint32_t lookback = 4, std::uint32_t threshold = 3) {
  StrategyParams p;
  p.lookback = lookback;
  p.thresholdTicks = threshold;
  return p;
}

} // namespace

TEST_CASE("StrategyParams: the documented defaults") {
  const StrategyParams p;
  CHECK(p.lookback == 16);
  CHECK(p.thresholdTicks == 3);
  CHECK(p.orderQty == 10);
  CHECK(p.cooldownNs == 200'000'000);
  CHECK(p.tickSize == 100);
  CHECK(p.maxPosition == 200);
  CHECK(p.ioc);
  CHECK(p.aggressTicks == 0);
}

TEST_CASE("MomentumStrategy: rising mids buy at the best ask, stamped with the md timestamp") {
  MomentumStrategy s(params(4, 3));
  Feed f(s);
  CHECK_FALSE(f.tick(0));
  CHECK_FALSE(f.tick(1));
  CHECK_FALSE(f.tick(2));
  REQUIRE(f.tick(3)); // 3 ticks above the oldest of the last four
  CHECK(f.out.symbolId == kSym);
  CHECK(f.out.side == Side::Buy);
  CHECK(f.out.price == f.ask());
  CHECK(f.out.price == 1000000 + 3 * kTick + 50);
  CHECK(f.out.qty == 10);
  CHECK(f.out.tif == Tif::Ioc);
  CHECK(f.out.mdTimestamp == f.mdTimestamp());
  CHECK(s.intents() == 1);
}

TEST_CASE("MomentumStrategy: falling mids sell at the best bid") {
  MomentumStrategy s(params(4, 3));
  Feed f(s);
  f.tick(0);
  f.tick(-1);
  f.tick(-1);
  REQUIRE(f.tick(-3));
  CHECK(f.out.side == Side::Sell);
  CHECK(f.out.price == f.bid());
  CHECK(f.out.mdTimestamp == f.mdTimestamp());
}

TEST_CASE("MomentumStrategy: a move just under the threshold, or none, does nothing") {
  MomentumStrategy s(params(4, 3));
  Feed f(s);
  CHECK(f.hold(0, 10) == 0);
  CHECK_FALSE(f.tick(1));
  CHECK_FALSE(f.tick(2)); // 2 ticks over the window: under 3
  CHECK_FALSE(f.tick(-1));
  CHECK(s.signals() == 0);
}

TEST_CASE("MomentumStrategy: nothing before the window is full") {
  MomentumStrategy s(params(8, 3));
  Feed f(s);
  for (int i = 0; i < 7; ++i)
    CHECK_FALSE(f.tick(10 * i)); // huge moves, but fewer than 8 mids
  CHECK(f.tick(70));
}

TEST_CASE("MomentumStrategy: the cooldown holds a symbol's next order back") {
  StrategyParams p = params(2, 1);
  p.cooldownNs = 100 * kMs;
  MomentumStrategy s(p);
  Feed f(s);
  f.tick(0);
  REQUIRE(f.tick(1)); // at t
  // Still rising every 10 ms, but within 100 ms of the order.
  for (int i = 2; i <= 10; ++i)
    CHECK_FALSE(f.tick(i)); // t + 10 .. t + 90 ms
  CHECK(f.tick(11));        // t + 100 ms
  CHECK(s.intents() == 2);
  CHECK(s.signals() == 11);
}

TEST_CASE("MomentumStrategy: at the position cap only orders that reduce it") {
  StrategyParams p = params(2, 1);
  p.cooldownNs = 0;
  p.maxPosition = 200;
  MomentumStrategy s(p);
  Feed f(s);
  f.tick(0);
  CHECK_FALSE(f.tick(1, 200)); // rising, already long 200: no buy
  CHECK_FALSE(f.tick(2, 250)); // nor beyond it
  REQUIRE(f.tick(1, 200));     // falling: sell reduces the long
  CHECK(f.out.side == Side::Sell);
  CHECK(f.out.qty == 10);
  CHECK_FALSE(f.tick(0, -200)); // falling, already short 200: no sell
  REQUIRE(f.tick(1, -200));     // rising: buy reduces the short
  CHECK(f.out.side == Side::Buy);
}

TEST_CASE("MomentumStrategy: near the cap the order is cut to what the cap leaves") {
  StrategyParams p = params(2, 1);
  p.cooldownNs = 0;
  MomentumStrategy s(p);
  Feed f(s);
  f.tick(0);
  REQUIRE(f.tick(1, 196));
  CHECK(f.out.qty == 4);
  REQUIRE(f.tick(0, -193));
  CHECK(f.out.qty == 7);
}

TEST_CASE("MomentumStrategy: aggressTicks and DAY orders") {
  StrategyParams p = params(2, 1);
  p.aggressTicks = 2;
  p.ioc = false;
  p.cooldownNs = 0;
  MomentumStrategy s(p);
  Feed f(s);
  f.tick(0);
  REQUIRE(f.tick(1));
  CHECK(f.out.price == f.ask() + 2 * kTick);
  CHECK(f.out.tif == Tif::Day);
  REQUIRE(f.tick(0));
  CHECK(f.out.price == f.bid() - 2 * kTick);
}

TEST_CASE("MomentumStrategy: wire prices at the ends of i64 neither overflow nor mislead it") {
  // The protocol allows any i64 price. A mid that jumps from near INT64_MIN to near INT64_MAX
  // is a rise (a wrapped subtraction would call it a fall), and an order price beyond i64
  // is not sent.
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  StrategyParams p = params(2, 1);
  p.cooldownNs = 0;
  MomentumStrategy s(p);
  Feed f(s);
  CHECK_FALSE(f.quote(lo, lo + 2));
  REQUIRE(f.quote(hi - 2, hi));
  CHECK(f.out.side == Side::Buy);
  CHECK(f.out.price == hi);
  CHECK_FALSE(f.quote(lo, lo + 2)); // the fall back: a sell signal, but no positive price
  CHECK(s.signals() == 2);
  CHECK(s.intents() == 1);

  p.aggressTicks = 1; // the ask plus one tick is past INT64_MAX: no order
  MomentumStrategy t(p);
  Feed g(t);
  CHECK_FALSE(g.quote(1, 3));
  CHECK_FALSE(g.quote(hi - 2, hi));
  CHECK(t.intents() == 0);
  CHECK(t.signals() == 1);
}

TEST_CASE("MomentumStrategy: a one-sided book or a symbol without a slot makes nothing") {
  MomentumStrategy s(params(2, 1));
  OrderBook oneSided(kSym);
  const MdEntry e[1] = {{1000000, 1, 1, 0, 0}};
  std::vector<std::byte> bytes(hft::protocol::marketDataSize(1));
  REQUIRE(hft::protocol::encodeMarketData(bytes.data(), 1, 1, kSym, e) == bytes.size());
  REQUIRE(oneSided.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
  OrderIntent out;
  CHECK_FALSE(s.onBookUpdate(oneSided, kSym, 0, 0, 1, out));
  CHECK_FALSE(s.onBookUpdate(oneSided, 0, 0, 0, 1, out));
  CHECK_FALSE(s.onBookUpdate(oneSided, 4096, 0, 0, 1, out));
}

TEST_CASE("MomentumStrategy: symbols keep their own windows and cooldowns") {
  StrategyParams p = params(2, 1);
  MomentumStrategy s(p);
  Feed a(s);
  a.tick(0);
  REQUIRE(a.tick(1));
  // Another symbol's book at a far higher mid does not count as a move for kSym's window.
  OrderBook other(9);
  const MdEntry e[2] = {{5000000, 1, 0, 0, 0}, {5000100, 1, 1, 0, 0}};
  std::vector<std::byte> bytes(hft::protocol::marketDataSize(2));
  REQUIRE(hft::protocol::encodeMarketData(bytes.data(), 1, 1, 9, e) == bytes.size());
  REQUIRE(other.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
  OrderIntent out;
  CHECK_FALSE(s.onBookUpdate(other, 9, 0, 1, 1, out)); // first mid of symbol 9
}

TEST_CASE("MomentumStrategy: a new lookback restarts the windows; other changes apply at once") {
  MomentumStrategy s(params(2, 1));
  Feed f(s);
  f.tick(0);
  StrategyParams p = params(3, 1);
  p.orderQty = 4;
  s.setParams(p);
  CHECK(s.params().orderQty == 4);
  CHECK_FALSE(f.tick(5)); // window restarted: 1 mid
  CHECK_FALSE(f.tick(6)); // 2 mids
  REQUIRE(f.tick(7));     // 3 mids, 2 ticks
  CHECK(f.out.qty == 4);
  p.thresholdTicks = 5;
  p.cooldownNs = 0;
  s.setParams(p);
  CHECK_FALSE(f.tick(8));  // window kept (6,7,8): 2 ticks, under the new 5
  CHECK_FALSE(f.tick(11)); // (7,8,11): 4 ticks
  CHECK(f.tick(13));       // (8,11,13): 5 ticks
}

TEST_CASE("MomentumStrategy: at defaults it trades exchange-sim's default market, not floods it") {
  // exchange-sim's defaults: 4 symbols, mids from 100.00 moving about a tick every 10 ms.
  // Every intent is taken as filled, so the position cap comes into play too.
  MomentumStrategy s{StrategyParams{}};
  const StrategyParams p;
  constexpr std::uint32_t kSymbols = 4;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> step(-1, 1);
  std::vector<OrderBook> books;
  for (std::uint32_t id = 1; id <= kSymbols; ++id)
    books.emplace_back(id);
  std::vector<std::int64_t> mid(kSymbols, 10000), position(kSymbols, 0);
  std::deque<std::uint64_t> lastSecond;
  std::size_t busiestSecond = 0, intents = 0;
  std::uint64_t lastIntentNs = 0, longestGapNs = 0;
  constexpr std::uint64_t kDurationNs = 120'000'000'000ULL; // two minutes
  for (std::uint64_t now = 10 * kMs; now <= kDurationNs; now += 10 * kMs) {
    for (std::uint32_t k = 0; k < kSymbols; ++k) {
      mid[k] += step(rng);
      const MdEntry e[2] = {{mid[k] * kTick, 50, 0, 0, 0}, {(mid[k] + 1) * kTick, 50, 1, 0, 0}};
      std::vector<std::byte> bytes(hft::protocol::marketDataSize(2));
      REQUIRE(hft::protocol::encodeMarketData(bytes.data(), 1, now, k + 1, e) == bytes.size());
      REQUIRE(books[k].applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
      OrderIntent out;
      if (!s.onBookUpdate(books[k], k + 1, position[k], now, now, out))
        continue;
      ++intents;
      position[k] += out.side == Side::Buy ? out.qty : -std::int64_t{out.qty};
      CHECK(std::abs(position[k]) <= p.maxPosition);
      longestGapNs = std::max(longestGapNs, now - lastIntentNs);
      lastIntentNs = now;
      lastSecond.push_back(now);
      while (now - lastSecond.front() >= 1'000'000'000ULL)
        lastSecond.pop_front();
      busiestSecond = std::max(busiestSecond, lastSecond.size());
    }
  }
  MESSAGE("intents: ", intents, ", busiest second: ", busiestSecond,
          ", longest gap: ", longestGapNs / kMs, " ms");
  CHECK(intents >= 120);                  // at least one a second on average
  CHECK(longestGapNs < 5'000'000'000ULL); // never quiet for 5 s
  CHECK(busiestSecond <= 25);             // half the default 50/s risk limit at most
}

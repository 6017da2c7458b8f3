// SPDX-License-Identifier: MIT
// MarketModel: valid ladders on every tick, a random walk of the configured size, one sequence
// per seed.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "exchange-sim/market/market_model.h"
#include "libhft/protocol/codec.h"

using namespace hft;
using market::MarketModel;
using market::MarketParams;

namespace {

// The symbol's snapshot as a MARKET_DATA frame, checked by the protocol library's own rules.
protocol::FrameError checkSnapshot(const MarketModel& m, std::uint32_t symbol) {
  std::array<protocol::MdEntry, protocol::kMaxMdEntries> entries;
  const std::size_t n = m.snapshot(symbol, entries);
  std::array<std::byte, sizeof(protocol::MarketData)> frame;
  const std::size_t len =
      protocol::encodeMarketData(frame.data(), 1, 1, symbol, {entries.data(), n});
  if (const auto e = protocol::checkFrame({frame.data(), len}); e != protocol::FrameError::None)
    return e;
  return protocol::checkMarketDataContent({frame.data(), static_cast<std::uint16_t>(len), 1});
}

std::vector<std::int64_t> trace(const MarketParams& p, int ticks) {
  MarketModel m(p);
  std::vector<std::int64_t> out;
  for (int t = 0; t < ticks; ++t) {
    m.tick();
    for (std::uint32_t s = 1; s <= m.symbolCount(); ++s) {
      const auto& l = m.ladder(s);
      for (std::uint32_t i = 0; i < l.depth; ++i) {
        out.push_back(l.bids[i].price);
        out.push_back(l.bids[i].qty);
        out.push_back(l.asks[i].price);
        out.push_back(l.asks[i].qty);
      }
    }
  }
  return out;
}

} // namespace

TEST_CASE("MarketModel: every ladder is valid over 20,000 ticks, even when volatile") {
  MarketParams p;
  p.symbols = 3;
  p.depth = 32; // the largest frame: 64 entries
  p.volatilityTicks = 5.0;
  p.startPrice = 5000; // starts near the floor: prices must stay > 0
  p.maxSpreadTicks = 4;
  MarketModel m(p);
  for (int t = 0; t < 20'000; ++t) {
    for (std::uint32_t s = 1; s <= p.symbols; ++s) {
      REQUIRE(checkSnapshot(m, s) == protocol::FrameError::None);
      const auto& l = m.ladder(s);
      REQUIRE(l.bids[p.depth - 1].price > 0);
      const std::int64_t spread = l.bestAsk() - l.bestBid();
      REQUIRE(spread >= p.tickSize * p.minSpreadTicks);
      REQUIRE(spread <= p.tickSize * p.maxSpreadTicks);
      REQUIRE(l.bestBid() % p.tickSize == 0);
    }
    m.tick();
  }
  CHECK(m.ticks() == 20'000);
}

TEST_CASE("MarketModel: a snapshot holds depth levels a side, bids then asks, best first") {
  MarketParams p;
  p.depth = 5;
  MarketModel m(p);
  std::array<protocol::MdEntry, protocol::kMaxMdEntries> entries;
  REQUIRE(m.snapshot(1, entries) == 10);
  for (std::uint8_t i = 0; i < 5; ++i) {
    CHECK(entries[i].side == 0);
    CHECK(entries[i].level == i);
    CHECK(entries[5 + i].side == 1);
    CHECK(entries[5 + i].level == i);
    CHECK(entries[i].qty >= p.minLevelQty);
    CHECK(entries[i].qty <= p.maxLevelQty);
  }
  // Starts around the configured price.
  CHECK(std::llabs(m.ladder(1).mid() - p.startPrice) <= p.tickSize * p.maxSpreadTicks);
}

TEST_CASE("MarketModel: the same seed gives the same ladders, another seed does not") {
  MarketParams p;
  p.seed = 1234;
  const auto a = trace(p, 500);
  const auto b = trace(p, 500);
  CHECK(a == b);
  p.seed = 1235;
  CHECK(trace(p, 500) != a);
}

TEST_CASE("MarketModel: with no volatility and a fixed spread the prices never move") {
  MarketParams p;
  p.volatilityTicks = 0.0;
  p.minSpreadTicks = p.maxSpreadTicks = 2;
  MarketModel m(p);
  const std::int64_t bid = m.ladder(2).bestBid();
  for (int t = 0; t < 1000; ++t) {
    m.tick();
    REQUIRE(m.ladder(2).bestBid() == bid);
    REQUIRE(m.ladder(2).bestAsk() == bid + 2 * p.tickSize);
  }
}

TEST_CASE("MarketModel: the mid's step per tick has the configured standard deviation") {
  MarketParams p;
  p.symbols = 1;
  p.volatilityTicks = 3.0;
  p.startPrice = 100'000'000; // far from the floor
  MarketModel m(p);
  double sumSq = 0;
  constexpr int kTicks = 20'000;
  // Best bid + best ask moves by twice the mid's step, whatever the spread drawn.
  std::int64_t prev = m.ladder(1).bestBid() + m.ladder(1).bestAsk();
  for (int t = 0; t < kTicks; ++t) {
    m.tick();
    const std::int64_t now = m.ladder(1).bestBid() + m.ladder(1).bestAsk();
    const double stepTicks =
        static_cast<double>(now - prev) / 2.0 / static_cast<double>(p.tickSize);
    sumSq += stepTicks * stepTicks;
    prev = now;
  }
  const double sd = std::sqrt(sumSq / kTicks);
  // The spread's own noise adds a little: about 3 ticks, well within 2.5 to 3.5.
  CHECK(sd > 2.5);
  CHECK(sd < 3.5);
}

TEST_CASE("MarketModel: validate() refuses what cannot make a valid ladder") {
  MarketParams p;
  CHECK(std::string(MarketModel::validate(p)).empty());
  p.depth = 33;
  CHECK(!std::string(MarketModel::validate(p)).empty());
  p = {};
  p.minSpreadTicks = 0;
  CHECK(!std::string(MarketModel::validate(p)).empty());
  p = {};
  p.minLevelQty = 0;
  CHECK(!std::string(MarketModel::validate(p)).empty());
  p = {};
  p.maxSpreadTicks = 0;
  CHECK(!std::string(MarketModel::validate(p)).empty());
}

TEST_CASE("Rng: the same seed gives the same sequence and between() stays in range") {
  market::Rng a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next();
    REQUIRE(x == b.next());
    differs |= x != c.next();
    const auto v = a.between(3, 9);
    (void)b.between(3, 9);
    REQUIRE(v >= 3);
    REQUIRE(v <= 9);
  }
  CHECK(differs);
}

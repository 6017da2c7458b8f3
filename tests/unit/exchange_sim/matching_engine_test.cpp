// SPDX-License-Identifier: MIT
// MatchingEngine: acks, the fill model, walking the ladder, IOC expiry, resting orders, cancels,
// every reject reason, cancel-on-disconnect and the cum + leaves invariant.
#include <doctest/doctest.h>

#include <array>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "exchange-sim/market/market_model.h"
#include "exchange-sim/matching/matching_engine.h"

using namespace hft;
using matching::MatchingEngine;
using matching::MatchingParams;
using protocol::ExecType;
using protocol::RejectReason;

namespace {

struct Recorder final : matching::ReportSink {
  struct Entry {
    std::uint32_t session;
    alignas(8) protocol::ExecutionReport report; // packed: keep its fields naturally aligned
  };
  std::vector<Entry> entries;

  void onExecutionReport(std::uint32_t session,
                         const protocol::ExecutionReport& report) noexcept override {
    entries.push_back({session, report});
  }
  // Reports so far, forgetting them.
  std::vector<protocol::ExecutionReport> drain() {
    std::vector<protocol::ExecutionReport> out;
    for (const auto& e : entries)
      out.push_back(e.report);
    entries.clear();
    return out;
  }
};

// A still market: bid 100.00, ask 100.01, 100 shares on each of 5 levels a side.
market::MarketParams stillMarket() {
  market::MarketParams p;
  p.symbols = 2;
  p.depth = 5;
  p.volatilityTicks = 0.0;
  p.minSpreadTicks = p.maxSpreadTicks = 1;
  p.minLevelQty = p.maxLevelQty = 100;
  return p;
}

constexpr std::int64_t kBid = 1'000'000;
constexpr std::int64_t kAsk = 1'000'100;
constexpr std::int64_t kTick = 100;

struct Exchange {
  explicit Exchange(MatchingParams params = alwaysFill(),
                    const market::MarketParams& marketParams = stillMarket())
      : market(marketParams), engine(std::make_unique<MatchingEngine>(params, market, sink)) {
    engine->openSession(0);
    engine->openSession(1);
  }
  static MatchingParams alwaysFill() {
    MatchingParams p;
    p.fillProbPercent = 100.0;
    p.maxSessions = 4;
    return p;
  }
  void tick() {
    market.tick();
    engine->onTick();
  }

  market::MarketModel market;
  Recorder sink;
  std::unique_ptr<MatchingEngine> engine;
};

protocol::NewOrder order(std::uint64_t clOrdId, protocol::Side side, protocol::Tif tif,
                         std::int64_t price, std::uint32_t qty, std::uint32_t symbol = 1) {
  protocol::NewOrder o{};
  o.clOrdId = clOrdId;
  o.symbolId = symbol;
  o.side = static_cast<std::uint8_t>(side);
  o.tif = static_cast<std::uint8_t>(tif);
  o.price = price;
  o.qty = qty;
  return o;
}

protocol::CancelOrder cancel(std::uint64_t clOrdId, std::uint32_t symbol = 1) {
  protocol::CancelOrder c{};
  c.clOrdId = clOrdId;
  c.symbolId = symbol;
  return c;
}

ExecType typeOf(const protocol::ExecutionReport& r) { return static_cast<ExecType>(r.execType); }

constexpr auto kBuy = protocol::Side::Buy;
constexpr auto kSell = protocol::Side::Sell;
constexpr auto kDay = protocol::Tif::Day;
constexpr auto kIoc = protocol::Tif::Ioc;

// The single reject report of an order.
protocol::ExecutionReport rejectOf(Exchange& x, const protocol::NewOrder& o,
                                   std::uint64_t nowNs = 0) {
  x.engine->newOrder(0, o, nowNs);
  auto r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::Rejected);
  CHECK(r[0].orderId == 0);
  CHECK(r[0].cumQty == 0);
  CHECK(r[0].leavesQty == 0);
  CHECK(r[0].clOrdId == o.clOrdId);
  return r[0];
}

} // namespace

TEST_CASE("MatchingEngine: a marketable order is acknowledged, then fills at the ask") {
  Exchange x;
  x.engine->newOrder(0, order(1, kBuy, kIoc, kAsk, 10), 0);
  const auto r = x.sink.drain();
  REQUIRE(r.size() == 2);
  CHECK(typeOf(r[0]) == ExecType::New);
  CHECK(r[0].orderId != 0);
  CHECK(r[0].cumQty == 0);
  CHECK(r[0].leavesQty == 10);
  CHECK(typeOf(r[1]) == ExecType::Fill);
  CHECK(r[1].orderId == r[0].orderId);
  CHECK(r[1].lastPx == kAsk);
  CHECK(r[1].lastQty == 10);
  CHECK(r[1].cumQty == 10);
  CHECK(r[1].leavesQty == 0);
  CHECK(r[1].price == kAsk);
  CHECK(r[1].execId > r[0].execId);
  CHECK(x.engine->counters().ordersFilled == 1);
}

TEST_CASE("MatchingEngine: a sell walks the bids level by level, partially on the last") {
  Exchange x;
  x.engine->newOrder(0, order(1, kSell, kIoc, kBid - 2 * kTick, 250), 0);
  const auto r = x.sink.drain();
  REQUIRE(r.size() == 4);
  CHECK(typeOf(r[0]) == ExecType::New);
  const std::int64_t px[] = {kBid, kBid - kTick, kBid - 2 * kTick};
  const std::uint32_t qty[] = {100, 100, 50};
  std::uint32_t cum = 0;
  for (int i = 0; i < 3; ++i) {
    cum += qty[i];
    CHECK(r[1 + i].lastPx == px[i]);
    CHECK(r[1 + i].lastQty == qty[i]);
    CHECK(r[1 + i].cumQty == cum);
    CHECK(r[1 + i].leavesQty == 250 - cum);
    CHECK(typeOf(r[1 + i]) == (cum == 250 ? ExecType::Fill : ExecType::PartialFill));
  }
  CHECK(x.engine->counters().partialFills == 2);
  CHECK(x.engine->counters().fills == 3);
}

TEST_CASE("MatchingEngine: an IOC remainder beyond the displayed ladder expires") {
  Exchange x;
  x.engine->newOrder(0, order(1, kBuy, kIoc, kAsk + 10 * kTick, 600), 0);
  const auto r = x.sink.drain();
  REQUIRE(r.size() == 7); // ack, five levels, expiry
  CHECK(typeOf(r[5]) == ExecType::PartialFill);
  CHECK(r[5].cumQty == 500);
  CHECK(r[5].leavesQty == 100);
  CHECK(typeOf(r[6]) == ExecType::Expired);
  CHECK(r[6].cumQty == 500);
  CHECK(r[6].leavesQty == 0);
  CHECK(x.engine->counters().expired == 1);
}

TEST_CASE("MatchingEngine: an IOC stops at its limit and expires the rest") {
  Exchange x;
  x.engine->newOrder(0, order(1, kBuy, kIoc, kAsk, 150), 0);
  const auto r = x.sink.drain();
  REQUIRE(r.size() == 3);
  CHECK(typeOf(r[1]) == ExecType::PartialFill);
  CHECK(r[1].lastQty == 100);
  CHECK(typeOf(r[2]) == ExecType::Expired);
  CHECK(r[2].cumQty == 100);
  CHECK(r[2].leavesQty == 0);
}

TEST_CASE("MatchingEngine: liquidity taken in a tick is gone until the next tick") {
  Exchange x;
  x.engine->newOrder(0, order(1, kBuy, kIoc, kAsk, 100), 0);
  x.engine->newOrder(1, order(2, kBuy, kIoc, kAsk, 100), 0);
  auto r = x.sink.drain();
  REQUIRE(r.size() == 4);
  CHECK(typeOf(r[1]) == ExecType::Fill);
  CHECK(typeOf(r[3]) == ExecType::Expired); // the level was empty for the second order
  x.tick();
  x.engine->newOrder(1, order(3, kBuy, kIoc, kAsk, 100), 0);
  r = x.sink.drain();
  REQUIRE(r.size() == 2);
  CHECK(typeOf(r[1]) == ExecType::Fill);
}

TEST_CASE("MatchingEngine: a DAY remainder rests; a DAY order below the market rests whole") {
  Exchange x;
  x.engine->newOrder(0, order(1, kBuy, kDay, kAsk, 150), 0);
  auto r = x.sink.drain();
  REQUIRE(r.size() == 2);
  CHECK(typeOf(r[1]) == ExecType::PartialFill);
  CHECK(r[1].leavesQty == 50);
  x.engine->newOrder(0, order(2, kBuy, kDay, kBid - kTick, 10), 0);
  r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::New);
  CHECK(x.engine->restingOrders(0) == 2);
  CHECK(x.engine->counters().rested == 2);
}

TEST_CASE("MatchingEngine: fill probability decides once per marketable order") {
  MatchingParams never = Exchange::alwaysFill();
  never.fillProbPercent = 0.0;
  Exchange x(never);
  x.engine->newOrder(0, order(1, kBuy, kIoc, kAsk, 10), 0);
  auto r = x.sink.drain();
  REQUIRE(r.size() == 2);
  CHECK(typeOf(r[1]) == ExecType::Expired); // IOC that does not fill expires
  CHECK(r[1].cumQty == 0);
  x.engine->newOrder(0, order(2, kBuy, kDay, kAsk, 10), 0);
  r = x.sink.drain();
  REQUIRE(r.size() == 1); // DAY that does not fill rests
  CHECK(x.engine->restingOrders(0) == 1);
}

TEST_CASE("MatchingEngine: 10,000 marketable orders fill 80% +- 2% at fill_prob 80") {
  for (const std::uint64_t seed : {1ULL, 42ULL, 20240611ULL}) {
    MatchingParams p = Exchange::alwaysFill();
    p.fillProbPercent = 80.0;
    p.seed = seed;
    Exchange x(p);
    int filled = 0;
    for (std::uint64_t i = 1; i <= 10'000; ++i) {
      const bool buy = i % 2 == 0;
      x.engine->newOrder(0, order(i, buy ? kBuy : kSell, kIoc, buy ? kAsk : kBid, 1), 0);
      for (const auto& r : x.sink.drain())
        filled += typeOf(r) == ExecType::Fill;
      if (i % 50 == 0)
        x.tick(); // fresh liquidity long before the 100 displayed run out
    }
    CAPTURE(seed);
    CHECK(filled >= 7800);
    CHECK(filled <= 8200);
    CHECK(x.engine->counters().ordersFilled == static_cast<std::uint64_t>(filled));
    CHECK(x.engine->counters().ordersMarketable == 10'000);
  }
}

TEST_CASE("MatchingEngine: a resting order fills at its limit once the market trades through it") {
  market::MarketParams mp = stillMarket();
  mp.volatilityTicks = 2.0;
  mp.symbols = 1;
  Exchange x(Exchange::alwaysFill(), mp);
  const std::int64_t limit = x.market.ladder(1).bestBid() - 3 * kTick;
  x.engine->newOrder(0, order(7, kBuy, kDay, limit, 30), 0);
  REQUIRE(x.sink.drain().size() == 1);
  bool filled = false;
  for (int t = 0; t < 100'000 && !filled; ++t) {
    x.tick();
    const auto r = x.sink.drain();
    if (x.market.ladder(1).bestAsk() > limit) {
      REQUIRE(r.empty()); // never before the market reaches it
      continue;
    }
    if (x.market.ladder(1).bestAsk() == limit && (r.empty() || r[0].leavesQty != 0)) {
      // Touched, not traded through: the bids queued ahead at the limit trade first.
      for (const auto& e : r)
        CHECK(e.lastPx == limit);
      filled = !r.empty() && r.back().leavesQty == 0;
      if (!r.empty() && r.back().leavesQty != 0) {
        x.engine->cancelOrder(0, cancel(7)); // done with it: the rest of this test is through
        break;
      }
      continue;
    }
    REQUIRE(r.size() == 1);
    CHECK(typeOf(r[0]) == ExecType::Fill);
    CHECK(r[0].lastPx == limit);
    CHECK(r[0].lastQty == 30);
    CHECK(r[0].leavesQty == 0);
    filled = true;
  }
  REQUIRE(filled);
  CHECK(x.engine->restingOrders(0) == 0);
  CHECK(x.engine->counters().restingFills == 1);
  CHECK(x.engine->counters().ordersFilled == 1);
}

TEST_CASE("MatchingEngine: a resting order larger than the crossing levels fills partially") {
  market::MarketParams mp = stillMarket();
  mp.symbols = 1;
  mp.minLevelQty = mp.maxLevelQty = 10; // a still market: the order stays crossed every tick
  Exchange x(Exchange::alwaysFill(), mp);
  const std::int64_t limit = x.market.ladder(1).bestAsk() + 3 * kTick;
  // Marketable, but liquidity only goes so far: 4 levels of 10 at or under the limit.
  x.engine->newOrder(0, order(1, kBuy, kDay, limit, 1000), 0);
  auto r = x.sink.drain();
  REQUIRE(r.size() == 5);
  CHECK(r.back().cumQty == 40);
  CHECK(r.back().leavesQty == 960);
  CHECK(x.engine->restingOrders(0) == 1);
  std::uint32_t cum = 40;
  for (int t = 0; t < 100 && cum < 1000; ++t) {
    x.tick();
    for (const auto& rep : x.sink.drain()) {
      CHECK(rep.lastPx == limit);
      CHECK(rep.cumQty + rep.leavesQty == 1000);
      CHECK(rep.cumQty > cum);
      cum = rep.cumQty;
    }
  }
  CHECK(cum == 1000);
  CHECK(x.engine->restingOrders(0) == 0);
}

TEST_CASE("MatchingEngine: cancel removes a resting order; unknown ones are cancel-rejected") {
  Exchange x;
  x.engine->newOrder(0, order(5, kSell, kDay, kAsk + kTick, 20), 0);
  x.sink.drain();
  x.engine->cancelOrder(0, cancel(5));
  auto r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::Canceled);
  CHECK(r[0].clOrdId == 5);
  CHECK(r[0].orderId != 0);
  CHECK(r[0].leavesQty == 0);
  CHECK(x.engine->restingOrders(0) == 0);

  x.engine->newOrder(0, order(6, kSell, kDay, kAsk + kTick, 20), 0);
  x.sink.drain();
  x.engine->cancelOrder(0, cancel(5));  // already canceled
  x.engine->cancelOrder(0, cancel(99)); // never existed
  x.engine->cancelOrder(0, cancel(0));
  x.engine->cancelOrder(1, cancel(6));    // another session's order
  x.engine->cancelOrder(0, cancel(6, 2)); // wrong symbol
  r = x.sink.drain();
  REQUIRE(r.size() == 5);
  for (const auto& rep : r) {
    CHECK(typeOf(rep) == ExecType::CancelRejected);
    CHECK(rep.rejectReason == static_cast<std::uint8_t>(RejectReason::UnknownOrder));
  }
  x.engine->cancelOrder(0, cancel(6, 9)); // unknown symbol
  r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(r[0].rejectReason == static_cast<std::uint8_t>(RejectReason::UnknownSymbol));
  CHECK(x.engine->counters().cancels == 1);
  CHECK(x.engine->counters().cancelRejects == 6);
  CHECK(x.engine->restingOrders(0) == 1);
}

TEST_CASE("MatchingEngine: every reject reason is produced where it applies") {
  MatchingParams p = Exchange::alwaysFill();
  p.maxOrderQty = 1000;
  p.maxOpenOrders = 2;
  p.maxOrdersPerSec = 20;
  Exchange x(p);
  auto reason = [](const protocol::ExecutionReport& r) {
    return static_cast<RejectReason>(r.rejectReason);
  };
  CHECK(reason(rejectOf(x, order(1, kBuy, kDay, kBid, 1, 0))) == RejectReason::UnknownSymbol);
  CHECK(reason(rejectOf(x, order(2, kBuy, kDay, kBid, 1, 3))) == RejectReason::UnknownSymbol);
  CHECK(reason(rejectOf(x, order(3, kBuy, kDay, 0, 1))) == RejectReason::InvalidPrice);
  CHECK(reason(rejectOf(x, order(4, kBuy, kDay, -5, 1))) == RejectReason::InvalidPrice);
  CHECK(reason(rejectOf(x, order(5, kBuy, kDay, kBid, 0))) == RejectReason::InvalidQuantity);
  CHECK(reason(rejectOf(x, order(6, kBuy, kDay, kBid, 1001))) == RejectReason::InvalidQuantity);
  CHECK(reason(rejectOf(x, order(0, kBuy, kDay, kBid, 1))) == RejectReason::DuplicateClOrdId);
  auto badSide = order(7, kBuy, kDay, kBid, 1);
  badSide.side = 2;
  CHECK(reason(rejectOf(x, badSide)) == RejectReason::InvalidSideOrTif);
  auto badTif = order(8, kBuy, kDay, kBid, 1);
  badTif.tif = 2;
  CHECK(reason(rejectOf(x, badTif)) == RejectReason::InvalidSideOrTif);

  x.engine->newOrder(0, order(10, kBuy, kDay, kBid - kTick, 1), 0);
  x.engine->newOrder(0, order(11, kBuy, kDay, kBid - kTick, 1), 0);
  x.sink.drain();
  CHECK(reason(rejectOf(x, order(10, kBuy, kIoc, kBid, 1))) == RejectReason::DuplicateClOrdId);
  // The session's table of resting orders is full: a DAY order could not rest.
  CHECK(reason(rejectOf(x, order(12, kBuy, kDay, kBid - kTick, 1))) == RejectReason::Other);
  // An IOC never rests, so it still goes through.
  x.engine->newOrder(0, order(13, kBuy, kIoc, kBid, 1), 0);
  CHECK(typeOf(x.sink.drain()[0]) == ExecType::New);

  x.engine->rejectOrder(1, order(14, kBuy, kDay, kBid, 1), RejectReason::NotLoggedOn);
  auto r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(r[0].rejectReason == static_cast<std::uint8_t>(RejectReason::NotLoggedOn));
  CHECK(r[0].orderId == 0);
  x.engine->rejectCancel(1, cancel(14), RejectReason::NotLoggedOn);
  r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::CancelRejected);
  CHECK(r[0].rejectReason == static_cast<std::uint8_t>(RejectReason::NotLoggedOn));

  const auto& c = x.engine->counters();
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::UnknownSymbol)] == 2);
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::InvalidPrice)] == 2);
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::InvalidQuantity)] == 2);
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::DuplicateClOrdId)] == 2);
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::InvalidSideOrTif)] == 2);
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::Other)] == 1);
  CHECK(c.rejectsByReason[matching::reasonIndex(RejectReason::NotLoggedOn)] == 1);
  CHECK(c.cancelRejectsByReason[matching::reasonIndex(RejectReason::NotLoggedOn)] == 1);
  CHECK(c.rejects == 12);
  CHECK(c.orders == 15);
}

TEST_CASE("MatchingEngine: beyond max_orders_per_sec a session is throttled, others are not") {
  MatchingParams p = Exchange::alwaysFill();
  p.maxOrdersPerSec = 3;
  Exchange x(p);
  constexpr std::uint64_t kSec = 1'000'000'000;
  const std::uint64_t t0 = 5 * kSec;
  for (std::uint64_t i = 1; i <= 3; ++i)
    x.engine->newOrder(0, order(i, kBuy, kIoc, kBid, 1), t0 + i);
  x.sink.drain();
  CHECK(
      static_cast<RejectReason>(rejectOf(x, order(4, kBuy, kIoc, kBid, 1), t0 + 5).rejectReason) ==
      RejectReason::Throttled);
  x.engine->newOrder(1, order(4, kBuy, kIoc, kBid, 1), t0 + 10); // another session
  CHECK(typeOf(x.sink.drain()[0]) == ExecType::New);
  x.engine->newOrder(0, order(5, kBuy, kIoc, kBid, 1), t0 + kSec + 1); // the next second
  CHECK(typeOf(x.sink.drain()[0]) == ExecType::New);
  CHECK(x.engine->counters().rejectsByReason[matching::reasonIndex(RejectReason::Throttled)] == 1);
}

TEST_CASE("MatchingEngine: closing a session cancels its resting orders without reports") {
  Exchange x;
  for (std::uint64_t i = 1; i <= 3; ++i)
    x.engine->newOrder(0, order(i, kBuy, kDay, kBid - kTick, 5), 0);
  x.engine->newOrder(1, order(1, kBuy, kDay, kBid - kTick, 5), 0);
  x.sink.drain();
  CHECK(x.engine->closeSession(0) == 3);
  CHECK(x.sink.entries.empty());
  CHECK(x.engine->restingOrders(0) == 0);
  CHECK(x.engine->restingOrders(1) == 1); // the other session keeps its order
  CHECK(x.engine->counters().cancelsOnDisconnect == 3);
  // A new session in the slot starts with a clean slate: old ids are not duplicates.
  x.engine->openSession(0);
  x.engine->newOrder(0, order(1, kBuy, kDay, kBid - kTick, 5), 0);
  CHECK(typeOf(x.sink.drain()[0]) == ExecType::New);
}

TEST_CASE("MatchingEngine: random flow keeps cum + leaves = qty, acks first, exec ids rising") {
  market::MarketParams mp = stillMarket();
  mp.volatilityTicks = 1.5;
  mp.minLevelQty = 1;
  mp.maxLevelQty = 50;
  mp.maxSpreadTicks = 3;
  MatchingParams p = Exchange::alwaysFill();
  p.fillProbPercent = 70.0;
  p.maxOpenOrders = 100'000;
  Exchange x(p, mp);
  market::Rng rng(99);
  struct Tracked {
    std::uint32_t qty;
    bool acked = false;
    bool done = false;
    std::uint32_t cum = 0;
  };
  std::map<std::uint64_t, Tracked> orders[2];
  std::uint64_t lastExecId = 0;
  std::uint64_t nextId[2] = {1, 1};
  auto check = [&] {
    for (const auto& e : x.sink.entries) {
      const auto& r = e.report;
      REQUIRE(r.execId > lastExecId);
      lastExecId = r.execId;
      const ExecType t = typeOf(r);
      if (t == ExecType::Rejected || t == ExecType::CancelRejected)
        continue;
      auto it = orders[e.session].find(r.clOrdId);
      REQUIRE(it != orders[e.session].end());
      Tracked& o = it->second;
      REQUIRE(!o.done);
      REQUIRE((t == ExecType::New) != o.acked); // the ack comes first, and only once
      o.acked = true;
      REQUIRE(r.cumQty >= o.cum);
      o.cum = r.cumQty;
      if (t == ExecType::PartialFill || t == ExecType::Fill)
        REQUIRE(r.lastQty > 0);
      if (t == ExecType::Fill || t == ExecType::Canceled || t == ExecType::Expired) {
        REQUIRE(r.leavesQty == 0);
        o.done = true;
      } else {
        REQUIRE(r.cumQty + r.leavesQty == o.qty);
      }
      if (t == ExecType::Fill)
        REQUIRE(r.cumQty == o.qty);
    }
    x.sink.entries.clear();
  };
  for (int step = 0; step < 20'000; ++step) {
    const auto session = static_cast<std::uint32_t>(rng.between(0, 1));
    const auto roll = rng.between(0, 99);
    if (roll < 10) {
      x.tick();
    } else if (roll < 20 && nextId[session] > 1) {
      x.engine->cancelOrder(session, cancel(rng.between(1, nextId[session] - 1), 1));
    } else {
      const std::uint64_t id = nextId[session]++;
      const bool buy = rng.between(0, 1) == 0;
      const auto& l = x.market.ladder(1);
      const std::int64_t ref = buy ? l.bestAsk() : l.bestBid();
      const std::int64_t px = ref + (static_cast<std::int64_t>(rng.between(0, 8)) - 4) * kTick;
      const auto qty = static_cast<std::uint32_t>(rng.between(1, 200));
      orders[session][id] = {qty};
      x.engine->newOrder(
          session, order(id, buy ? kBuy : kSell, rng.between(0, 1) ? kIoc : kDay, px, qty), 0);
    }
    check();
  }
  const auto& c = x.engine->counters();
  CHECK(c.fills > 1000);
  CHECK(c.restingFills > 100);
  CHECK(c.cancels > 100);
  CHECK(c.expired > 100);
  CHECK(c.rejects == 0);
}

TEST_CASE("MatchingEngine: the same seed and flow give the same reports") {
  auto run = [](std::uint64_t seed) {
    market::MarketParams mp = stillMarket();
    mp.volatilityTicks = 1.0;
    mp.seed = seed;
    MatchingParams p = Exchange::alwaysFill();
    p.fillProbPercent = 50.0;
    p.seed = seed;
    Exchange x(p, mp);
    std::vector<std::int64_t> out;
    for (std::uint64_t i = 1; i <= 2000; ++i) {
      const auto& l = x.market.ladder(1);
      x.engine->newOrder(0,
                         order(i, i % 2 ? kBuy : kSell, i % 3 ? kIoc : kDay,
                               i % 2 ? l.bestAsk() : l.bestBid(), 30),
                         0);
      if (i % 7 == 0)
        x.tick();
    }
    for (const auto& e : x.sink.entries) {
      const protocol::ExecutionReport r = e.report;
      out.push_back(std::int64_t{r.execType});
      out.push_back(std::int64_t{r.lastPx});
      out.push_back(std::int64_t{r.lastQty});
    }
    return out;
  };
  CHECK(run(5) == run(5));
  CHECK(run(5) != run(6));
}

namespace {

// Loads symbol 1's ladder: one bid and one ask level (depth 1), then runs the engine's tick.
void setBook(Exchange& x, std::int64_t bid, std::uint32_t bidQty, std::int64_t ask,
             std::uint32_t askQty) {
  const std::array<protocol::MdEntry, 2> e{
      protocol::MdEntry{bid, bidQty, static_cast<std::uint8_t>(protocol::MdSide::Bid), 0, 0},
      protocol::MdEntry{ask, askQty, static_cast<std::uint8_t>(protocol::MdSide::Ask), 0, 0}};
  x.market.load(1, e);
  x.engine->onTick();
}

market::MarketParams oneLevel() {
  market::MarketParams p = stillMarket();
  p.symbols = 1;
  p.depth = 1;
  return p;
}

} // namespace

TEST_CASE("MatchingEngine: a resting buy fills only after the displayed bids ahead of it trade") {
  Exchange x(Exchange::alwaysFill(), oneLevel());
  // 100 displayed at the bid: the order queues behind them.
  x.engine->newOrder(0, order(1, kBuy, kDay, kBid, 10), 0);
  REQUIRE(x.sink.drain().size() == 1);

  setBook(x, kBid, 60, kAsk, 100); // 40 ahead traded or canceled: 60 still ahead
  CHECK(x.sink.drain().empty());
  setBook(x, kBid, 200, kAsk, 100); // quantity added at the bid joins behind: still 60 ahead
  CHECK(x.sink.drain().empty());
  setBook(x, kBid - kTick, 100, kBid, 50); // sellers trade 50 at our price: 10 ahead remain
  CHECK(x.sink.drain().empty());
  setBook(x, kBid - kTick, 100, kBid, 15); // 15 more: 10 to the queue ahead, 5 to us
  auto r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::PartialFill);
  CHECK(r[0].lastPx == kBid);
  CHECK(r[0].lastQty == 5);
  setBook(x, kBid - kTick, 100, kBid, 15); // nobody ahead now: the rest fills
  r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::Fill);
  CHECK(r[0].lastQty == 5);
  CHECK(r[0].cumQty == 10);
}

TEST_CASE("MatchingEngine: a market trading through a resting order's price skips its queue") {
  Exchange x(Exchange::alwaysFill(), oneLevel());
  x.engine->newOrder(0, order(1, kBuy, kDay, kBid, 10), 0);
  REQUIRE(x.sink.drain().size() == 1);
  setBook(x, kBid - 2 * kTick, 100, kBid - kTick, 100); // asks below our bid: all ahead traded
  const auto r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::Fill);
  CHECK(r[0].lastPx == kBid);
}

TEST_CASE("MatchingEngine: a resting order at a new price level has nobody ahead") {
  Exchange x(Exchange::alwaysFill(), oneLevel());
  // Beyond the displayed depth (1 level): no displayed quantity known at its price.
  x.engine->newOrder(0, order(1, kSell, kDay, kAsk + kTick, 10), 0);
  REQUIRE(x.sink.drain().size() == 1);
  setBook(x, kAsk + kTick, 10, kAsk + 2 * kTick, 100); // a bid of 10 arrives at our price
  const auto r = x.sink.drain();
  REQUIRE(r.size() == 1);
  CHECK(typeOf(r[0]) == ExecType::Fill);
}

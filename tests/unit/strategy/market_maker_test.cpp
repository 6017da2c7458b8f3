// SPDX-License-Identifier: MIT
// MarketMaker: where it quotes, how inventory skews it, when it cancels and replaces, how
// often it may, and which side it stops quoting at its position limit.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "daemon/strategy/market_maker.h"
#include "libhft/protocol/codec.h"

using namespace hft::strategy;
using hft::book::OrderBook;
using hft::protocol::ExecType;
using hft::protocol::ExecutionReport;
using hft::protocol::MdEntry;
using hft::protocol::Side;
using hft::protocol::Tif;

namespace {

constexpr std::uint32_t kSym = 2;
constexpr std::int64_t kTick = 100;
constexpr std::uint64_t kMs = 1'000'000;

// Records what the strategy asks for; ids from 1; can refuse sends.
struct FakeGateway {
  struct Sent {
    std::uint64_t clOrdId;
    OrderIntent intent;
  };
  std::vector<Sent> sent;
  std::vector<std::uint64_t> canceled;
  bool refuse = false;
  std::uint64_t nextId = 1;

  std::uint64_t send(const OrderIntent& intent) noexcept {
    if (refuse)
      return 0;
    sent.push_back({nextId, intent});
    return nextId++;
  }
  bool cancel(std::uint64_t clOrdId) noexcept {
    canceled.push_back(clOrdId);
    return true;
  }
  const Sent* last(Side side) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (it->intent.side == side)
        return &*it;
    return nullptr;
  }
  std::uint64_t lastId(Side side) const {
    const Sent* s = last(side);
    REQUIRE(s != nullptr);
    return s ? s->clOrdId : 0;
  }
};
static_assert(OrderGateway<FakeGateway>);
static_assert(Strategy<MarketMaker, FakeGateway>);

MarketMakerParams params() {
  MarketMakerParams p;
  p.orderQty = 10;
  p.halfSpreadTicks = 1;
  p.skewTicks = 1;
  p.requoteTicks = 2;
  p.minRequoteNs = 100 * kMs;
  p.maxPosition = 30;
  p.tickSize = kTick;
  return p;
}

// One symbol's book with a two-tick spread around `midTicks` (bid mid-1, ask mid+1 ticks), one
// snapshot per 10 ms of market-data time.
class Market {
public:
  Market(MarketMaker& mm, FakeGateway& gw) : mm_(mm), gw_(gw) {}

  void tick(std::int64_t midTicks, std::int64_t position = 0) {
    const std::int64_t mid = 1'000'000 + midTicks * kTick;
    const MdEntry e[2] = {{mid - kTick, 50, 0, 0, 0}, {mid + kTick, 50, 1, 0, 0}};
    std::vector<std::byte> bytes(hft::protocol::marketDataSize(2));
    mdTs_ += 10 * kMs;
    REQUIRE(hft::protocol::encodeMarketData(bytes.data(), 1, mdTs_, kSym, e) == bytes.size());
    REQUIRE(book_.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
    mm_.onBookUpdate(BookUpdate{book_, kSym, position, mdTs_, mdTs_}, gw_);
  }
  // The exchange's answer to order `clOrdId`.
  void report(std::uint64_t clOrdId, ExecType type, std::int64_t position = 0) {
    ExecutionReport r{};
    r.clOrdId = clOrdId;
    r.symbolId = kSym;
    r.execType = static_cast<std::uint8_t>(type);
    mm_.onExecution(r, position, gw_);
  }
  void ackAll() {
    for (const auto& s : gw_.sent)
      report(s.clOrdId, ExecType::New);
  }
  void skip(std::uint64_t ns) { mdTs_ += ns; }

private:
  MarketMaker& mm_;
  FakeGateway& gw_;
  OrderBook book_{kSym};
  std::uint64_t mdTs_ = 1'700'000'000'000'000'000ULL;
};

} // namespace

TEST_CASE("MarketMaker: quotes a DAY bid and ask one half spread around a flat book's mid") {
  MarketMaker mm(params());
  FakeGateway gw;
  Market m(mm, gw);
  m.tick(0);
  REQUIRE(gw.sent.size() == 2);
  const auto* bid = gw.last(Side::Buy);
  const auto* ask = gw.last(Side::Sell);
  REQUIRE(bid);
  REQUIRE(ask);
  CHECK(bid->intent.price == 1'000'000 - kTick);
  CHECK(ask->intent.price == 1'000'000 + kTick);
  CHECK(bid->intent.qty == 10);
  CHECK(bid->intent.tif == Tif::Day);
  CHECK(ask->intent.tif == Tif::Day);
  CHECK(bid->intent.symbolId == kSym);
  CHECK(bid->intent.mdTimestamp != 0);
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::Pending);
  // Nothing moved: no further orders, acknowledged or not.
  m.tick(0);
  m.ackAll();
  m.skip(500 * kMs);
  m.tick(0);
  CHECK(gw.sent.size() == 2);
  CHECK(gw.canceled.empty());
  CHECK(mm.quote(kSym, Side::Sell).state == MarketMaker::QuoteState::Live);
}

TEST_CASE("MarketMaker: a long position skews both quotes down, a short one up") {
  const MarketMakerParams p = params();
  // A ten-tick wide book: the skewed quotes stay clear of the touches.
  const Quotes flat = computeQuotes(p, 999'500, 1'000'500, 0);
  const Quotes longer = computeQuotes(p, 999'500, 1'000'500, 20); // two order_qty long
  const Quotes shorter = computeQuotes(p, 999'500, 1'000'500, -20);
  REQUIRE((flat.bid && flat.ask && longer.bid && longer.ask && shorter.bid && shorter.ask));
  CHECK(flat.bidPrice == 999'900);
  CHECK(flat.askPrice == 1'000'100);
  CHECK(longer.bidPrice == flat.bidPrice - 2 * kTick);
  CHECK(longer.askPrice == flat.askPrice - 2 * kTick);
  CHECK(shorter.bidPrice == flat.bidPrice + 2 * kTick);
  CHECK(shorter.askPrice == flat.askPrice + 2 * kTick);
  // A quote never crosses the other side's touch: the skewed ask stops one tick above the bid.
  const Quotes veryLong = computeQuotes(p, 999'900, 1'000'100, 29);
  CHECK(veryLong.askPrice == 999'900 + kTick);
  CHECK(veryLong.bidPrice < 999'900);
  // skew_ticks = 0: no skew at all.
  MarketMakerParams noSkew = p;
  noSkew.skewTicks = 0;
  CHECK(computeQuotes(noSkew, 999'500, 1'000'500, 20).bidPrice == flat.bidPrice);
}

TEST_CASE("MarketMaker: no quote on a side at its position limit, and a resting one is pulled") {
  const MarketMakerParams p = params(); // max_position 30, order_qty 10
  const Quotes atLong = computeQuotes(p, 999'900, 1'000'100, 30);
  CHECK_FALSE(atLong.bid);
  CHECK(atLong.ask);
  const Quotes atShort = computeQuotes(p, 999'900, 1'000'100, -30);
  CHECK(atShort.bid);
  CHECK_FALSE(atShort.ask);
  // Near the limit the quote shrinks to the room left.
  const Quotes near = computeQuotes(p, 999'900, 1'000'100, 25);
  CHECK(near.bidQty == 5);
  CHECK(near.askQty == 10);

  MarketMaker mm(p);
  FakeGateway gw;
  Market m(mm, gw);
  m.tick(0);
  m.ackAll();
  const std::uint64_t bidId = gw.lastId(Side::Buy);
  // Long 30 now (fills elsewhere): the bid is canceled at once, before the requote interval.
  m.tick(0, 30);
  REQUIRE(!gw.canceled.empty());
  CHECK(gw.canceled.front() == bidId);
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::None);
  for (const auto& s : gw.sent)
    if (s.clOrdId > bidId)
      CHECK(s.intent.side == Side::Sell); // no new bid while at the limit
}

TEST_CASE("MarketMaker: cancels and replaces both quotes once the mid moves requote_ticks") {
  MarketMaker mm(params()); // requote_ticks 2, min_requote 100 ms
  FakeGateway gw;
  Market m(mm, gw);
  m.tick(0);
  m.ackAll();
  m.skip(200 * kMs);
  m.tick(1); // one tick: below requote_ticks
  CHECK(gw.sent.size() == 2);
  CHECK(gw.canceled.empty());
  m.tick(2); // two ticks from where the quotes were placed
  REQUIRE(gw.canceled.size() == 2);
  CHECK(gw.canceled[0] == 1);
  CHECK(gw.canceled[1] == 2);
  REQUIRE(gw.sent.size() == 4);
  CHECK(gw.sent[2].intent.side == Side::Buy);
  CHECK(gw.sent[2].intent.price == 1'000'000 + 2 * kTick - kTick);
  CHECK(gw.sent[3].intent.price == 1'000'000 + 2 * kTick + kTick);
  CHECK(mm.requotes() == 2);
  // The replaced quotes' late reports (canceled) are ignored: the new ones stay tracked.
  m.report(1, ExecType::Canceled);
  m.report(2, ExecType::Canceled);
  CHECK(mm.quote(kSym, Side::Buy).clOrdId == 3);
  CHECK(mm.quote(kSym, Side::Sell).clOrdId == 4);
}

TEST_CASE("MarketMaker: a quote not acknowledged yet is replaced all the same") {
  // Waiting for the ack would make the decision depend on when it arrives, not on the market.
  MarketMaker mm(params());
  FakeGateway gw;
  Market m(mm, gw);
  m.tick(0);
  m.skip(200 * kMs);
  m.tick(3); // moved; both quotes still pending
  REQUIRE(gw.canceled.size() == 2);
  CHECK(gw.canceled[0] == 1);
  CHECK(gw.canceled[1] == 2);
  CHECK(gw.sent.size() == 4);
  m.report(1, ExecType::New); // the replaced quote's late ack changes nothing
  CHECK(mm.quote(kSym, Side::Buy).clOrdId == 3);
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::Pending);
  m.report(3, ExecType::New);
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::Live);
}

TEST_CASE("MarketMaker: placements are at least min_requote_ms apart on market-data time") {
  MarketMakerParams p = params();
  p.minRequoteNs = 100 * kMs;
  MarketMaker mm(p);
  FakeGateway gw;
  Market m(mm, gw);
  m.tick(0); // t = 10 ms: placed
  m.ackAll();
  // The mid climbs 3 ticks every 10 ms: a requote is due on every update, allowed every 100 ms.
  int placements = 0;
  std::size_t before = gw.sent.size();
  for (int i = 1; i <= 100; ++i) { // one second of updates
    m.tick(3 * i);
    m.ackAll();
    if (gw.sent.size() != before)
      ++placements;
    before = gw.sent.size();
  }
  CHECK(placements == 10); // every tenth 10 ms update
  CHECK(gw.sent.size() == 2 + 2 * 10);
  CHECK(mm.throttled() == 90);
  // Over one second: at most 2 * 1000 / min_requote_ms new orders per symbol.
  CHECK(gw.sent.size() - 2 <= 2 * 1000 / 100);
}

TEST_CASE("MarketMaker: a filled side is quoted again, at the skew of the new position") {
  MarketMaker mm(params());
  FakeGateway gw;
  Market m(mm, gw);
  m.tick(0);
  m.ackAll();
  const std::uint64_t bidId = gw.lastId(Side::Buy);
  m.report(bidId, ExecType::Fill, 10); // bought 10
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::None);
  m.skip(200 * kMs);
  m.tick(0, 10);
  // The ask is stale (its skew was for position 0): replaced one tick lower; a new bid too.
  REQUIRE(gw.canceled.size() == 1);
  CHECK(gw.canceled[0] == gw.sent[1].clOrdId);
  const auto* bid = gw.last(Side::Buy);
  const auto* ask = gw.last(Side::Sell);
  REQUIRE(bid);
  REQUIRE(ask);
  CHECK(bid->clOrdId > bidId);
  CHECK(bid->intent.price == 1'000'000 - 2 * kTick);
  CHECK(ask->intent.price == 1'000'000);
}

TEST_CASE("MarketMaker: a refused quote is retried after the interval; reset forgets quotes") {
  MarketMaker mm(params()); // min_requote 100 ms
  FakeGateway gw;
  gw.refuse = true;
  Market m(mm, gw);
  m.tick(0);
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::None);
  gw.refuse = false;
  m.tick(0); // 10 ms later: the refused attempt started the interval
  CHECK(gw.sent.empty());
  m.skip(100 * kMs);
  m.tick(0);
  CHECK(gw.sent.size() == 2);
  mm.reset();
  CHECK(mm.quote(kSym, Side::Buy).state == MarketMaker::QuoteState::None);
  m.tick(0);
  CHECK(gw.sent.size() == 4); // quotes again at once after a reset
  CHECK(gw.canceled.empty());
}

TEST_CASE("MarketMaker: prices at the edge of i64 and a one-sided book make no quote") {
  const MarketMakerParams p = params();
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  const Quotes top = computeQuotes(p, kMax - 300, kMax - 100, -10);
  CHECK(top.bid);
  CHECK_FALSE(top.ask); // above i64: no price an order can carry
  const Quotes bottom = computeQuotes(p, 100, 200, 0);
  CHECK_FALSE(bottom.bid); // at or below 0
  CHECK(bottom.ask);

  MarketMaker mm(p);
  FakeGateway gw;
  OrderBook book(kSym);
  const MdEntry e[1] = {{999'900, 10, 0, 0, 0}};
  std::vector<std::byte> bytes(hft::protocol::marketDataSize(1));
  REQUIRE(hft::protocol::encodeMarketData(bytes.data(), 1, 5, kSym, e) == bytes.size());
  REQUIRE(book.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
  mm.onBookUpdate(BookUpdate{book, kSym, 0, 1, 5}, gw);
  CHECK(gw.sent.empty());
}

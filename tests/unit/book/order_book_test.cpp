// SPDX-License-Identifier: MIT
// OrderBook and BookSet: snapshots in, best prices, mid, spread and refusals out.
#include <doctest/doctest.h>

#include <cstring>
#include <initializer_list>
#include <limits>
#include <vector>

#include "daemon/book/order_book.h"
#include "libhft/protocol/codec.h"

using namespace hft::book;
using namespace hft::protocol;

namespace {

constexpr std::uint8_t kBid = 0;
constexpr std::uint8_t kAsk = 1;

struct Frame {
  std::vector<std::byte> bytes;
  FrameView view() const {
    Header h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    return {bytes.data(), h.msgLength, h.msgType};
  }
};

Frame snapshot(std::uint32_t symbol, std::initializer_list<MdEntry> entries,
               std::uint64_t timestamp = 1000) {
  Frame f;
  f.bytes.resize(marketDataSize(entries.size()));
  const std::vector<MdEntry> e(entries);
  REQUIRE(encodeMarketData(f.bytes.data(), 1, timestamp, symbol, e) == f.bytes.size());
  REQUIRE(checkFrame(f.bytes) == FrameError::None);
  return f;
}

// 100.00 / 100.02 with two levels a side, entries interleaved as a sender may.
Frame twoByTwo(std::uint32_t symbol = 3, std::uint64_t timestamp = 1000) {
  return snapshot(symbol,
                  {{1000000, 5, kBid, 0, 0},
                   {1000200, 7, kAsk, 0, 0},
                   {999900, 9, kBid, 1, 0},
                   {1000300, 11, kAsk, 1, 0}},
                  timestamp);
}

} // namespace

TEST_CASE("OrderBook: a snapshot gives best bid, best ask, mid, spread and every level") {
  OrderBook book(3);
  REQUIRE(book.applySnapshot(twoByTwo(3, 4242).view()));
  CHECK(book.bestBid().valid);
  CHECK(book.bestBid().price == 1000000);
  CHECK(book.bestBid().qty == 5);
  CHECK(book.bestAsk().valid);
  CHECK(book.bestAsk().price == 1000200);
  CHECK(book.bestAsk().qty == 7);
  CHECK(book.mid() == 1000100);
  CHECK(book.spread() == 200);
  CHECK(book.depth(MdSide::Bid) == 2);
  CHECK(book.depth(MdSide::Ask) == 2);
  CHECK(book.level(1, MdSide::Bid).price == 999900);
  CHECK(book.level(1, MdSide::Bid).qty == 9);
  CHECK(book.level(1, MdSide::Ask).price == 1000300);
  CHECK(book.level(1, MdSide::Ask).qty == 11);
  CHECK_FALSE(book.level(2, MdSide::Ask).valid);
  CHECK(book.updateCount() == 1);
  CHECK(book.lastExchangeTimestamp() == 4242);
}

TEST_CASE("OrderBook: each snapshot replaces the whole ladder") {
  OrderBook book(3);
  REQUIRE(book.applySnapshot(twoByTwo().view()));
  REQUIRE(book.applySnapshot(
      snapshot(3, {{1000100, 1, kBid, 0, 0}, {1000400, 2, kAsk, 0, 0}}, 2000).view()));
  CHECK(book.bestBid().price == 1000100);
  CHECK(book.bestAsk().price == 1000400);
  CHECK(book.depth(MdSide::Bid) == 1);
  CHECK_FALSE(book.level(1, MdSide::Bid).valid);
  CHECK(book.mid() == 1000250);
  CHECK(book.updateCount() == 2);
  CHECK(book.lastExchangeTimestamp() == 2000);
}

TEST_CASE("OrderBook: an odd mid rounds toward zero") {
  OrderBook book(3);
  REQUIRE(
      book.applySnapshot(snapshot(3, {{1000000, 1, kBid, 0, 0}, {1000001, 1, kAsk, 0, 0}}).view()));
  CHECK(book.mid() == 1000000);
  CHECK(book.spread() == 1);
}

// Found by tests/fuzz (fuzz_order_book, UBSan): (bid + ask) / 2 overflowed on prices the wire
// allows, and so did ask - bid across 0.
TEST_CASE("OrderBook: mid and spread of extreme prices do not overflow") {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  struct Case {
    std::int64_t bid, ask, mid, spread;
  };
  const Case cases[] = {
      {kMax - 2, kMax, kMax - 1, 2},
      {kMax - 1, kMax, kMax - 1, 1},
      {std::int64_t{1} << 62, (std::int64_t{1} << 62) + 3, (std::int64_t{1} << 62) + 1, 3},
      {kMin, kMin + 3, kMin + 2, 3},                              // -2^63 + 1.5 rounds toward zero
      {-(std::int64_t{1} << 62), std::int64_t{1} << 62, 0, kMax}, // 2^63 saturates
      {kMin, kMax, 0, kMax},
      {-4, 1, -1, 5},
      {-2, 1, 0, 3},
      {-3, 4, 0, 7},
  };
  for (const Case& c : cases) {
    CAPTURE(c.bid);
    CAPTURE(c.ask);
    OrderBook book(3);
    const Frame f = snapshot(3, {{c.bid, 1, kBid, 0, 0}, {c.ask, 1, kAsk, 0, 0}});
    REQUIRE(book.applySnapshot(f.view()));
    CHECK(book.mid() == c.mid);
    CHECK(book.spread() == c.spread);
  }
}

TEST_CASE("OrderBook: an empty side has no best price, no mid and no spread") {
  OrderBook book(3);
  CHECK_FALSE(book.bestBid().valid);
  CHECK(book.mid() == 0);
  REQUIRE(book.applySnapshot(snapshot(3, {{1000200, 7, kAsk, 0, 0}}).view()));
  CHECK_FALSE(book.bestBid().valid);
  CHECK(book.bestAsk().valid);
  CHECK(book.bestAsk().price == 1000200);
  CHECK_FALSE(book.hasBothSides());
  CHECK(book.mid() == 0);
  CHECK(book.spread() == 0);
  REQUIRE(book.applySnapshot(snapshot(3, {}).view()));
  CHECK_FALSE(book.bestAsk().valid);
  CHECK(book.depth(MdSide::Ask) == 0);
}

TEST_CASE("OrderBook: a full 64-level side is kept") {
  std::vector<MdEntry> e;
  for (std::uint8_t i = 0; i < 64; ++i)
    e.push_back({1000000 - 100 * i, 1u + i, kBid, i, 0});
  std::vector<std::byte> bytes(marketDataSize(e.size()));
  REQUIRE(encodeMarketData(bytes.data(), 1, 1, 9, e) == bytes.size());
  OrderBook book(9);
  REQUIRE(book.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
  CHECK(book.depth(MdSide::Bid) == 64);
  CHECK(book.level(63, MdSide::Bid).price == 1000000 - 6300);
  CHECK(book.level(63, MdSide::Bid).qty == 64);
}

TEST_CASE("OrderBook: content the spec forbids is refused and empties the book") {
  struct Case {
    const char* what;
    Frame frame;
  };
  const Case cases[] = {
      {"crossed", snapshot(3, {{1000300, 1, kBid, 0, 0}, {1000200, 1, kAsk, 0, 0}})},
      {"locked", snapshot(3, {{1000200, 1, kBid, 0, 0}, {1000200, 1, kAsk, 0, 0}})},
      {"bids rising", snapshot(3, {{1000000, 1, kBid, 0, 0}, {1000100, 1, kBid, 1, 0}})},
      {"asks falling", snapshot(3, {{1000300, 1, kAsk, 0, 0}, {1000200, 1, kAsk, 1, 0}})},
      {"equal levels", snapshot(3, {{1000300, 1, kAsk, 0, 0}, {1000300, 1, kAsk, 1, 0}})},
      {"zero qty", snapshot(3, {{1000000, 0, kBid, 0, 0}})},
      {"bad side", snapshot(3, {{1000000, 1, 2, 0, 0}})},
      {"level gap", snapshot(3, {{1000000, 1, kBid, 0, 0}, {999800, 1, kBid, 2, 0}})},
      {"no level 0", snapshot(3, {{1000000, 1, kBid, 1, 0}})},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    OrderBook book(3);
    REQUIRE(book.applySnapshot(twoByTwo().view()));
    CHECK_FALSE(book.applySnapshot(c.frame.view()));
    CHECK_FALSE(book.bestBid().valid);
    CHECK_FALSE(book.bestAsk().valid);
    CHECK(book.mid() == 0);
    CHECK(book.updateCount() == 1);
    CHECK(book.refusedCount() == 1);
    // The shared content check agrees: the book refuses nothing the codec would pass.
    CHECK(checkMarketDataContent(c.frame.view()) != FrameError::None);
  }
}

TEST_CASE("OrderBook: a frame without the snapshot flag is refused") {
  Frame f = twoByTwo();
  const std::uint16_t flags = 0;
  std::memcpy(f.bytes.data() + offsetof(MarketDataHead, flags), &flags, sizeof(flags));
  OrderBook book(3);
  CHECK_FALSE(book.applySnapshot(f.view()));
  CHECK(book.updateCount() == 0);
}

TEST_CASE("OrderBook: another symbol's frame or another type is refused and changes nothing") {
  OrderBook book(3);
  REQUIRE(book.applySnapshot(twoByTwo(3).view()));
  CHECK_FALSE(book.applySnapshot(twoByTwo(4).view()));
  CHECK(book.bestBid().price == 1000000);
  CHECK(book.symbolId() == 3);
  Heartbeat hb{};
  stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 1, 1);
  std::byte raw[sizeof(hb)];
  std::memcpy(raw, &hb, sizeof(hb));
  CHECK_FALSE(book.applySnapshot({raw, sizeof(hb), 7}));
  CHECK(book.mid() == 1000100);
}

TEST_CASE("BookSet: ids 1..255 have their own book; 0 and ids past 255 have none") {
  BookSet books;
  CHECK(books.find(0) == nullptr);
  CHECK(books.find(256) == nullptr);
  CHECK(books.find(0xFFFFFFFFu) == nullptr);
  REQUIRE(books.find(1) != nullptr);
  REQUIRE(books.find(255) != nullptr);
  CHECK(books.find(1) != books.find(2));
  CHECK(books.find(255)->symbolId() == 255);
  OrderBook* book = books.find(7);
  REQUIRE(book->applySnapshot(twoByTwo(7).view()));
  CHECK(books.find(7)->mid() == 1000100);
  CHECK(books.find(8)->mid() == 0);
  CHECK_FALSE(books.find(8)->applySnapshot(twoByTwo(7).view()));
}

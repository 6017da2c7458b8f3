// SPDX-License-Identifier: MIT
// PositionBook: positions, average entry, realized and unrealized PnL with known numbers.
#include <doctest/doctest.h>

#include "daemon/order/position_book.h"

using namespace hft::order;
using hft::protocol::Side;

namespace {
constexpr std::uint32_t kSym = 1;
constexpr std::int64_t px(double currency) {
  return static_cast<std::int64_t>(currency * 10000 + 0.5);
}
} // namespace

TEST_CASE("PositionBook: buys build a long at the volume-weighted average price") {
  PositionBook pb;
  REQUIRE(pb.onFill(kSym, Side::Buy, px(100.00), 10));
  REQUIRE(pb.onFill(kSym, Side::Buy, px(101.00), 30));
  CHECK(pb.position(kSym) == 40);
  CHECK(pb.averageEntryPrice(kSym) == px(100.75));
  CHECK(pb.realizedRaw(kSym) == 0);
  // Marked at 101.50: 40 x (101.50 - 100.75) = 30.00
  CHECK(pb.unrealizedRaw(kSym, px(101.50)) == 300000);
  CHECK(pb.unrealizedPnl(kSym, px(101.50)) == doctest::Approx(30.0));
  CHECK(pb.at(kSym).boughtQty == 40);
}

TEST_CASE("PositionBook: selling part of a long realizes against the average entry") {
  PositionBook pb;
  REQUIRE(pb.onFill(kSym, Side::Buy, px(100.00), 10));
  REQUIRE(pb.onFill(kSym, Side::Buy, px(102.00), 10)); // avg 101.00
  REQUIRE(pb.onFill(kSym, Side::Sell, px(103.00), 5)); // 5 x 2.00 = 10.00
  CHECK(pb.position(kSym) == 15);
  CHECK(pb.realizedRaw(kSym) == 100000);
  CHECK(pb.realizedPnl(kSym) == doctest::Approx(10.0));
  CHECK(pb.averageEntryPrice(kSym) == px(101.00));
  // 15 x (100.00 - 101.00) = -15.00
  CHECK(pb.unrealizedPnl(kSym, px(100.00)) == doctest::Approx(-15.0));
  REQUIRE(pb.onFill(kSym, Side::Sell, px(99.00), 15)); // 15 x -2.00 = -30.00
  CHECK(pb.position(kSym) == 0);
  CHECK(pb.realizedPnl(kSym) == doctest::Approx(-20.0));
  CHECK(pb.averageEntryPrice(kSym) == 0);
  CHECK(pb.unrealizedRaw(kSym, px(120.00)) == 0);
  CHECK(pb.at(kSym).soldQty == 20);
}

TEST_CASE("PositionBook: a short gains when the price falls") {
  PositionBook pb;
  REQUIRE(pb.onFill(kSym, Side::Sell, px(100.00), 20));
  CHECK(pb.position(kSym) == -20);
  CHECK(pb.averageEntryPrice(kSym) == px(100.00));
  // Marked at 99.50: 20 x 0.50 = 10.00 unrealized.
  CHECK(pb.unrealizedPnl(kSym, px(99.50)) == doctest::Approx(10.0));
  REQUIRE(pb.onFill(kSym, Side::Buy, px(99.00), 8)); // 8 x 1.00 = 8.00
  CHECK(pb.position(kSym) == -12);
  CHECK(pb.realizedPnl(kSym) == doctest::Approx(8.0));
  CHECK(pb.unrealizedPnl(kSym, px(101.00)) == doctest::Approx(-12.0));
}

TEST_CASE("PositionBook: a fill through zero closes at the entry and opens the rest at the fill") {
  PositionBook pb;
  REQUIRE(pb.onFill(kSym, Side::Buy, px(100.00), 10));
  REQUIRE(pb.onFill(kSym, Side::Sell, px(101.00), 25)); // closes 10 (+10.00), opens 15 short
  CHECK(pb.position(kSym) == -15);
  CHECK(pb.realizedPnl(kSym) == doctest::Approx(10.0));
  CHECK(pb.averageEntryPrice(kSym) == px(101.00));
  CHECK(pb.unrealizedPnl(kSym, px(100.00)) == doctest::Approx(15.0));
  // And back: buy 20 at 102.00 closes 15 short (-15.00) and opens 5 long at 102.00.
  REQUIRE(pb.onFill(kSym, Side::Buy, px(102.00), 20));
  CHECK(pb.position(kSym) == 5);
  CHECK(pb.realizedPnl(kSym) == doctest::Approx(-5.0));
  CHECK(pb.averageEntryPrice(kSym) == px(102.00));
  CHECK(pb.unrealizedRaw(kSym, px(102.00)) == 0);
}

TEST_CASE("PositionBook: rounding in partial closes never leaks from a round trip") {
  PositionBook pb;
  // Cost 3 lots at 100.0001, 100.0002, 100.0002: not divisible by 3.
  REQUIRE(pb.onFill(kSym, Side::Buy, 1000001, 1));
  REQUIRE(pb.onFill(kSym, Side::Buy, 1000002, 2));
  REQUIRE(pb.onFill(kSym, Side::Sell, 1000010, 1));
  REQUIRE(pb.onFill(kSym, Side::Sell, 1000010, 1));
  REQUIRE(pb.onFill(kSym, Side::Sell, 1000010, 1));
  CHECK(pb.position(kSym) == 0);
  // Exactly 3 x 100.0010 - (100.0001 + 2 x 100.0002) = 0.0025
  CHECK(pb.realizedRaw(kSym) == 25);
}

TEST_CASE("PositionBook: symbols are independent and totals add up") {
  PositionBook pb;
  REQUIRE(pb.onFill(1, Side::Buy, px(10.00), 100));
  REQUIRE(pb.onFill(1, Side::Sell, px(10.50), 100)); // +50.00
  REQUIRE(pb.onFill(2, Side::Sell, px(20.00), 10));
  REQUIRE(pb.onFill(2, Side::Buy, px(21.00), 10)); // -10.00
  CHECK(pb.realizedPnl(1) == doctest::Approx(50.0));
  CHECK(pb.realizedPnl(2) == doctest::Approx(-10.0));
  CHECK(pb.totalRealizedPnl() == doctest::Approx(40.0));
  CHECK(pb.totalRealizedRaw() == 400000);
}

TEST_CASE("PositionBook: a symbol without a slot or a zero qty changes nothing") {
  PositionBook pb;
  CHECK_FALSE(pb.onFill(0, Side::Buy, px(1.0), 1));
  CHECK_FALSE(pb.onFill(256, Side::Buy, px(1.0), 1));
  CHECK_FALSE(pb.onFill(kSym, Side::Buy, px(1.0), 0));
  CHECK(pb.position(kSym) == 0);
  CHECK(pb.position(256) == 0);
  CHECK(pb.totalRealizedRaw() == 0);
}

TEST_CASE("PositionBook: large quantities do not overflow the proportional cost") {
  PositionBook pb;
  REQUIRE(pb.onFill(kSym, Side::Buy, px(1000.00), 4'000'000'000u));
  REQUIRE(pb.onFill(kSym, Side::Sell, px(1001.00), 3'000'000'000u));
  CHECK(pb.position(kSym) == 1'000'000'000);
  CHECK(pb.realizedRaw(kSym) == 3'000'000'000LL * 10000);
  CHECK(pb.averageEntryPrice(kSym) == px(1000.00));
}

// SPDX-License-Identifier: MIT
// Protocol v1: sizes, round trips and every malformed case of docs/protocol.md.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "libhft/protocol/codec.h"

using namespace hft::protocol;

namespace {

template <typename T> std::vector<std::byte> bytesOf(const T& frame) {
  std::vector<std::byte> out(sizeof(T));
  std::memcpy(out.data(), &frame, sizeof(T));
  return out;
}

template <typename T> T roundTrip(const T& frame) {
  const auto bytes = bytesOf(frame);
  REQUIRE(checkFrame(bytes) == FrameError::None);
  FrameView view{bytes.data(), static_cast<std::uint16_t>(bytes.size()), frame.header.msgType};
  return view.as<T>();
}

std::vector<std::byte> ladder(std::span<const MdEntry> entries, std::uint32_t symbol = 7) {
  std::vector<std::byte> out(marketDataSize(entries.size()));
  REQUIRE(encodeMarketData(out.data(), 1, 99, symbol, entries) == out.size());
  return out;
}

FrameView viewOf(const std::vector<std::byte>& bytes) {
  Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  return {bytes.data(), h.msgLength, h.msgType};
}

} // namespace

TEST_CASE("protocol: every frame has the size the spec gives") {
  CHECK(marketDataSize(0) == 24);
  CHECK(marketDataSize(3) == 72);
  CHECK(fixedFrameSize(2) == 80);
  CHECK(fixedFrameSize(3) == 56);
  CHECK(fixedFrameSize(4) == 32);
  CHECK(fixedFrameSize(5) == 48);
  CHECK(fixedFrameSize(6) == 32);
  CHECK(fixedFrameSize(7) == 16);
  CHECK(fixedFrameSize(8) == 24);
  CHECK(fixedFrameSize(9) == 0);
}

TEST_CASE("protocol: the header is little-endian at its exact offsets") {
  Heartbeat hb{};
  stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 0x01020304, 0x1122334455667788ULL);
  const auto b = bytesOf(hb);
  const std::array<unsigned, 16> expected = {0x10, 0x00, 0x07, 0x00, 0x04, 0x03, 0x02, 0x01,
                                             0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  for (std::size_t i = 0; i < expected.size(); ++i)
    CHECK(std::to_integer<unsigned>(b[i]) == expected[i]);
}

TEST_CASE("protocol: every fixed-size type survives a round trip") {
  NewOrder no{};
  stampHeader(no.header, MsgType::NewOrder, sizeof(no), 5, 123);
  no.clOrdId = 42;
  no.symbolId = 3;
  no.side = static_cast<std::uint8_t>(Side::Sell);
  no.tif = static_cast<std::uint8_t>(Tif::Ioc);
  no.price = 1012500;
  no.qty = 17;
  no.mdTimestamp = 987654321;
  const NewOrder no2 = roundTrip(no);
  CHECK(std::memcmp(&no, &no2, sizeof(no)) == 0);
  CHECK(no2.price == 1012500);
  CHECK(no2.mdTimestamp == 987654321);

  ExecutionReport er{};
  stampHeader(er.header, MsgType::ExecutionReport, sizeof(er), 9, 1);
  er.clOrdId = 42;
  er.orderId = 1001;
  er.execId = 77;
  er.symbolId = 3;
  er.execType = static_cast<std::uint8_t>(ExecType::PartialFill);
  er.side = 1;
  er.price = 1012500;
  er.lastPx = 1012400;
  er.lastQty = 5;
  er.cumQty = 5;
  er.leavesQty = 12;
  const ExecutionReport er2 = roundTrip(er);
  CHECK(std::memcmp(&er, &er2, sizeof(er)) == 0);

  CancelOrder co{};
  stampHeader(co.header, MsgType::CancelOrder, sizeof(co), 2, 3);
  co.clOrdId = 42;
  co.symbolId = 3;
  CHECK(roundTrip(co).clOrdId == 42);

  Logon lo{};
  stampHeader(lo.header, MsgType::Logon, sizeof(lo), 1, 3);
  lo.protocolVersion = kProtocolVersion;
  lo.heartbeatIntervalMs = 250;
  std::memcpy(lo.account, "desk-1", 6);
  const Logon lo2 = roundTrip(lo);
  CHECK(lo2.heartbeatIntervalMs == 250);
  CHECK(std::string(lo2.account, 6) == "desk-1");

  LogonResponse lr{};
  stampHeader(lr.header, MsgType::LogonResponse, sizeof(lr), 1, 3);
  lr.status = 1;
  lr.reason = static_cast<std::uint8_t>(LogonReason::UnsupportedVersion);
  lr.heartbeatIntervalMs = 1000;
  lr.sessionId = 0xdeadbeef;
  CHECK(roundTrip(lr).sessionId == 0xdeadbeef);

  Logout out{};
  stampHeader(out.header, MsgType::Logout, sizeof(out), 4, 3);
  out.reason = static_cast<std::uint8_t>(LogoutReason::HeartbeatTimeout);
  CHECK(roundTrip(out).reason == 2);

  Heartbeat hb{};
  stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 8, 3);
  CHECK(roundTrip(hb).header.seq == 8);
}

TEST_CASE("protocol: MARKET_DATA round-trips its ladder") {
  const std::array<MdEntry, 4> entries = {{{1000000, 10, 0, 0, 0},
                                           {999900, 20, 0, 1, 0},
                                           {1000100, 5, 1, 0, 0},
                                           {1000200, 7, 1, 1, 0}}};
  const auto bytes = ladder(entries);
  CHECK(bytes.size() == 24 + 16 * 4);
  REQUIRE(checkFrame(bytes) == FrameError::None);
  const FrameView view = viewOf(bytes);
  const auto head = view.as<MarketDataHead>();
  CHECK(head.symbolId == 7);
  CHECK(head.numEntries == 4);
  CHECK(head.flags == kMdFlagSnapshot);
  CHECK(view.mdEntry(1).price == 999900);
  CHECK(view.mdEntry(3).qty == 7);
  CHECK(checkMarketDataContent(view) == FrameError::None);
}

TEST_CASE("protocol: each malformed frame is refused with its reason") {
  Heartbeat hb{};
  stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 1, 0);
  auto b = bytesOf(hb);

  SUBCASE("shorter than a header") {
    CHECK(checkLength(15) == FrameError::TooShort);
    CHECK(checkLength(0) == FrameError::TooShort);
    CHECK(checkFrame(std::span(b).first(10)) == FrameError::TooShort);
  }
  SUBCASE("longer than 4096") {
    CHECK(checkLength(4097) == FrameError::TooLong);
    CHECK(checkLength(65535) == FrameError::TooLong);
    CHECK(checkLength(4096) == FrameError::None);
  }
  SUBCASE("a fixed type with the wrong length") {
    for (std::uint16_t type = 2; type <= 8; ++type) {
      std::vector<std::byte> f(fixedFrameSize(type) + 8);
      Header h{};
      stampHeader(h, static_cast<MsgType>(type), f.size(), 1, 0);
      std::memcpy(f.data(), &h, sizeof(h));
      CHECK(checkFrame(f) == FrameError::WrongLength);
    }
  }
  SUBCASE("MARKET_DATA whose length disagrees with num_entries") {
    const std::array<MdEntry, 2> entries = {{{100, 1, 0, 0, 0}, {200, 1, 1, 0, 0}}};
    auto md = ladder(entries);
    const std::uint16_t n = 3;
    std::memcpy(md.data() + 20, &n, 2);
    CHECK(checkFrame(md) == FrameError::WrongLength);
  }
  SUBCASE("MARKET_DATA shorter than its fixed part") {
    std::vector<std::byte> f(20);
    Header h{};
    stampHeader(h, MsgType::MarketData, f.size(), 1, 0);
    std::memcpy(f.data(), &h, sizeof(h));
    CHECK(checkFrame(f) == FrameError::WrongLength);
  }
  SUBCASE("MARKET_DATA with more than 64 entries") {
    std::vector<std::byte> f(marketDataSize(65));
    Header h{};
    stampHeader(h, MsgType::MarketData, f.size(), 1, 0);
    std::memcpy(f.data(), &h, sizeof(h));
    const std::uint16_t n = 65;
    std::memcpy(f.data() + 20, &n, 2);
    CHECK(checkFrame(f) == FrameError::TooManyEntries);
  }
  SUBCASE("a buffer shorter than msg_length") {
    CHECK(checkFrame(std::span(b).first(16)) == FrameError::None);
    hb.header.msgLength = 24;
    b = bytesOf(hb);
    CHECK(checkFrame(b) == FrameError::WrongLength);
  }
  SUBCASE("an unknown type with a valid length passes framing") {
    std::vector<std::byte> f(40);
    Header h{};
    h.msgLength = 40;
    h.msgType = 200;
    std::memcpy(f.data(), &h, sizeof(h));
    CHECK(checkFrame(f) == FrameError::None);
    CHECK_FALSE(isKnownType(200));
  }
}

TEST_CASE("protocol: a ladder that breaks the book rules is invalid content") {
  SUBCASE("bids must fall as the level rises") {
    const std::array<MdEntry, 2> e = {{{100, 1, 0, 0, 0}, {101, 1, 0, 1, 0}}};
    const auto md = ladder(e);
    CHECK(checkMarketDataContent(viewOf(md)) == FrameError::UnorderedLadder);
  }
  SUBCASE("asks must rise as the level rises") {
    const std::array<MdEntry, 2> e = {{{200, 1, 1, 0, 0}, {200, 1, 1, 1, 0}}};
    const auto md = ladder(e);
    CHECK(checkMarketDataContent(viewOf(md)) == FrameError::UnorderedLadder);
  }
  SUBCASE("best bid below best ask") {
    const std::array<MdEntry, 2> e = {{{200, 1, 0, 0, 0}, {200, 1, 1, 0, 0}}};
    const auto md = ladder(e);
    CHECK(checkMarketDataContent(viewOf(md)) == FrameError::UnorderedLadder);
  }
  SUBCASE("quantity above zero") {
    const std::array<MdEntry, 1> e = {{{200, 0, 0, 0, 0}}};
    const auto md = ladder(e);
    CHECK(checkMarketDataContent(viewOf(md)) == FrameError::ZeroQuantity);
  }
  SUBCASE("side 0 or 1") {
    const std::array<MdEntry, 1> e = {{{200, 1, 2, 0, 0}}};
    const auto md = ladder(e);
    CHECK(checkMarketDataContent(viewOf(md)) == FrameError::BadSide);
  }
  SUBCASE("levels count up from 0") {
    const std::array<MdEntry, 1> e = {{{200, 1, 0, 1, 0}}};
    const auto md = ladder(e);
    CHECK(checkMarketDataContent(viewOf(md)) == FrameError::BadLevel);
  }
}

// Found by tests/fuzz (fuzz_frame): flags 0 passed the content check while OrderBook refused it.
TEST_CASE("protocol: MARKET_DATA content needs flags to be exactly the snapshot bit") {
  const std::array<MdEntry, 2> e = {{{100, 1, 0, 0, 0}, {200, 1, 1, 0, 0}}};
  auto md = ladder(e);
  const auto setFlags = [&md](std::uint16_t flags) {
    std::memcpy(md.data() + offsetof(MarketDataHead, flags), &flags, sizeof(flags));
  };
  CHECK(checkMarketDataContent(viewOf(md)) == FrameError::None);
  setFlags(0);
  CHECK(checkMarketDataContent(viewOf(md)) == FrameError::BadFlags);
  setFlags(kMdFlagSnapshot | 2);
  CHECK(checkMarketDataContent(viewOf(md)) == FrameError::BadFlags);
}

// Found by tests/fuzz (fuzz_frame, UBSan): an empty span made memcpy take a null pointer.
TEST_CASE("protocol: a MARKET_DATA frame with no entries encodes from an empty span") {
  std::array<std::byte, sizeof(MarketDataHead)> out{};
  REQUIRE(encodeMarketData(out.data(), 1, 99, 7, std::span<const MdEntry>()) == out.size());
  CHECK(checkFrame(out) == FrameError::None);
  const FrameView view{out.data(), static_cast<std::uint16_t>(out.size()), 1};
  CHECK(view.as<MarketDataHead>().numEntries == 0);
  CHECK(checkMarketDataContent(view) == FrameError::None);
}

TEST_CASE("protocol: SeqTracker counts the frames missing between sequence numbers") {
  SeqTracker t;
  CHECK(t.onSeq(1) == 0);
  CHECK(t.onSeq(2) == 0);
  CHECK(t.onSeq(5) == 2);
  CHECK(t.onSeq(6) == 0);
  CHECK(t.gaps() == 2);
  SeqTracker late;
  CHECK(late.onSeq(3) == 2); // the first frame should have been 1
}

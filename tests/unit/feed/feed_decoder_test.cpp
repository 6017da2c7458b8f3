// SPDX-License-Identifier: MIT
// The UDP feed's datagrams: several frames each, a malformed datagram dropped whole, the
// feed's seq counted for gaps, stale frames and restarts, invalid snapshots dropped alone.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <vector>

#include "daemon/feed/feed_decoder.h"
#include "libhft/protocol/codec.h"

using namespace hft::feed;
using namespace hft::protocol;

namespace {

struct Recorder final : FeedListener {
  std::vector<std::uint32_t> seqs;
  std::vector<FrameError> errors;
  std::uint64_t missing = 0;
  void onFeedFrame(const FrameView& frame, std::uint64_t) noexcept override {
    seqs.push_back(frame.header().seq);
  }
  void onFeedBadFrame(FrameError e, std::uint16_t) noexcept override { errors.push_back(e); }
  void onFeedGap(std::uint64_t n) noexcept override { missing += n; }
};

std::vector<std::byte> snapshot(std::uint32_t seq, std::uint32_t symbol = 1) {
  const std::array<MdEntry, 2> entries = {
      MdEntry{1000000, 10, 0, 0, 0}, // bid
      MdEntry{1000100, 12, 1, 0, 0}, // ask
  };
  std::vector<std::byte> out(marketDataSize(entries.size()));
  encodeMarketData(out.data(), seq, 1, symbol, entries);
  return out;
}

std::vector<std::byte> datagram(std::initializer_list<std::vector<std::byte>> frames) {
  std::vector<std::byte> out;
  for (const auto& f : frames)
    out.insert(out.end(), f.begin(), f.end());
  return out;
}

} // namespace

TEST_CASE("FeedDecoder: every frame of a datagram is handed on, in order") {
  Recorder r;
  FeedDecoder d(r);
  d.onDatagram(datagram({snapshot(1), snapshot(2, 2), snapshot(3, 3)}), 0);
  d.onDatagram(datagram({snapshot(4)}), 0);
  CHECK(r.seqs == std::vector<std::uint32_t>{1, 2, 3, 4});
  CHECK(d.counters().datagrams == 2);
  CHECK(d.counters().marketData == 4);
  CHECK(d.counters().gaps == 0);
  CHECK(r.errors.empty());
}

TEST_CASE("FeedDecoder: a datagram with one malformed frame is dropped whole") {
  Recorder r;
  FeedDecoder d(r);
  auto bad = snapshot(2);
  const std::uint16_t wrong = 17;
  std::memcpy(bad.data(), &wrong, sizeof(wrong)); // msg_length disagrees with num_entries
  d.onDatagram(datagram({snapshot(1), bad}), 0);
  CHECK(r.seqs.empty()); // frame 1 was whole, but its datagram is not
  REQUIRE(r.errors.size() == 1);
  CHECK(d.counters().malformedDatagrams == 1);
}

TEST_CASE("FeedDecoder: a frame cut by the datagram's end, or a stray tail, drops it") {
  Recorder r;
  FeedDecoder d(r);
  const auto whole = datagram({snapshot(1), snapshot(2)});
  for (std::size_t n = 1; n < whole.size(); ++n) {
    if (n == whole.size() / 2)
      continue; // exactly one whole frame: valid
    std::vector<std::byte> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    d.onDatagram(cut, 0);
  }
  CHECK(d.counters().malformedDatagrams == whole.size() - 2);
  d.onDatagram({}, 0);
  CHECK(d.counters().emptyDatagrams == 1);
}

TEST_CASE("FeedDecoder: frames of too-long or too-short msg_length are refused") {
  Recorder r;
  FeedDecoder d(r);
  auto tooShort = snapshot(1);
  const std::uint16_t eight = 8;
  std::memcpy(tooShort.data(), &eight, 2);
  d.onDatagram(tooShort, 0);
  std::vector<std::byte> huge(5000);
  const std::uint16_t len = 4097;
  std::memcpy(huge.data(), &len, 2);
  d.onDatagram(huge, 0);
  CHECK(d.counters().malformedDatagrams == 2);
  CHECK(r.errors == std::vector<FrameError>{FrameError::TooShort, FrameError::TooLong});
}

TEST_CASE("FeedDecoder: a seq jump is a gap; older frames are stale and dropped") {
  Recorder r;
  FeedDecoder d(r);
  d.onDatagram(datagram({snapshot(1), snapshot(2)}), 0);
  d.onDatagram(datagram({snapshot(6)}), 0); // 3, 4, 5 lost
  CHECK(r.missing == 3);
  CHECK(d.counters().gaps == 3);
  d.onDatagram(datagram({snapshot(4), snapshot(7)}), 0); // 4 arrives late
  CHECK(d.counters().stale == 1);
  CHECK(r.seqs == std::vector<std::uint32_t>{1, 2, 6, 7});
  d.onDatagram(datagram({snapshot(1)}), 0); // the exchange restarted
  CHECK(d.counters().restarts == 1);
  CHECK(r.seqs.back() == 1);
  d.onDatagram(datagram({snapshot(2)}), 0);
  CHECK(d.counters().gaps == 3);
}

TEST_CASE("FeedDecoder: an invalid snapshot is dropped alone; other types are skipped") {
  Recorder r;
  FeedDecoder d(r);
  auto crossed = snapshot(2);
  const std::int64_t askBelowBid = 999900;
  std::memcpy(crossed.data() + sizeof(MarketDataHead) + sizeof(MdEntry), &askBelowBid, 8);
  Heartbeat hb{};
  stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 3, 0);
  std::vector<std::byte> hbBytes(sizeof(hb));
  writeFrame(hbBytes.data(), hb);
  d.onDatagram(datagram({snapshot(1), crossed, hbBytes, snapshot(4)}), 0);
  CHECK(r.seqs == std::vector<std::uint32_t>{1, 4});
  CHECK(d.counters().invalidMarketData == 1);
  CHECK(d.counters().otherTypes == 1);
  CHECK(d.counters().gaps == 0);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == FrameError::UnorderedLadder);
}

TEST_CASE("checkDatagram: names the first framing error") {
  CHECK(checkDatagram(datagram({snapshot(1)})) == FrameError::None);
  CHECK(checkDatagram({}) == FrameError::TooShort);
  auto s = snapshot(1);
  s.resize(10);
  CHECK(checkDatagram(s) == FrameError::TooShort);
}

// SPDX-License-Identifier: MIT
// StreamReassembler: frames split anywhere, many per read, and malformed streams.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "libhft/protocol/reassembler.h"

using namespace hft::protocol;

namespace {

// A stream of mixed frames: logon response, market data, report, heartbeat, unknown type.
std::vector<std::byte> sampleStream() {
  std::vector<std::byte> s;
  // resize + memcpy: GCC 12 misreports vector::insert of raw bytes (-Wstringop-overflow).
  auto put = [&s](const void* p, std::size_t n) {
    const std::size_t at = s.size();
    s.resize(at + n);
    std::memcpy(s.data() + at, p, n);
  };
  LogonResponse lr{};
  stampHeader(lr.header, MsgType::LogonResponse, sizeof(lr), 1, 10);
  put(&lr, sizeof(lr));
  const MdEntry e[2] = {{1000, 3, 0, 0, 0}, {1100, 4, 1, 0, 0}};
  std::byte md[sizeof(MarketData)];
  put(md, encodeMarketData(md, 2, 11, 1, e));
  ExecutionReport er{};
  stampHeader(er.header, MsgType::ExecutionReport, sizeof(er), 3, 12);
  er.clOrdId = 5;
  put(&er, sizeof(er));
  Heartbeat hb{};
  stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 4, 13);
  put(&hb, sizeof(hb));
  std::byte unknown[20] = {};
  Header h{};
  h.msgLength = 20;
  h.msgType = 99;
  h.seq = 5;
  std::memcpy(unknown, &h, sizeof(h));
  put(unknown, sizeof(unknown));
  return s;
}

std::vector<std::uint32_t> drain(StreamReassembler& r) {
  std::vector<std::uint32_t> seqs;
  FrameView f;
  FrameError err = FrameError::None;
  while (r.next(f, err) == StreamReassembler::Result::Frame)
    seqs.push_back(f.header().seq);
  CHECK(err == FrameError::None);
  return seqs;
}

} // namespace

TEST_CASE("reassembler: many frames in one read come out in order") {
  StreamReassembler r;
  const auto s = sampleStream();
  REQUIRE(r.append(s));
  CHECK((drain(r) == std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
  CHECK(r.buffered() == 0);
}

TEST_CASE("reassembler: the stream split at every byte position yields the same frames") {
  const auto s = sampleStream();
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    StreamReassembler r;
    std::vector<std::uint32_t> seqs;
    REQUIRE(r.append(std::span(s).first(cut)));
    for (auto q : drain(r))
      seqs.push_back(q);
    REQUIRE(r.append(std::span(s).subspan(cut)));
    for (auto q : drain(r))
      seqs.push_back(q);
    CHECK_MESSAGE((seqs == std::vector<std::uint32_t>{1, 2, 3, 4, 5}), "cut at byte " << cut);
  }
}

TEST_CASE("reassembler: one byte per read through writable()/commit()") {
  const auto s = sampleStream();
  StreamReassembler r(2 * kMaxFrameSize);
  std::vector<std::uint32_t> seqs;
  for (int pass = 0; pass < 20; ++pass) { // enough bytes to wrap the buffer many times
    for (const std::byte b : s) {
      auto w = r.writable();
      REQUIRE(w.size() >= kMaxFrameSize);
      w[0] = b;
      r.commit(1);
      for (auto q : drain(r))
        seqs.push_back(q);
    }
  }
  REQUIRE(seqs.size() == 100);
  CHECK(seqs[99] == 5);
}

TEST_CASE("reassembler: a huge msg_length condemns the stream before its body arrives") {
  StreamReassembler r;
  const std::byte bad[2] = {std::byte{0xff}, std::byte{0xff}};
  REQUIRE(r.append(bad));
  FrameView f;
  FrameError err = FrameError::None;
  CHECK(r.next(f, err) == StreamReassembler::Result::Malformed);
  CHECK(err == FrameError::TooLong);
}

TEST_CASE("reassembler: a short msg_length is malformed") {
  StreamReassembler r;
  Header h{};
  h.msgLength = 8;
  h.msgType = 7;
  REQUIRE(r.append({reinterpret_cast<const std::byte*>(&h), sizeof(h)}));
  FrameView f;
  FrameError err = FrameError::None;
  CHECK(r.next(f, err) == StreamReassembler::Result::Malformed);
  CHECK(err == FrameError::TooShort);
}

TEST_CASE("reassembler: a known type with the wrong length is malformed once whole") {
  StreamReassembler r;
  std::byte frame[20] = {};
  Header h{};
  h.msgLength = 20; // a HEARTBEAT is 16
  h.msgType = 7;
  std::memcpy(frame, &h, sizeof(h));
  FrameView f;
  FrameError err = FrameError::None;
  REQUIRE(r.append(std::span(frame).first(16)));
  CHECK(r.next(f, err) == StreamReassembler::Result::NeedMore); // never reads past what it has
  REQUIRE(r.append(std::span(frame).subspan(16)));
  CHECK(r.next(f, err) == StreamReassembler::Result::Malformed);
  CHECK(err == FrameError::WrongLength);
}

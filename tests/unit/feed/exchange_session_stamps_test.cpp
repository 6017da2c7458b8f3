// SPDX-License-Identifier: MIT
// The order session's kernel timestamps against a real loopback exchange socket: an order's
// OPT_ID key is the offset of its last byte counted from the logon's first, its transmit stamp
// carries that key, and a received frame has the receive stamp of its bytes. And the frames of
// one read stay in the buffer until onReadEnd().
#include <poll.h>

#include <array>
#include <vector>

#include <doctest/doctest.h>

#include "libhft/protocol/codec.h"
#include "tests/unit/feed/loopback_exchange.h"

using namespace hft;
using namespace hft::feed;
using namespace hft::protocol;
using hft::testing::pollUntil;
using hft::testing::realtimeNow;

namespace {

struct Recorder final : SessionListener {
  ExchangeSession* session = nullptr;
  int frames = 0;
  std::uint64_t kernelRxNs = 0;
  void onFrame(const FrameView&, std::uint64_t) noexcept override {
    ++frames;
    kernelRxNs = session->kernelRxNs(); // valid during the call
  }
  void onLoggedOn(std::uint64_t, std::uint32_t) noexcept override {}
  void onClosed(CloseReason, int, std::uint8_t) noexcept override {}
  void onBadFrame(FrameError, std::uint16_t) noexcept override {}
  void onGap(std::uint64_t) noexcept override {}
};

} // namespace

TEST_CASE("ExchangeSession: an order's transmit stamp carries the key of its last byte") {
  core::calibrateStamps();
  hft::testing::LoopbackExchange exchange;

  Recorder recorder;
  ExchangeSession session(recorder);
  recorder.session = &session;
  session.setKernelTimestamps(true, false);
  SessionParams params;
  params.port = exchange.port();
  REQUIRE(session.connect(params, hft::testing::monotonicNs()) == 0);
  pollUntil(session, [&] { return session.state() == SessionState::LogonSent; });
  REQUIRE(session.kernelRxStamps());
  REQUIRE(session.kernelTxStamps());
  hft::testing::waitForReceiveStamping(); // the frame below must not beat the kernel's switch
  exchange.acceptLogon();
  exchange.logOn(session);

  // Read every stamp queued so far (the logon's) before the order.
  TxStamp stamp;
  while (session.readTxStamp(stamp) != ErrQueueResult::Empty) {
  }
  NewOrder order{};
  stampHeader(order.header, MsgType::NewOrder, sizeof(order), 0, 0);
  order.clOrdId = 42;
  alignas(8) std::byte bytes[sizeof(NewOrder)];
  writeFrame(bytes, order);
  const std::uint64_t before = realtimeNow();
  REQUIRE(session.send(bytes, sizeof(bytes), before));
  CHECK(session.lastSendKey() == sizeof(Logon) + sizeof(NewOrder) - 1);
  bool found = false;
  for (int i = 0; i < 1000 && !found; ++i) {
    pollfd p{session.fd(), 0, 0};
    ::poll(&p, 1, 10);
    while (!found) {
      const ErrQueueResult r = session.readTxStamp(stamp);
      if (r == ErrQueueResult::Empty)
        break;
      found = r == ErrQueueResult::Stamp && stamp.key == session.lastSendKey();
    }
  }
  REQUIRE(found);
  CHECK(stamp.ns >= before);
  CHECK(stamp.ns <= realtimeNow());

  // A frame from the exchange: the listener sees its receive stamp.
  ExecutionReport report{};
  stampHeader(report.header, MsgType::ExecutionReport, sizeof(report), 2, realtimeNow());
  report.clOrdId = 42;
  const std::uint64_t sentAt = realtimeNow();
  REQUIRE(::send(exchange.peer(), &report, sizeof(report), 0) == sizeof(report));
  pollUntil(session, [&] { return recorder.frames == 1; });
  CHECK(recorder.kernelRxNs >= sentAt);
  CHECK(recorder.kernelRxNs <= realtimeNow());
}

TEST_CASE("ExchangeSession: with kernel timestamps off there are none") {
  hft::testing::LoopbackExchange exchange;
  Recorder recorder;
  ExchangeSession session(recorder);
  recorder.session = &session;
  session.setKernelTimestamps(false, false);
  SessionParams params;
  params.port = exchange.port();
  REQUIRE(session.connect(params, hft::testing::monotonicNs()) == 0);
  pollUntil(session, [&] { return session.state() == SessionState::LogonSent; });
  CHECK_FALSE(session.kernelRxStamps());
  CHECK_FALSE(session.kernelTxStamps());
  TxStamp stamp;
  CHECK(session.readTxStamp(stamp) == ErrQueueResult::Empty);
}

namespace {

// Keeps the views onFrame() is handed and checks, at each onReadEnd(), that their bytes are
// still those of the frames that were sent: the engine records frames there, after deciding.
struct BatchChecker final : SessionListener {
  std::vector<FrameView> pending;
  std::vector<std::uint32_t> verifiedSeqs;
  int readEnds = 0;
  bool intact = true;
  void onFrame(const FrameView& frame, std::uint64_t) noexcept override {
    if (frame.type == static_cast<std::uint16_t>(MsgType::MarketData))
      pending.push_back(frame);
  }
  void onReadEnd() noexcept override {
    ++readEnds;
    for (const FrameView& f : pending) {
      const auto head = f.as<MarketDataHead>();
      // Each frame was encoded with symbol = seq and a bid of seq * 100.
      intact =
          intact && head.symbolId == head.header.seq && f.mdEntry(0).price == head.header.seq * 100;
      verifiedSeqs.push_back(head.header.seq);
    }
    pending.clear();
  }
  void onLoggedOn(std::uint64_t, std::uint32_t) noexcept override {}
  void onClosed(CloseReason, int, std::uint8_t) noexcept override {}
  void onBadFrame(FrameError, std::uint16_t) noexcept override {}
  void onGap(std::uint64_t) noexcept override {}
};

} // namespace

TEST_CASE("ExchangeSession: the frames of a read are still in the buffer at onReadEnd()") {
  hft::testing::LoopbackExchange exchange;
  BatchChecker checker;
  ExchangeSession session(checker);
  session.setKernelTimestamps(false, false);
  SessionParams params;
  params.port = exchange.port();
  REQUIRE(session.connect(params, hft::testing::monotonicNs()) == 0);
  pollUntil(session, [&] { return session.state() == SessionState::LogonSent; });
  exchange.acceptLogon();
  exchange.logOn(session);

  // 300 frames in one send(): far more than one recv() of the engine's list holds at once
  // (NetworkWorker defers 128), and more than one read's worth of the reassembler's room.
  constexpr std::uint32_t kFrames = 300;
  std::vector<std::byte> bytes(kFrames * marketDataSize(2));
  std::size_t at = 0;
  for (std::uint32_t seq = 2; seq < kFrames + 2; ++seq) {
    const std::array<MdEntry, 2> levels{MdEntry{static_cast<std::int64_t>(seq) * 100, 5,
                                                static_cast<std::uint8_t>(MdSide::Bid), 0, 0},
                                        MdEntry{static_cast<std::int64_t>(seq) * 100 + 10, 5,
                                                static_cast<std::uint8_t>(MdSide::Ask), 0, 0}};
    at += encodeMarketData(bytes.data() + at, seq, realtimeNow(), seq, levels);
  }
  REQUIRE(::send(exchange.peer(), bytes.data(), at, 0) == static_cast<ssize_t>(at));
  pollUntil(session, [&] { return checker.verifiedSeqs.size() == kFrames; });
  CHECK(checker.intact);
  CHECK(checker.pending.empty());
  CHECK(checker.readEnds >= 1);
  for (std::uint32_t i = 0; i < kFrames; ++i)
    CHECK(checker.verifiedSeqs[i] == i + 2);
}

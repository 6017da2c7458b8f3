// SPDX-License-Identifier: MIT
// The order session's kernel timestamps against a real loopback exchange socket: an order's
// OPT_ID key is the offset of its last byte counted from the logon's first, its transmit stamp
// carries that key, and a received frame has the receive stamp of its bytes.
#include <poll.h>

#include <doctest/doctest.h>

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

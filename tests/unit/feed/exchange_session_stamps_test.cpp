// SPDX-License-Identifier: MIT
// The order session's kernel timestamps against a real loopback exchange socket: an order's
// OPT_ID key is the offset of its last byte counted from the logon's first, its transmit stamp
// carries that key, and a received frame has the receive stamp of its bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include <doctest/doctest.h>

#include "daemon/feed/exchange_session.h"
#include "libhft/core/fd.h"
#include "libhft/core/stamp_clock.h"

using namespace hft;
using namespace hft::feed;
using namespace hft::protocol;

namespace {

std::uint64_t nowNs() { return core::stampToNs(core::stamp()); }

std::uint64_t realtimeNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

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

// Reads exactly n bytes (the test's exchange side blocks).
void readExactly(int fd, std::size_t n) {
  std::byte buf[256];
  while (n) {
    const ssize_t r = ::recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
    REQUIRE(r > 0);
    n -= static_cast<std::size_t>(r);
  }
}

template <typename Pred> void pollUntil(ExchangeSession& s, Pred done) {
  for (int i = 0; i < 200'000 && !done(); ++i) {
    s.poll(nowNs());
    if (!done())
      ::usleep(50);
  }
  REQUIRE(done());
}

} // namespace

TEST_CASE("ExchangeSession: an order's transmit stamp carries the key of its last byte") {
  core::calibrateStamps();
  core::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(listener);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  REQUIRE(::listen(listener.get(), 1) == 0);

  Recorder recorder;
  ExchangeSession session(recorder);
  recorder.session = &session;
  session.setKernelTimestamps(true, false);
  SessionParams params;
  params.port = ntohs(addr.sin_port);
  REQUIRE(session.connect(params, nowNs()) == 0);
  pollUntil(session, [&] { return session.state() == SessionState::LogonSent; });
  REQUIRE(session.kernelRxStamps());
  REQUIRE(session.kernelTxStamps());
  core::UniqueFd exchange(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(exchange);
  readExactly(exchange.get(), sizeof(Logon));

  LogonResponse response{};
  stampHeader(response.header, MsgType::LogonResponse, sizeof(response), 1, realtimeNow());
  response.status = static_cast<std::uint8_t>(LogonStatus::Accepted);
  response.heartbeatIntervalMs = 60'000;
  response.sessionId = 7;
  REQUIRE(::send(exchange.get(), &response, sizeof(response), 0) == sizeof(response));
  pollUntil(session, [&] { return session.state() == SessionState::LoggedOn; });

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
  REQUIRE(::send(exchange.get(), &report, sizeof(report), 0) == sizeof(report));
  pollUntil(session, [&] { return recorder.frames == 1; });
  CHECK(recorder.kernelRxNs >= sentAt);
  CHECK(recorder.kernelRxNs <= realtimeNow());
}

TEST_CASE("ExchangeSession: with kernel timestamps off there are none") {
  core::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(listener);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  REQUIRE(::listen(listener.get(), 1) == 0);
  Recorder recorder;
  ExchangeSession session(recorder);
  recorder.session = &session;
  session.setKernelTimestamps(false, false);
  SessionParams params;
  params.port = ntohs(addr.sin_port);
  REQUIRE(session.connect(params, nowNs()) == 0);
  pollUntil(session, [&] { return session.state() == SessionState::LogonSent; });
  CHECK_FALSE(session.kernelRxStamps());
  CHECK_FALSE(session.kernelTxStamps());
  TxStamp stamp;
  CHECK(session.readTxStamp(stamp) == ErrQueueResult::Empty);
}

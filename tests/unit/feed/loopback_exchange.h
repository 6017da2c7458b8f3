// SPDX-License-Identifier: MIT
// A unit test's exchange side on loopback: a listening socket an ExchangeSession connects to,
// the accepted connection, and the LOGON / LOGON_RESPONSE that logs the session on. The test
// polls the session itself (pollUntil), so it sees every state on the way.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>

#include <doctest/doctest.h>

#include "daemon/feed/exchange_session.h"
#include "daemon/feed/kernel_stamps.h"
#include "libhft/core/fd.h"
#include "libhft/core/stamp_clock.h"
#include "libhft/protocol/codec.h"

namespace hft::testing {

inline std::uint64_t monotonicNs() { return core::stampToNs(core::stamp()); }

inline std::uint64_t realtimeNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// Reads exactly n bytes into `out` (or discards them when out is null); the test side blocks.
inline void readExactly(int fd, std::size_t n, std::byte* out = nullptr) {
  std::byte buf[256];
  while (n) {
    const ssize_t r = ::recv(fd, out ? out : buf, n < sizeof(buf) ? n : sizeof(buf), 0);
    REQUIRE(r > 0);
    n -= static_cast<std::size_t>(r);
    if (out)
      out += r;
  }
}

// Polls the session until done() (about 10 s at most).
template <typename Pred> void pollUntil(feed::ExchangeSession& s, Pred done) {
  for (int i = 0; i < 200'000 && !done(); ++i) {
    s.poll(monotonicNs());
    if (!done())
      ::usleep(50);
  }
  REQUIRE(done());
}

// A blocking TCP connection to 127.0.0.1:port (the test's own client side).
inline core::UniqueFd connectLoopback(std::uint16_t port) {
  core::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

// The kernel turns receive stamping on for the whole host a moment after the first socket asks
// (a deferred static-key switch): until then packets arrive unstamped. Waits for that moment
// with a loopback UDP pair. Call it once the test's own socket has asked for stamps: that
// socket keeps the switch on after this pair closes.
inline void waitForReceiveStamping() {
  core::UniqueFd rx(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  core::UniqueFd tx(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(rx);
  REQUIRE(tx);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(rx.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  REQUIRE(feed::enableTimestamping(rx.get(), feed::timestampingFlags(false, false)) == 0);
  for (int i = 0; i < 10'000; ++i) {
    const char byte = 1;
    REQUIRE(::sendto(tx.get(), &byte, 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 1);
    char in;
    iovec iov{&in, 1};
    alignas(cmsghdr) char control[feed::kStampControlBytes];
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    REQUIRE(::recvmsg(rx.get(), &message, 0) == 1);
    if (feed::receiveStampNs(message) != 0)
      return;
    pollfd none{-1, 0, 0};
    ::poll(&none, 0, 1); // give the kernel's deferred work a millisecond
  }
  FAIL("the kernel never stamped a received datagram");
}

class LoopbackExchange {
public:
  LoopbackExchange() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(listener_);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    REQUIRE(::listen(listener_.get(), 1) == 0);
    port_ = ntohs(addr.sin_port);
  }

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] int peer() const noexcept { return peer_.get(); }

  // Accepts the one connection the listener waits for; peer() is its socket.
  void acceptConnection() {
    peer_.reset(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(peer_);
  }

  // The session has sent its LOGON: accept the connection and read it.
  void acceptLogon() {
    acceptConnection();
    readExactly(peer_.get(), sizeof(protocol::Logon));
  }

  // Accepts the logon and polls the session until it is logged on.
  void logOn(feed::ExchangeSession& session) {
    using namespace protocol;
    LogonResponse response{};
    stampHeader(response.header, MsgType::LogonResponse, sizeof(response), 1, realtimeNow());
    response.status = static_cast<std::uint8_t>(LogonStatus::Accepted);
    response.heartbeatIntervalMs = 60'000;
    response.sessionId = 7;
    REQUIRE(::send(peer_.get(), &response, sizeof(response), 0) == sizeof(response));
    pollUntil(session, [&] { return session.state() == feed::SessionState::LoggedOn; });
  }

private:
  core::UniqueFd listener_;
  core::UniqueFd peer_;
  std::uint16_t port_ = 0;
};

} // namespace hft::testing

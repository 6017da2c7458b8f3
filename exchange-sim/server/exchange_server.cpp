// SPDX-License-Identifier: MIT
// The exchange's network side: epoll over non-blocking sockets, a timerfd for ticks and one for
// housekeeping, a signalfd for shutdown. One thread; nothing here ever blocks.
#include "exchange-sim/server/exchange_server.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "libhft/core/clock.h"
#include "libhft/core/endpoint.h"

namespace hft::server {

using protocol::MsgType;

namespace {

constexpr std::uint64_t kNsPerMs = 1'000'000;
constexpr std::uint64_t kHousekeepingNs = 10 * kNsPerMs; // heartbeat and close-deadline resolution
constexpr std::uint64_t kSampleFlushNs = 1'000'000'000;
constexpr int kMaxEvents = 64;
constexpr int kReadsPerEvent = 8; // then let the other sessions have their turn

// epoll tokens: sessions are (generation << 32 | slot) with generation >= 1; these have 0.
constexpr std::uint64_t kListenerToken = 0xffff'fff0U;
constexpr std::uint64_t kTickTimerToken = 0xffff'fff1U;
constexpr std::uint64_t kHouseTimerToken = 0xffff'fff2U;
constexpr std::uint64_t kSignalToken = 0xffff'fff3U;
constexpr std::uint64_t kDelayTimerToken = 0xffff'fff4U;
constexpr std::uint64_t kMdDelayTimerToken = 0xffff'fff5U;
// The latency draws get their own stream so that enabling them leaves the market and the fill
// decisions of a seed unchanged.
constexpr std::uint64_t kLatencySeedSalt = 0x6c61'7465'6e63'7931ULL;

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

timespec toTimespec(std::uint64_t ns) noexcept {
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

void formatPeer(const sockaddr_storage& addr, std::array<char, 64>& out) noexcept {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (addr.ss_family == AF_INET) {
    sockaddr_in a;
    std::memcpy(&a, &addr, sizeof(a));
    inet_ntop(AF_INET, &a.sin_addr, host, sizeof(host));
    port = ntohs(a.sin_port);
    std::snprintf(out.data(), out.size(), "%s:%u", host, port);
  } else if (addr.ss_family == AF_INET6) {
    sockaddr_in6 a;
    std::memcpy(&a, &addr, sizeof(a));
    inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof(host));
    port = ntohs(a.sin6_port);
    std::snprintf(out.data(), out.size(), "[%s]:%u", host, port);
  } else {
    std::snprintf(out.data(), out.size(), "unknown");
  }
}

// A reset or broken pipe is the client going away, not a fault of ours.
CloseReason closeReasonOf(int error) noexcept {
  return error == ECONNRESET || error == EPIPE ? CloseReason::PeerClosed : CloseReason::SocketError;
}

const char* signalName(int signal) noexcept {
  switch (signal) {
  case SIGINT: return "SIGINT";
  case SIGTERM: return "SIGTERM";
  }
  return "a signal";
}

} // namespace

const char* describe(CloseReason reason) noexcept {
  switch (reason) {
  case CloseReason::PeerClosed: return "peer closed the connection";
  case CloseReason::ClientLogout: return "client logged out";
  case CloseReason::HeartbeatTimeout: return "heartbeat timeout";
  case CloseReason::Malformed: return "malformed frame";
  case CloseReason::SlowConsumer: return "slow consumer (output buffer full)";
  case CloseReason::SocketError: return "socket error";
  case CloseReason::ExchangeClosing: return "exchange closing";
  }
  return "unknown";
}

ExchangeServer::ExchangeServer(const ServerParams& params, market::MarketModel& market,
                               const matching::MatchingParams& matchingParams)
    : params_(params), market_(market),
      matching_(
          [&] {
            auto m = matchingParams;
            m.maxSessions = params.maxSessions; // one order table per session slot
            return m;
          }(),
          market, *this),
      orderLatency_(params.orderLatency, params.latencySeed ^ kLatencySeedSalt),
      mdLatency_(params.mdLatency, params.latencySeed ^ kLatencySeedSalt ^ 1),
      tickToTrade_(std::make_unique<core::Histogram>()) {
  sessions_.reserve(params_.maxSessions);
  for (std::uint32_t i = 0; i < params_.maxSessions; ++i) {
    sessions_.push_back(std::make_unique<Session>(i, params_.outputBufferBytes));
    sessions_.back()->generation = 1;
  }
  closeQueue_.reserve(params_.maxSessions);
  mdFrameSize_ = protocol::marketDataSize(2 * static_cast<std::size_t>(market_.depth()));
  mdBlock_.resize(mdFrameSize_ * market_.symbolCount());
  mdLowWater_ = std::min<std::size_t>(params_.outputBufferBytes / 2, 256 * 1024);
  if (!params_.samplesFile.empty())
    samples_ = std::make_unique<SampleLog>(params_.samplesFile, params_.samplesCapacity);
  udpDatagram_.resize(params_.udpMaxPayload);
  udpSendTime_ = std::make_unique<core::Histogram>();
  if (!params_.recordFile.empty())
    recorder_ = std::make_unique<protocol::MdRecordingWriter>(params_.recordFile);
}

ReplayShape checkReplay(const protocol::MdRecordingReader& recording, const std::string& path) {
  if (recording.size() == 0)
    throw protocol::MdRecordingError(path + ": the recording holds no MARKET_DATA frames");
  ReplayShape shape;
  for (std::size_t i = 0; i < recording.size(); ++i) {
    const auto& frame = recording[i].frame;
    const protocol::FrameView view{frame.data(), static_cast<std::uint16_t>(frame.size()),
                                   static_cast<std::uint16_t>(MsgType::MarketData)};
    const auto head = view.as<protocol::MarketDataHead>();
    std::uint32_t bids = 0;
    for (std::size_t k = 0; k < head.numEntries; ++k)
      bids += view.mdEntry(k).side == static_cast<std::uint8_t>(protocol::MdSide::Bid) ? 1 : 0;
    const std::uint32_t asks = head.numEntries - bids;
    if (i == 0)
      shape.depth = bids;
    if (bids != shape.depth || asks != shape.depth || shape.depth == 0)
      throw protocol::MdRecordingError(
          fmt::format("{}: record {}: {} bid and {} ask levels; replay needs the same number "
                      "of levels on both sides of every frame ({} in the first frame)",
                      path, i + 1, bids, asks, shape.depth));
    if (head.symbolId == 0 || head.symbolId > 10'000)
      throw protocol::MdRecordingError(fmt::format(
          "{}: record {}: symbol_id {} is not within 1..10000", path, i + 1, head.symbolId));
    shape.symbols = std::max(shape.symbols, head.symbolId);
  }
  return shape;
}

void ExchangeServer::openUdpFeed() {
  std::string address;
  std::uint16_t port = 0;
  if (!core::parseIpv4Endpoint(params_.udpFeed, address, port))
    throw std::runtime_error("udp_feed '" + params_.udpFeed +
                             "' is not IPV4-ADDRESS:PORT, e.g. 239.1.1.1:9001");
  udpTarget_.sin_family = AF_INET;
  udpTarget_.sin_port = htons(port);
  inet_pton(AF_INET, address.c_str(), &udpTarget_.sin_addr);
  udpSocket_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!udpSocket_)
    throwErrno("UDP feed socket");
  // A tick's datagrams leave back to back: room for several ticks in the kernel.
  const int sndbuf = 4 << 20;
  setsockopt(udpSocket_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  // Sent from the TCP bind address when it is IPv4, so both arrive from one host address.
  in_addr source{};
  if (inet_pton(AF_INET, params_.bind.c_str(), &source) == 1 && source.s_addr != INADDR_ANY) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr = source;
    if (::bind(udpSocket_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0)
      throwErrno("cannot bind the UDP feed socket to " + params_.bind);
  }
  if (IN_MULTICAST(ntohl(udpTarget_.sin_addr.s_addr))) {
    const int ttl = static_cast<int>(params_.udpTtl);
    const int loop = 1; // listeners on this host (tests, a local hftd) get the feed too
    setsockopt(udpSocket_.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
    setsockopt(udpSocket_.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop));
    if (!params_.udpInterface.empty()) {
      ip_mreqn via{};
      via.imr_ifindex = static_cast<int>(if_nametoindex(params_.udpInterface.c_str()));
      if (via.imr_ifindex == 0)
        throw std::runtime_error("udp_interface '" + params_.udpInterface +
                                 "': no such network interface");
      if (setsockopt(udpSocket_.get(), IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof(via)) != 0)
        throwErrno("cannot send multicast on " + params_.udpInterface);
    }
  }
  spdlog::info("UDP feed: market data to {}{}, datagrams of up to {} bytes{}", params_.udpFeed,
               IN_MULTICAST(ntohl(udpTarget_.sin_addr.s_addr)) ? " (multicast)" : "",
               params_.udpMaxPayload, params_.udpFeedOnly ? ", none on TCP" : "");
}

ExchangeServer::~ExchangeServer() = default;

void ExchangeServer::listen() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(params_.port);
  if (const int rc = getaddrinfo(params_.bind.c_str(), service.c_str(), &hints, &found); rc != 0)
    throw std::runtime_error("cannot use bind address " + params_.bind + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, freeaddrinfo);

  listener_.reset(::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener_)
    throwErrno("socket");
  const int one = 1;
  setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listener_.get(), found->ai_addr, found->ai_addrlen) != 0)
    throwErrno("cannot bind " + params_.bind + " port " + service);
  if (::listen(listener_.get(), 128) != 0)
    throwErrno("listen");
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len) != 0)
    throwErrno("getsockname");
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_)
    throwErrno("epoll_create1");
  auto add = [this](int fd, std::uint64_t token) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = token;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
      throwErrno("epoll_ctl");
  };
  add(listener_.get(), kListenerToken);

  if (params_.tickIntervalMs > 0) {
    tickTimer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!tickTimer_)
      throwErrno("timerfd_create");
    add(tickTimer_.get(), kTickTimerToken);
  }
  houseTimer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!houseTimer_)
    throwErrno("timerfd_create");
  add(houseTimer_.get(), kHouseTimerToken);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  // Blocked so that they queue on the signalfd instead of killing the process.
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signalFd_.reset(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signalFd_)
    throwErrno("signalfd");
  add(signalFd_.get(), kSignalToken);

  if (!params_.mdLatency.zero()) {
    mdDelayTimer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!mdDelayTimer_)
      throwErrno("timerfd_create");
    add(mdDelayTimer_.get(), kMdDelayTimerToken);
  }
  if (!params_.orderLatency.zero()) {
    delayTimer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!delayTimer_)
      throwErrno("timerfd_create");
    add(delayTimer_.get(), kDelayTimerToken);
  }

  if (!params_.udpFeed.empty())
    openUdpFeed();

  // Ids that differ across restarts: the start time in seconds, then a counter.
  sessionIdBase_ = core::realtimeNs() / 1'000'000'000 * 1'000'000;
}

int ExchangeServer::run() {
  const std::uint64_t start = core::monotonicNs();
  if (tickTimer_ && !replay_) {
    // Absolute and periodic: tick k fires at start + k * interval, so the cadence never drifts.
    const std::uint64_t interval = params_.tickIntervalMs * kNsPerMs;
    itimerspec spec{toTimespec(interval), toTimespec(start + interval)};
    if (timerfd_settime(tickTimer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) != 0)
      throwErrno("timerfd_settime");
  }
  itimerspec house{toTimespec(kHousekeepingNs), toTimespec(start + kHousekeepingNs)};
  if (timerfd_settime(houseTimer_.get(), TFD_TIMER_ABSTIME, &house, nullptr) != 0)
    throwErrno("timerfd_settime");
  nowNs_ = start;
  lastSampleFlushNs_ = start;

  spdlog::info("Listening on port {}", port_);

  epoll_event events[kMaxEvents];
  for (;;) {
    int timeout = -1;
    if (params_.tickIntervalMs == 0 && !shuttingDown_ && !replayDone_ &&
        std::any_of(sessions_.begin(), sessions_.end(),
                    [this](const auto& s) { return canTakeMarketData(*s); }))
      timeout = 0; // tick-rate 0: publish again as soon as a session has room
    const int n = epoll_wait(epoll_.get(), events, kMaxEvents, timeout);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throwErrno("epoll_wait");
    }
    nowNs_ = core::monotonicNs();
    for (int i = 0; i < n; ++i) {
      const std::uint64_t token = events[i].data.u64;
      const std::uint32_t mask = events[i].events;
      // The listener and the tick timer are closed by a shutdown earlier in the batch.
      if (token == kListenerToken) {
        if (listener_)
          acceptConnections();
      } else if (token == kTickTimerToken) {
        if (tickTimer_)
          onTickTimer();
      } else if (token == kMdDelayTimerToken) {
        onMdDelayTimer();
      } else if (token == kDelayTimerToken) {
        onDelayTimer();
      } else if (token == kHouseTimerToken) {
        housekeeping();
      } else if (token == kSignalToken) {
        signalfd_siginfo info{};
        while (::read(signalFd_.get(), &info, sizeof(info)) == sizeof(info))
          beginShutdown(static_cast<int>(info.ssi_signo));
      } else {
        const auto slot = static_cast<std::uint32_t>(token & 0xffff'ffffU);
        const auto generation = static_cast<std::uint32_t>(token >> 32);
        if (slot >= sessions_.size())
          continue;
        Session& s = *sessions_[slot];
        // A stale event for a connection closed earlier in this batch.
        if (s.generation != generation || s.state == State::Free || s.closePending)
          continue;
        if (mask & EPOLLOUT)
          flush(s);
        if (mask & (EPOLLIN | EPOLLHUP | EPOLLERR))
          onReadable(slot);
      }
    }
    if (params_.tickIntervalMs == 0 && !shuttingDown_ && !replayDone_ &&
        std::any_of(sessions_.begin(), sessions_.end(),
                    [this](const auto& s) { return canTakeMarketData(*s); }))
      onTick();
    closePendingSessions();
    if (samples_ && samples_->halfFull())
      samples_->flush();
    if (shuttingDown_ && (openConnections_ == 0 || nowNs_ >= shutdownDeadlineNs_))
      break;
  }

  for (auto& s : sessions_)
    if (s->state != State::Free)
      requestClose(*s, CloseReason::ExchangeClosing);
  closePendingSessions();
  if (samples_)
    samples_->flush();
  if (recorder_) {
    try {
      recorder_->close();
      spdlog::info("Recorded {} market data frames to {}", recorder_->records(),
                   params_.recordFile);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
    }
  }
  if (udpSocket_) {
    spdlog::info("UDP feed {}: {} market data frames in {} datagrams ({} bytes), {} send errors",
                 params_.udpFeed, counters_.udpFrames, counters_.udpDatagrams, counters_.udpBytes,
                 counters_.udpSendErrors);
    const core::Histogram& h = *udpSendTime_;
    if (h.count())
      spdlog::info("UDP feed sendto() time per datagram (ns; on loopback or veth it includes the "
                   "receiver's kernel path): p50 {} p90 {} p99 {} max {}",
                   h.percentile(50), h.percentile(90), h.percentile(99), h.max());
  }
  return stopSignal_;
}

void ExchangeServer::acceptConnections() noexcept {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd = accept4(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno != EAGAIN)
        spdlog::warn("accept failed: {}", std::strerror(errno));
      return;
    }
    core::UniqueFd conn(fd);
    ++counters_.connections;
    std::array<char, 64> peer{};
    formatPeer(addr, peer);
    const auto free = std::find_if(sessions_.begin(), sessions_.end(),
                                   [](const auto& s) { return s->state == State::Free; });
    if (free == sessions_.end()) {
      ++counters_.connectionsRefused;
      spdlog::warn("Refusing connection from {}: all {} session slots are in use "
                   "(raise [server] max_sessions)",
                   peer.data(), sessions_.size());
      continue;
    }
    Session& s = **free;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); // reports leave at once
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (static_cast<std::uint64_t>(s.generation) << 32) | s.slot;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::warn("Cannot watch connection from {}: {}", peer.data(), std::strerror(errno));
      continue;
    }
    s.fd = std::move(conn);
    s.state = State::Connected;
    s.input.reset();
    s.output.clear();
    s.txSeq.reset();
    s.rxSeq.reset();
    s.closePending = false;
    s.writeArmed = false;
    s.wasLoggedOn = false;
    s.matchingOpen = false;
    s.canceledOnClose = 0;
    s.heartbeatMs = params_.defaultHeartbeatMs;
    s.sessionId = 0;
    s.lastRxNs = s.lastTxNs = nowNs_;
    s.orders = 0;
    s.peer = peer;
    s.account.fill('\0');
    ++openConnections_;
    spdlog::info("Connection from {}", s.peer.data());
  }
}

void ExchangeServer::onReadable(std::uint32_t slot) noexcept {
  Session& s = *sessions_[slot];
  for (int i = 0; i < kReadsPerEvent && !s.closePending; ++i) {
    const std::span<std::byte> buf = s.input.writable();
    const ssize_t n = ::recv(s.fd.get(), buf.data(), buf.size(), 0);
    if (n > 0) {
      // The receive time of every order in this read: as close to the wire as we get.
      const std::uint64_t rxRealNs = core::realtimeNs();
      counters_.bytesReceived += static_cast<std::uint64_t>(n);
      s.lastRxNs = nowNs_;
      if (s.state == State::Closing)
        continue; // logging out: drain and drop, so the close is not a reset
      s.input.commit(static_cast<std::size_t>(n));
      processFrames(slot, rxRealNs);
      if (static_cast<std::size_t>(n) < buf.size())
        break; // the socket is most likely empty: spare the EAGAIN round trip
    } else if (n == 0) {
      if (s.state != State::Closing && s.input.buffered() != 0) {
        // The client closed inside a frame: that frame is lost, so it counts as malformed.
        ++counters_.malformedFrames;
        spdlog::warn("Malformed frame from {} (session_id {}): {}; closing the connection",
                     s.peer.data(), s.sessionId,
                     protocol::describe(protocol::FrameError::Truncated));
      }
      requestClose(s, s.state == State::Closing ? s.closeReason : CloseReason::PeerClosed);
      return;
    } else {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN)
        break;
      requestClose(s, s.state == State::Closing ? s.closeReason : closeReasonOf(errno));
      return;
    }
  }
  if (!s.closePending && !s.output.empty())
    flush(s);
}

void ExchangeServer::processFrames(std::uint32_t slot, std::uint64_t rxRealNs) noexcept {
  Session& s = *sessions_[slot];
  protocol::FrameView frame;
  protocol::FrameError error = protocol::FrameError::None;
  while (!s.closePending && s.state != State::Closing) {
    const auto result = s.input.next(frame, error);
    if (result == protocol::StreamReassembler::Result::NeedMore)
      return;
    if (result == protocol::StreamReassembler::Result::Malformed) {
      ++counters_.malformedFrames;
      spdlog::warn("Malformed frame from {} (session_id {}): {}; closing the connection",
                   s.peer.data(), s.sessionId, protocol::describe(error));
      protocol::Logout bye{};
      bye.reason = static_cast<std::uint8_t>(protocol::LogoutReason::ProtocolError);
      if (queue(s, bye, MsgType::Logout))
        flush(s); // best effort: the client may not be reading
      requestClose(s, CloseReason::Malformed);
      return;
    }
    ++counters_.framesReceived;
    counters_.inboundSeqGaps += s.rxSeq.onSeq(frame.header().seq);
    switch (static_cast<MsgType>(frame.type)) {
    case MsgType::Logon: onLogon(slot, frame.as<protocol::Logon>()); break;
    case MsgType::NewOrder:
      if (delayTimer_)
        enqueueDelayed(slot, frame);
      else
        onNewOrder(slot, frame.as<protocol::NewOrder>(), rxRealNs);
      break;
    case MsgType::CancelOrder:
      if (delayTimer_)
        enqueueDelayed(slot, frame);
      else
        onCancel(slot, frame.as<protocol::CancelOrder>());
      break;
    case MsgType::Heartbeat: ++counters_.heartbeatsReceived; break;
    case MsgType::Logout:
      ++counters_.clientLogouts;
      logout(s, protocol::LogoutReason::Normal, CloseReason::ClientLogout);
      break;
    case MsgType::MarketData:
    case MsgType::ExecutionReport:
    case MsgType::LogonResponse:
      ++counters_.unexpectedFrames;
      spdlog::debug("Ignoring {} from {}: the exchange only sends it",
                    protocol::describe(static_cast<MsgType>(frame.type)), s.peer.data());
      break;
    default:
      ++counters_.unknownFrames;
      spdlog::debug("Skipping frame of unknown msg_type {} from {}", frame.type, s.peer.data());
      break;
    }
  }
}

void ExchangeServer::onLogon(std::uint32_t slot, const protocol::Logon& logon) noexcept {
  Session& s = *sessions_[slot];
  std::array<char, 17> account{};
  std::memcpy(account.data(), logon.account, sizeof(logon.account));
  protocol::LogonResponse response{};
  auto refuse = [&](protocol::LogonReason reason, const char* why) {
    ++counters_.logonRejects;
    response.status = static_cast<std::uint8_t>(protocol::LogonStatus::Rejected);
    response.reason = static_cast<std::uint8_t>(reason);
    response.heartbeatIntervalMs = s.heartbeatMs;
    response.sessionId = s.sessionId;
    spdlog::info("Logon from {} (account '{}') rejected: {}", s.peer.data(), account.data(), why);
    queue(s, response, MsgType::LogonResponse);
  };
  if (s.state == State::LoggedOn)
    return refuse(protocol::LogonReason::AlreadyLoggedOn, "already logged on");
  if (logon.protocolVersion != protocol::kProtocolVersion)
    return refuse(protocol::LogonReason::UnsupportedVersion, "unsupported protocol version");
  if (!params_.accounts.empty() && std::find(params_.accounts.begin(), params_.accounts.end(),
                                             account.data()) == params_.accounts.end())
    return refuse(protocol::LogonReason::NotAuthorised, "account not in [server] accounts");

  std::uint32_t hb =
      logon.heartbeatIntervalMs == 0 ? params_.defaultHeartbeatMs : logon.heartbeatIntervalMs;
  hb = std::clamp(hb, params_.minHeartbeatMs, params_.maxHeartbeatMs);
  s.heartbeatMs = hb;
  s.account = account;
  s.sessionId = sessionIdBase_ + ++counters_.sessions;
  s.state = State::LoggedOn;
  s.wasLoggedOn = true;
  s.matchingOpen = true;
  matching_.openSession(slot);
  response.status = static_cast<std::uint8_t>(protocol::LogonStatus::Accepted);
  response.heartbeatIntervalMs = hb;
  response.sessionId = s.sessionId;
  spdlog::info("Logon session_id {} account '{}' from {} heartbeat {} ms", s.sessionId,
               s.account.data(), s.peer.data(), hb);
  queue(s, response, MsgType::LogonResponse);
  if (replay_ && tickTimer_ && replayStartNs_ == 0) {
    // The recording starts with the first session, so a client sees it from its first frame.
    replayStartNs_ = nowNs_;
    armReplayTimer();
  }
}

void ExchangeServer::onNewOrder(std::uint32_t slot, const protocol::NewOrder& order,
                                std::uint64_t rxRealNs) noexcept {
  Session& s = *sessions_[slot];
  ++s.orders;
  std::int64_t tickToTrade = 0;
  if (order.mdTimestamp != 0) {
    tickToTrade = static_cast<std::int64_t>(rxRealNs - order.mdTimestamp);
    if (rxRealNs >= order.mdTimestamp)
      tickToTrade_->record(rxRealNs - order.mdTimestamp);
    else
      ++counters_.tickToTradeNegative; // clocks disagree; kept out of the histogram
  } else {
    ++counters_.tickToTradeMissing;
  }
  if (samples_)
    samples_->record(rxRealNs, order.clOrdId, order.symbolId, tickToTrade, order.mdTimestamp != 0);
  spdlog::debug("NEW_ORDER session_id {} cl_ord_id {} symbol {} side {} tif {} price {} qty {}",
                s.sessionId, order.clOrdId, order.symbolId, order.side, order.tif, order.price,
                order.qty);
  if (s.state != State::LoggedOn)
    matching_.rejectOrder(slot, order, protocol::RejectReason::NotLoggedOn);
  else
    matching_.newOrder(slot, order, nowNs_);
}

void ExchangeServer::onCancel(std::uint32_t slot, const protocol::CancelOrder& cancel) noexcept {
  Session& s = *sessions_[slot];
  spdlog::debug("CANCEL_ORDER session_id {} cl_ord_id {} symbol {}", s.sessionId, cancel.clOrdId,
                cancel.symbolId);
  if (s.state != State::LoggedOn)
    matching_.rejectCancel(slot, cancel, protocol::RejectReason::NotLoggedOn);
  else
    matching_.cancelOrder(slot, cancel);
}

void ExchangeServer::onExecutionReport(std::uint32_t slot,
                                       const protocol::ExecutionReport& report) noexcept {
  Session& s = *sessions_[slot];
  spdlog::debug("EXECUTION_REPORT session_id {} cl_ord_id {} order_id {} exec_id {} {} reason {} "
                "last {}@{} cum {} leaves {}",
                s.sessionId, report.clOrdId, report.orderId, report.execId,
                protocol::describe(static_cast<protocol::ExecType>(report.execType)),
                report.rejectReason, report.lastQty, report.lastPx, report.cumQty,
                report.leavesQty);
  protocol::ExecutionReport r = report;
  queue(s, r, MsgType::ExecutionReport);
}

void ExchangeServer::enqueueDelayed(std::uint32_t slot, const protocol::FrameView& frame) noexcept {
  const Session& s = *sessions_[slot];
  const std::uint64_t delay = orderLatency_.sample();
  // Never before the previous request: a short draw must not overtake a long one, so requests
  // are acted on in the order they arrived (a FIFO link, as a real gateway is).
  const std::uint64_t release = std::max(nowNs_ + delay, lastReleaseNs_);
  lastReleaseNs_ = release;
  orderDelays_.record(release - nowNs_);
  DelayedRequest r{release, slot, s.generation, static_cast<MsgType>(frame.type), {}, {}};
  if (r.type == MsgType::NewOrder)
    r.order = frame.as<protocol::NewOrder>();
  else
    r.cancel = frame.as<protocol::CancelOrder>();
  const bool wasEmpty = delayed_.empty();
  delayed_.push_back(r);
  if (wasEmpty)
    armDelayTimer();
}

void ExchangeServer::armDelayTimer() noexcept {
  // Absolute, one-shot: the loop waits in epoll, never sleeps.
  itimerspec spec{};
  spec.it_value =
      toTimespec(delayed_.empty() ? 0 : std::max<std::uint64_t>(delayed_.front().releaseNs, 1));
  timerfd_settime(delayTimer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void ExchangeServer::onDelayTimer() noexcept {
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t n = ::read(delayTimer_.get(), &expirations, sizeof(expirations));
  const std::uint64_t now = core::monotonicNs();
  while (!delayed_.empty() && delayed_.front().releaseNs <= now) {
    const DelayedRequest r = delayed_.front();
    delayed_.pop_front();
    Session& s = *sessions_[r.slot];
    // The connection that sent it has gone (its orders were canceled) or is logging out.
    if (s.generation != r.generation || s.state == State::Free || s.state == State::Closing ||
        s.closePending)
      continue;
    if (r.type == MsgType::NewOrder)
      onNewOrder(r.slot, r.order, core::realtimeNs()); // tick-to-trade includes the delay
    else
      onCancel(r.slot, r.cancel);
    if (!s.closePending && !s.output.empty())
      flush(s);
  }
  armDelayTimer();
}

void ExchangeServer::onTickTimer() noexcept {
  std::uint64_t expirations = 0;
  if (::read(tickTimer_.get(), &expirations, sizeof(expirations)) != sizeof(expirations) ||
      expirations == 0)
    return;
  if (replay_) {
    onTick();
    armReplayTimer();
    return;
  }
  // Late by whole intervals: publish the current state once rather than a burst of stale ticks.
  counters_.ticksMissed += expirations - 1;
  onTick();
}

bool ExchangeServer::replayStep() noexcept {
  if (replayNext_ >= replay_->size()) {
    if (!replayDone_)
      spdlog::info("Replay finished: {} frames in {} ticks", replay_->size(), counters_.ticks);
    replayDone_ = true;
    return false;
  }
  // One tick is every frame with the same receive timestamp (one publication of the recorder).
  const std::uint64_t at = (*replay_)[replayNext_].receiveNs;
  std::array<protocol::MdEntry, protocol::kMaxMdEntries> entries;
  while (replayNext_ < replay_->size() && (*replay_)[replayNext_].receiveNs == at) {
    const auto& frame = (*replay_)[replayNext_].frame;
    const protocol::FrameView view{frame.data(), static_cast<std::uint16_t>(frame.size()),
                                   static_cast<std::uint16_t>(MsgType::MarketData)};
    const auto head = view.as<protocol::MarketDataHead>();
    for (std::size_t k = 0; k < head.numEntries; ++k)
      entries[k] = view.mdEntry(k);
    market_.load(head.symbolId, {entries.data(), head.numEntries});
    ++replayNext_;
  }
  return true;
}

void ExchangeServer::armReplayTimer() noexcept {
  if (replayNext_ >= replay_->size()) {
    [[maybe_unused]] const bool more = replayStep(); // false: logs the end once
    return;
  }
  // Due at the recording's offset from its first frame, divided by the speed; absolute, so
  // the pacing never drifts.
  const double offset =
      static_cast<double>((*replay_)[replayNext_].receiveNs - (*replay_)[0].receiveNs) /
      replaySpeed_;
  itimerspec spec{};
  spec.it_value =
      toTimespec(std::max<std::uint64_t>(replayStartNs_ + static_cast<std::uint64_t>(offset), 1));
  timerfd_settime(tickTimer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void ExchangeServer::onTick() noexcept {
  if (replay_) {
    if (!replayStep())
      return;
  } else {
    market_.tick();
  }
  ++counters_.ticks;
  publish();
  matching_.onTick();
  for (auto& s : sessions_)
    if (s->state != State::Free && !s->closePending && !s->output.empty())
      flush(*s);
}

bool ExchangeServer::canTakeMarketData(const Session& s) const noexcept {
  if (s.state != State::LoggedOn || s.closePending)
    return false;
  return params_.tickIntervalMs != 0 || s.output.size() < mdLowWater_;
}

void ExchangeServer::publish() noexcept {
  const std::uint32_t symbols = market_.symbolCount();
  std::array<protocol::MdEntry, protocol::kMaxMdEntries> entries;
  for (std::uint32_t id = 1; id <= symbols; ++id) {
    const std::size_t n = market_.snapshot(id, entries);
    protocol::encodeMarketData(mdBlock_.data() + (id - 1) * mdFrameSize_, 0, 0, id,
                               {entries.data(), n});
  }
  if (mdDelayTimer_) {
    // Publication delay: this tick's snapshots wait in a FIFO; blocks are reused, not freed.
    const std::uint64_t release = std::max(nowNs_ + mdLatency_.sample(), lastMdReleaseNs_);
    lastMdReleaseNs_ = release;
    mdDelays_.record(release - nowNs_);
    PendingMd pending{release, {}};
    if (!freeMdBlocks_.empty()) {
      pending.block = std::move(freeMdBlocks_.back());
      freeMdBlocks_.pop_back();
    }
    pending.block.assign(mdBlock_.begin(), mdBlock_.end());
    const bool wasEmpty = pendingMd_.empty();
    pendingMd_.push_back(std::move(pending));
    if (wasEmpty)
      armMdDelayTimer();
    return;
  }
  deliver();
}

void ExchangeServer::armMdDelayTimer() noexcept {
  itimerspec spec{};
  spec.it_value =
      toTimespec(pendingMd_.empty() ? 0 : std::max<std::uint64_t>(pendingMd_.front().releaseNs, 1));
  timerfd_settime(mdDelayTimer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void ExchangeServer::onMdDelayTimer() noexcept {
  std::uint64_t expirations = 0;
  [[maybe_unused]] const ssize_t n = ::read(mdDelayTimer_.get(), &expirations, sizeof(expirations));
  const std::uint64_t now = core::monotonicNs();
  while (!pendingMd_.empty() && pendingMd_.front().releaseNs <= now) {
    std::memcpy(mdBlock_.data(), pendingMd_.front().block.data(), mdBlock_.size());
    freeMdBlocks_.push_back(std::move(pendingMd_.front().block));
    pendingMd_.pop_front();
    deliver();
    for (auto& s : sessions_)
      if (s->state != State::Free && !s->closePending && !s->output.empty())
        flush(*s);
  }
  armMdDelayTimer();
}

void ExchangeServer::deliver() noexcept {
  const std::uint32_t symbols = market_.symbolCount();
  if (recorder_) {
    // Stamped like a feed of its own (seq 1, 2, ...); the sessions restamp their copies.
    const std::uint64_t now = core::realtimeNs();
    for (std::uint32_t k = 0; k < symbols; ++k) {
      std::byte* frame = mdBlock_.data() + k * mdFrameSize_;
      const std::uint32_t seq = recordSeq_.next();
      std::memcpy(frame + offsetof(protocol::Header, seq), &seq, sizeof(seq));
      std::memcpy(frame + offsetof(protocol::Header, timestamp), &now, sizeof(now));
      if (!recorder_->append(now, {frame, mdFrameSize_})) {
        spdlog::error("Recording {}: write failed; recording stopped", params_.recordFile);
        recorder_.reset();
        break;
      }
    }
  }
  if (udpSocket_)
    publishUdp();
  if (params_.udpFeedOnly)
    return;
  for (auto& sp : sessions_) {
    Session& s = *sp;
    if (s.state != State::LoggedOn || s.closePending)
      continue;
    if (!canTakeMarketData(s)) {
      counters_.marketDataConflated += symbols;
      continue;
    }
    std::byte* out = claim(s, mdBlock_.size());
    if (out == nullptr)
      continue;
    std::memcpy(out, mdBlock_.data(), mdBlock_.size());
    // Each connection numbers its own frames; one clock read covers this session's snapshots.
    const std::uint64_t now = core::realtimeNs();
    for (std::uint32_t k = 0; k < symbols; ++k) {
      std::byte* frame = out + k * mdFrameSize_;
      const std::uint32_t seq = s.txSeq.next();
      std::memcpy(frame + offsetof(protocol::Header, seq), &seq, sizeof(seq));
      std::memcpy(frame + offsetof(protocol::Header, timestamp), &now, sizeof(now));
    }
    counters_.marketDataFrames += symbols;
    counters_.framesSent += symbols;
  }
}

void ExchangeServer::publishUdp() noexcept {
  // Like the TCP sessions, the feed runs while someone is logged on (docs/protocol.md rule 2).
  if (std::none_of(sessions_.begin(), sessions_.end(),
                   [](const auto& s) { return s->state == State::LoggedOn && !s->closePending; }))
    return;
  const std::uint32_t symbols = market_.symbolCount();
  std::size_t frames = 0;
  udpUsed_ = 0;
  for (std::uint32_t k = 0; k < symbols; ++k) {
    if (udpUsed_ + mdFrameSize_ > udpDatagram_.size()) {
      sendDatagram(frames);
      frames = 0;
      udpUsed_ = 0;
    }
    std::byte* frame = udpDatagram_.data() + udpUsed_;
    std::memcpy(frame, mdBlock_.data() + k * mdFrameSize_, mdFrameSize_);
    const std::uint32_t seq = udpSeq_.next();
    std::memcpy(frame + offsetof(protocol::Header, seq), &seq, sizeof(seq));
    udpUsed_ += mdFrameSize_;
    ++frames;
  }
  if (frames)
    sendDatagram(frames);
}

void ExchangeServer::sendDatagram(std::size_t frames) noexcept {
  // Stamped as it leaves: the receive latency a client measures starts here.
  const std::uint64_t now = core::realtimeNs();
  for (std::size_t i = 0; i < frames; ++i)
    std::memcpy(udpDatagram_.data() + i * mdFrameSize_ + offsetof(protocol::Header, timestamp),
                &now, sizeof(now));
  const std::uint64_t before = core::monotonicNs();
  const ssize_t n = ::sendto(udpSocket_.get(), udpDatagram_.data(), udpUsed_, MSG_DONTWAIT,
                             reinterpret_cast<const sockaddr*>(&udpTarget_), sizeof(udpTarget_));
  udpSendTime_->record(core::monotonicNs() - before);
  if (n != static_cast<ssize_t>(udpUsed_)) {
    ++counters_.udpSendErrors; // lost: its frames' seqs show as a gap at the receivers
    return;
  }
  ++counters_.udpDatagrams;
  counters_.udpFrames += frames;
  counters_.udpBytes += udpUsed_;
}

void ExchangeServer::housekeeping() noexcept {
  std::uint64_t expirations = 0;
  if (::read(houseTimer_.get(), &expirations, sizeof(expirations)) != sizeof(expirations))
    return;
  for (auto& sp : sessions_) {
    Session& s = *sp;
    if (s.state == State::Free || s.closePending)
      continue;
    if (s.state == State::Closing) {
      if (s.output.empty() || nowNs_ >= s.closeDeadlineNs)
        requestClose(s, s.closeReason);
      continue;
    }
    const std::uint64_t interval = s.heartbeatMs * kNsPerMs;
    if (nowNs_ - s.lastRxNs >= 3 * interval) {
      ++counters_.heartbeatTimeouts;
      spdlog::info("Heartbeat timeout: nothing from {} (session_id {}) for {} ms", s.peer.data(),
                   s.sessionId, (nowNs_ - s.lastRxNs) / kNsPerMs);
      logout(s, protocol::LogoutReason::HeartbeatTimeout, CloseReason::HeartbeatTimeout);
    } else if (s.state == State::LoggedOn && nowNs_ - s.lastTxNs >= interval) {
      protocol::Heartbeat hb{};
      if (queue(s, hb, MsgType::Heartbeat)) {
        ++counters_.heartbeatsSent;
        flush(s);
      }
    }
  }
  if (samples_ && nowNs_ - lastSampleFlushNs_ >= kSampleFlushNs) {
    lastSampleFlushNs_ = nowNs_;
    samples_->flush();
  }
}

void ExchangeServer::beginShutdown(int signal) noexcept {
  if (shuttingDown_) {
    spdlog::warn("Received {} again: closing every connection now", signalName(signal));
    shutdownDeadlineNs_ = nowNs_;
    return;
  }
  stopSignal_ = signal;
  shuttingDown_ = true;
  shutdownDeadlineNs_ = nowNs_ + params_.shutdownGraceMs * kNsPerMs;
  spdlog::info("Received {}: logging out {} connection(s)", signalName(signal), openConnections_);
  if (tickTimer_) {
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, tickTimer_.get(), nullptr);
    tickTimer_.reset();
  }
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
  listener_.reset();
  for (auto& s : sessions_)
    if (s->state != State::Free && s->state != State::Closing && !s->closePending)
      logout(*s, protocol::LogoutReason::ExchangeClosing, CloseReason::ExchangeClosing);
}

template <typename T>
bool ExchangeServer::queue(Session& s, T& frame, protocol::MsgType type) noexcept {
  protocol::stampHeader(frame.header, type, sizeof(T), 0, 0);
  std::byte* out = claim(s, sizeof(T));
  if (out == nullptr)
    return false;
  // Numbered only once it is sure to be sent, so the client sees no gap before a close.
  frame.header.seq = s.txSeq.next();
  frame.header.timestamp = core::realtimeNs();
  std::memcpy(out, &frame, sizeof(T));
  ++counters_.framesSent;
  return true;
}

std::byte* ExchangeServer::claim(Session& s, std::size_t n) noexcept {
  if (s.closePending)
    return nullptr;
  std::byte* out = s.output.claim(n);
  if (out == nullptr) {
    flush(s); // the socket may take some of the backlog now
    if (s.closePending)
      return nullptr;
    out = s.output.claim(n);
    if (out == nullptr) {
      spdlog::warn("Slow consumer {} (session_id {}): {} bytes unsent fill its output buffer; "
                   "disconnecting it",
                   s.peer.data(), s.sessionId, s.output.size());
      requestClose(s, CloseReason::SlowConsumer);
      return nullptr;
    }
  }
  s.lastTxNs = nowNs_;
  return out;
}

void ExchangeServer::flush(Session& s) noexcept {
  while (!s.output.empty()) {
    const ssize_t n =
        ::send(s.fd.get(), s.output.pending(), s.output.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      s.output.consume(static_cast<std::size_t>(n));
      counters_.bytesSent += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      break;
    requestClose(s, s.state == State::Closing ? s.closeReason : closeReasonOf(errno));
    return;
  }
  setWriteInterest(s, !s.output.empty());
  if (s.state == State::Closing && s.output.empty())
    requestClose(s, s.closeReason);
}

void ExchangeServer::setWriteInterest(Session& s, bool want) noexcept {
  if (s.writeArmed == want)
    return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0U);
  ev.data.u64 = (static_cast<std::uint64_t>(s.generation) << 32) | s.slot;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, s.fd.get(), &ev) == 0)
    s.writeArmed = want;
}

void ExchangeServer::cancelOnDisconnect(Session& s) noexcept {
  if (!s.matchingOpen)
    return;
  s.matchingOpen = false;
  s.canceledOnClose += matching_.closeSession(s.slot);
}

void ExchangeServer::logout(Session& s, protocol::LogoutReason reason, CloseReason why) noexcept {
  // The session is over: its resting orders must not fill while the LOGOUT drains.
  cancelOnDisconnect(s);
  protocol::Logout bye{};
  bye.reason = static_cast<std::uint8_t>(reason);
  if (!queue(s, bye, MsgType::Logout))
    return; // overflowed: already closing
  s.state = State::Closing;
  s.closeReason = why;
  s.closeDeadlineNs = nowNs_ + params_.shutdownGraceMs * kNsPerMs;
  flush(s);
}

void ExchangeServer::requestClose(Session& s, CloseReason why) noexcept {
  if (s.closePending)
    return;
  s.closePending = true;
  s.closeReason = why;
  closeQueue_.push_back(s.slot); // at most one entry per slot: fits the reserved capacity
}

void ExchangeServer::closePendingSessions() noexcept {
  for (const std::uint32_t slot : closeQueue_)
    closeSession(slot);
  closeQueue_.clear();
}

void ExchangeServer::closeSession(std::uint32_t slot) noexcept {
  Session& s = *sessions_[slot];
  cancelOnDisconnect(s);
  ++counters_.disconnects;
  if (s.closeReason == CloseReason::SlowConsumer)
    ++counters_.slowConsumerDisconnects;
  if (s.closeReason == CloseReason::SocketError)
    ++counters_.socketErrors;
  if (s.wasLoggedOn)
    spdlog::info("Disconnect session_id {} account '{}' {}: {}; {} orders sent, {} resting "
                 "orders canceled",
                 s.sessionId, s.account.data(), s.peer.data(), describe(s.closeReason), s.orders,
                 s.canceledOnClose);
  else
    spdlog::info("Connection from {} closed before logon: {}", s.peer.data(),
                 describe(s.closeReason));
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, s.fd.get(), nullptr);
  s.fd.reset();
  s.state = State::Free;
  s.closePending = false;
  s.output.clear();
  s.input.reset();
  ++s.generation; // events still queued for the old connection are now stale
  if (s.generation == 0)
    s.generation = 1;
  --openConnections_;
}

} // namespace hft::server

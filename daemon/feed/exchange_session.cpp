// SPDX-License-Identifier: MIT
// The engine's side of the exchange TCP session (docs/protocol.md, "Session rules").
#include "daemon/feed/exchange_session.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "libhft/core/clock.h"
#include "libhft/core/stamp_clock.h"

namespace hft::feed {

using namespace hft::protocol;

const char* describe(SessionState state) noexcept {
  switch (state) {
  case SessionState::Disconnected: return "disconnected";
  case SessionState::Connecting: return "connecting";
  case SessionState::LogonSent: return "logging on";
  case SessionState::LoggedOn: return "logged on";
  case SessionState::LoggingOut: return "logging out";
  }
  return "?";
}

const char* describe(CloseReason reason) noexcept {
  switch (reason) {
  case CloseReason::None: return "none";
  case CloseReason::ConnectFailed: return "connect failed";
  case CloseReason::ConnectTimeout: return "connect timed out";
  case CloseReason::LogonRejected: return "logon rejected";
  case CloseReason::LogonTimeout: return "no logon response";
  case CloseReason::PeerClosed: return "exchange closed the connection";
  case CloseReason::PeerLogout: return "exchange logged out";
  case CloseReason::HeartbeatTimeout: return "nothing received for three heartbeat intervals";
  case CloseReason::Malformed: return "malformed frame";
  case CloseReason::SocketError: return "socket error";
  case CloseReason::LocalLogout: return "logged out";
  case CloseReason::FeedFailed: return "the market data feed could not be opened (see the log)";
  }
  return "?";
}

ExchangeSession::ExchangeSession(SessionListener& listener)
    : listener_(listener), pending_(std::make_unique<std::byte[]>(kPendingCapacity)) {}

int ExchangeSession::connect(const SessionParams& params, std::uint64_t nowNs) {
  close(CloseReason::None);
  params_ = params;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(params.port);
  if (const int rc = getaddrinfo(params.host.c_str(), port.c_str(), &hints, &result); rc != 0)
    return rc == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
  int err = -ECONNREFUSED;
  for (addrinfo* ai = result; ai; ai = ai->ai_next) {
    core::UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      err = -errno;
      continue;
    }
    const int one = 1;
    // Orders must leave at once: no Nagle coalescing.
    // Checked: a session whose orders Nagle could hold back is no session at all.
    if (setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
      err = -errno;
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
      fd_ = std::move(fd);
      err = 0;
      break;
    }
    err = -errno;
  }
  freeaddrinfo(result);
  if (err != 0)
    return err;
  state_ = SessionState::Connecting;
  stateSinceNs_ = nowNs;
  nowNs_ = nowNs;
  reassembler_.reset();
  txSeq_.reset();
  rxSeq_.reset();
  pendingBegin_ = pendingEnd_ = 0;
  heartbeatNs_ = (params_.heartbeatMs ? params_.heartbeatMs : kDefaultHeartbeatMs) * 1'000'000ULL;
  return 0;
}

void ExchangeSession::enableKernelStamps() noexcept {
  rxStampsOn_ = txStampsOn_ = false;
  stampsError_ = 0;
  txStreamBytes_ = lastSendKey_ = 0;
  kernelRxNs_ = 0;
  if (!wantStamps_)
    return;
  // Established: OPT_ID keys start at the next byte written (the logon's first).
  int rc = enableTimestamping(fd_.get(), timestampingFlags(true, hardwareStamps_));
  if (rc == 0) {
    rxStampsOn_ = txStampsOn_ = true;
    return;
  }
  stampsError_ = -rc;
  // An older kernel may refuse the transmit flags: receive stamps alone are still worth it.
  rc = enableTimestamping(fd_.get(), timestampingFlags(false, hardwareStamps_));
  rxStampsOn_ = rc == 0;
}

void ExchangeSession::close(CloseReason reason, int error) noexcept {
  if (!fd_)
    return;
  fd_.reset();
  rxStampsOn_ = txStampsOn_ = false;
  state_ = SessionState::Disconnected;
  if (reason != CloseReason::None)
    listener_.onClosed(reason, error, 0);
}

void ExchangeSession::sendLogon(std::uint64_t nowNs) noexcept {
  Logon logon{};
  stampHeader(logon.header, MsgType::Logon, sizeof(logon), 0, 0);
  logon.protocolVersion = kProtocolVersion;
  logon.heartbeatIntervalMs = params_.heartbeatMs;
  // NUL-padded, not necessarily NUL-terminated (docs/protocol.md).
  std::memcpy(logon.account, params_.account.data(),
              std::min(params_.account.size(), sizeof(logon.account)));
  std::byte bytes[sizeof(Logon)];
  writeFrame(bytes, logon);
  sendControl(bytes, sizeof(bytes));
  state_ = SessionState::LogonSent;
  stateSinceNs_ = nowNs;
  lastRecvNs_ = nowNs;
}

void ExchangeSession::logout(std::uint64_t nowNs) noexcept {
  if (state_ == SessionState::Connecting || state_ == SessionState::Disconnected) {
    close(CloseReason::LocalLogout);
    return;
  }
  Logout out{};
  stampHeader(out.header, MsgType::Logout, sizeof(out), 0, 0);
  out.reason = static_cast<std::uint8_t>(LogoutReason::Normal);
  std::byte bytes[sizeof(Logout)];
  writeFrame(bytes, out);
  sendControl(bytes, sizeof(bytes));
  state_ = SessionState::LoggingOut;
  stateSinceNs_ = nowNs;
}

bool ExchangeSession::poll(std::uint64_t nowNs) noexcept {
  nowNs_ = nowNs;
  switch (state_) {
  case SessionState::Disconnected: return false;
  case SessionState::Connecting: {
    pollfd p{fd_.get(), POLLOUT, 0};
    if (::poll(&p, 1, 0) == 1) {
      int soError = 0;
      socklen_t len = sizeof(soError);
      getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &soError, &len);
      if (soError != 0) {
        close(CloseReason::ConnectFailed, soError);
        return true;
      }
      enableKernelStamps();
      sendLogon(nowNs);
      return true;
    }
    if (nowNs - stateSinceNs_ > params_.connectTimeoutMs * 1'000'000ULL)
      close(CloseReason::ConnectTimeout, ETIMEDOUT);
    return false;
  }
  case SessionState::LogonSent:
  case SessionState::LoggedOn:
  case SessionState::LoggingOut: break;
  }

  flushPending();
  const bool didWork = readSome(nowNs);
  if (!fd_)
    return true;
  if (state_ == SessionState::LogonSent && nowNs - stateSinceNs_ > 3 * heartbeatNs_) {
    close(CloseReason::LogonTimeout, ETIMEDOUT);
    return true;
  }
  if (state_ == SessionState::LoggingOut && nowNs - stateSinceNs_ > heartbeatNs_) {
    close(CloseReason::LocalLogout); // the exchange did not answer our LOGOUT in time
    return true;
  }
  if (state_ == SessionState::LoggedOn) {
    if (nowNs - lastRecvNs_ >= 3 * heartbeatNs_) {
      Logout out{};
      stampHeader(out.header, MsgType::Logout, sizeof(out), 0, 0);
      out.reason = static_cast<std::uint8_t>(LogoutReason::HeartbeatTimeout);
      std::byte bytes[sizeof(Logout)];
      writeFrame(bytes, out);
      sendControl(bytes, sizeof(bytes));
      close(CloseReason::HeartbeatTimeout, ETIMEDOUT);
      return true;
    }
    if (nowNs - lastSendNs_ >= heartbeatNs_) {
      Heartbeat hb{};
      stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 0, 0);
      std::byte bytes[sizeof(Heartbeat)];
      writeFrame(bytes, hb);
      if (sendControl(bytes, sizeof(bytes)))
        ++counters_.heartbeatsSent;
    }
  }
  return didWork;
}

bool ExchangeSession::readSome(std::uint64_t nowNs) noexcept {
  const auto space = reassembler_.writable();
  ssize_t n = 0;
  if (rxStampsOn_) {
    // Same one system call; the stamp comes in the preallocated control buffer.
    iovec iov{space.data(), space.size()};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = rxControl_;
    message.msg_controllen = sizeof(rxControl_);
    n = ::recvmsg(fd_.get(), &message, MSG_DONTWAIT);
    if (n > 0)
      kernelRxNs_ = receiveStampNs(message);
  } else {
    n = ::recv(fd_.get(), space.data(), space.size(), MSG_DONTWAIT);
  }
  if (n == 0) {
    if (reassembler_.buffered() != 0) {
      // The exchange closed inside a frame: that frame is lost, so it counts as malformed.
      ++counters_.malformed;
      listener_.onBadFrame(FrameError::Truncated, 0);
    }
    close(state_ == SessionState::LoggingOut ? CloseReason::LocalLogout : CloseReason::PeerClosed);
    return true;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR)
      return false;
    close(CloseReason::SocketError, errno);
    return true;
  }
  const std::uint64_t rxStamp = core::stamp();
  reassembler_.commit(static_cast<std::size_t>(n));
  ++counters_.rxPackets;
  counters_.rxBytes += static_cast<std::uint64_t>(n);
  lastRecvNs_ = nowNs;
  FrameView frame;
  FrameError error = FrameError::None;
  for (;;) {
    const auto result = reassembler_.next(frame, error);
    if (result == StreamReassembler::Result::NeedMore)
      break;
    if (result == StreamReassembler::Result::Malformed) {
      ++counters_.malformed;
      listener_.onBadFrame(error, 0);
      close(CloseReason::Malformed, EPROTO);
      break;
    }
    dispatch(frame, rxStamp);
    if (!fd_)
      break;
  }
  // close() and reset() move no bytes: the views handed out are still whole here.
  listener_.onReadEnd();
  return true;
}

void ExchangeSession::dispatch(const FrameView& frame, std::uint64_t rxStamp) noexcept {
  ++counters_.rxMessages;
  if (const std::uint64_t missing = rxSeq_.onSeq(frame.header().seq); missing != 0) {
    counters_.gaps += missing;
    listener_.onGap(missing);
  }
  switch (static_cast<MsgType>(frame.type)) {
  case MsgType::MarketData: {
    if (const FrameError e = checkMarketDataContent(frame); e != FrameError::None) {
      ++counters_.malformed;
      listener_.onBadFrame(e, frame.type); // invalid content: dropped, the session goes on
      return;
    }
    listener_.onFrame(frame, rxStamp);
    return;
  }
  case MsgType::ExecutionReport: listener_.onFrame(frame, rxStamp); return;
  case MsgType::LogonResponse: {
    const auto response = frame.as<LogonResponse>();
    if (state_ != SessionState::LogonSent)
      return;
    if (response.status != static_cast<std::uint8_t>(LogonStatus::Accepted)) {
      fd_.reset();
      state_ = SessionState::Disconnected;
      listener_.onClosed(CloseReason::LogonRejected, 0, response.reason);
      return;
    }
    if (response.heartbeatIntervalMs)
      heartbeatNs_ = response.heartbeatIntervalMs * 1'000'000ULL;
    exchangeSessionId_ = response.sessionId;
    state_ = SessionState::LoggedOn;
    stateSinceNs_ = nowNs_;
    listener_.onLoggedOn(response.sessionId,
                         static_cast<std::uint32_t>(heartbeatNs_ / 1'000'000ULL));
    return;
  }
  case MsgType::Heartbeat: return;
  case MsgType::Logout: {
    const auto logout = frame.as<Logout>();
    const bool ours = state_ == SessionState::LoggingOut;
    fd_.reset();
    state_ = SessionState::Disconnected;
    listener_.onClosed(ours ? CloseReason::LocalLogout : CloseReason::PeerLogout, 0, logout.reason);
    return;
  }
  case MsgType::NewOrder:
  case MsgType::CancelOrder:
  case MsgType::Logon: break; // engine-to-exchange types never come this way
  }
  ++counters_.unknownTypes;
  listener_.onBadFrame(FrameError::None, frame.type);
}

bool ExchangeSession::send(std::byte* frame, std::size_t length,
                           std::uint64_t realtimeNs) noexcept {
  if (state_ != SessionState::LoggedOn)
    return false;
  if (pendingEnd_ != pendingBegin_ && kPendingCapacity - pendingEnd_ < length) {
    ++counters_.sendBlocked;
    return false;
  }
  Header h;
  std::memcpy(&h, frame, sizeof(h));
  h.seq = txSeq_.next();
  h.timestamp = realtimeNs;
  std::memcpy(frame, &h, sizeof(h));
  if (!writeBytes(frame, length))
    return false;
  lastSendKey_ = txStreamBytes_ - 1;
  return true;
}

bool ExchangeSession::sendControl(std::byte* frame, std::size_t length) noexcept {
  if (!fd_)
    return false;
  Header h;
  std::memcpy(&h, frame, sizeof(h));
  h.seq = txSeq_.next();
  h.timestamp = core::realtimeNs();
  std::memcpy(frame, &h, sizeof(h));
  return writeBytes(frame, length);
}

bool ExchangeSession::writeBytes(const std::byte* data, std::size_t length) noexcept {
  lastSendNs_ = nowNs_; // heartbeats are timed in ms: the poll's time is close enough
  ++counters_.txMessages;
  // Every byte reaches the stream in order (now or from pending_), so this is its offset.
  txStreamBytes_ += static_cast<std::uint32_t>(length);
  std::size_t written = 0;
  if (pendingEnd_ == pendingBegin_) {
    const ssize_t n = ::send(fd_.get(), data, length, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      close(CloseReason::SocketError, errno);
      return false;
    }
    written = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (written == length)
      return true;
    pendingBegin_ = pendingEnd_ = 0;
  }
  // The kernel took part or none of it: keep the rest, in order, for flushPending().
  ++counters_.sendBlocked;
  const std::size_t rest = length - written;
  if (kPendingCapacity - pendingEnd_ < rest) {
    close(CloseReason::SocketError, ENOBUFS); // the exchange stopped reading for 64 KiB
    return false;
  }
  std::memcpy(pending_.get() + pendingEnd_, data + written, rest);
  pendingEnd_ += rest;
  return true;
}

void ExchangeSession::flushPending() noexcept {
  if (pendingEnd_ == pendingBegin_ || !fd_)
    return;
  const ssize_t n = ::send(fd_.get(), pending_.get() + pendingBegin_, pendingEnd_ - pendingBegin_,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR)
      close(CloseReason::SocketError, errno);
    return;
  }
  pendingBegin_ += static_cast<std::size_t>(n);
  if (pendingBegin_ == pendingEnd_)
    pendingBegin_ = pendingEnd_ = 0;
}

} // namespace hft::feed

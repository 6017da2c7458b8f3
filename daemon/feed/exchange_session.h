// SPDX-License-Identifier: MIT
// The engine's side of the exchange TCP session: connect, logon, heartbeats, reassembly,
// gap counting and orderly logout, driven by the trading thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "daemon/feed/kernel_stamps.h"
#include "libhft/core/fd.h"
#include "libhft/protocol/codec.h"
#include "libhft/protocol/reassembler.h"

namespace hft::feed {

enum class SessionState : std::uint8_t {
  Disconnected,
  Connecting, // TCP connect in progress
  LogonSent,
  LoggedOn,
  LoggingOut, // LOGOUT sent, waiting for the exchange's LOGOUT or close
};

[[nodiscard]] const char* describe(SessionState state) noexcept;

// Why a connection ended; reported once per connection.
enum class CloseReason : std::uint8_t {
  None,
  ConnectFailed,
  ConnectTimeout,
  LogonRejected,
  LogonTimeout,
  PeerClosed,
  PeerLogout,
  HeartbeatTimeout,
  Malformed,
  SocketError,
  LocalLogout,
  FeedFailed, // the UDP feed (md_transport udp/af_xdp) could not be opened: no connect tried
};

[[nodiscard]] const char* describe(CloseReason reason) noexcept;

struct SessionParams {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9000;
  std::string account = "hft";
  std::uint32_t heartbeatMs = 1000;
  std::uint32_t connectTimeoutMs = 2000;
};

// Receives what the session decodes. Called on the trading thread, in order.
class SessionListener {
public:
  virtual ~SessionListener() = default;
  // A whole EXECUTION_REPORT frame, or a MARKET_DATA frame whose content is valid (the one
  // validation it gets); rxStamp (core::stamp()) is when its bytes were read. `frame` points
  // into the receive buffer, never copied: valid until onReadEnd() returns.
  virtual void onFrame(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept = 0;
  // Every frame of one recv() was handed to onFrame(): work that may wait until the orders they
  // made are out (recording them) is done here, while their bytes are still in the buffer.
  virtual void onReadEnd() noexcept {}
  virtual void onLoggedOn(std::uint64_t exchangeSessionId, std::uint32_t heartbeatMs) noexcept = 0;
  virtual void onClosed(CloseReason reason, int error, std::uint8_t detail) noexcept = 0;
  // A frame dropped: malformed (the connection closes) or of an unknown type (skipped).
  virtual void onBadFrame(protocol::FrameError error, std::uint16_t type) noexcept = 0;
  virtual void onGap(std::uint64_t missing) noexcept = 0;
};

struct SessionCounters {
  std::uint64_t rxPackets = 0; // recv() calls that returned bytes
  std::uint64_t rxBytes = 0;
  std::uint64_t rxMessages = 0; // whole frames of any type
  std::uint64_t txMessages = 0;
  std::uint64_t heartbeatsSent = 0;
  std::uint64_t unknownTypes = 0;
  std::uint64_t malformed = 0;
  std::uint64_t gaps = 0;
  std::uint64_t sendBlocked = 0; // sends that found the socket buffer full
};

class ExchangeSession {
public:
  explicit ExchangeSession(SessionListener& listener);
  ExchangeSession(const ExchangeSession&) = delete;
  ExchangeSession& operator=(const ExchangeSession&) = delete;

  // Starts a non-blocking connect (state Connecting); the rest happens in poll().
  // Returns 0 or -errno (bad address).
  [[nodiscard]] int connect(const SessionParams& params, std::uint64_t nowNs);
  // Sends LOGOUT (normal) and waits in poll() for the exchange to close.
  void logout(std::uint64_t nowNs) noexcept;
  // Closes at once without a LOGOUT.
  void close(CloseReason reason, int error = 0) noexcept;

  // Does all pending work: connect completion, reads and dispatch, heartbeats, timeouts.
  // Returns true when it did anything (for the poll loop's idle detection). Every `nowNs` given
  // to the session is on one monotonic time base (core::stampToNs(core::stamp())).
  bool poll(std::uint64_t nowNs) noexcept;

  // Writes one frame (its header's seq and timestamp are stamped here). Returns false when
  // not logged on or the socket cannot take it (the frame is counted as blocked, not lost:
  // the caller keeps it and retries).
  [[nodiscard]] bool send(std::byte* frame, std::size_t length, std::uint64_t realtimeNs) noexcept;

  [[nodiscard]] SessionState state() const noexcept { return state_; }
  // Per-session figures start again from zero (a new trading session).
  void resetCounters() noexcept { counters_ = {}; }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const SessionCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t exchangeSessionId() const noexcept { return exchangeSessionId_; }

  // Kernel timestamps (docs/performance.md, "Kernel timestamps"): asked for on the next
  // connection once it is established (OPT_ID keys count from there). `hardware` adds the
  // NIC's receive stamps. Set before connect().
  void setKernelTimestamps(bool on, bool hardware) noexcept {
    wantStamps_ = on;
    hardwareStamps_ = on && hardware;
  }
  // Of the current connection: whether receive / transmit stamps are on, and the errno of a
  // refused SO_TIMESTAMPING (0 when it was taken or not asked for).
  [[nodiscard]] bool kernelRxStamps() const noexcept { return rxStampsOn_; }
  [[nodiscard]] bool kernelTxStamps() const noexcept { return txStampsOn_; }
  [[nodiscard]] int kernelStampsError() const noexcept { return stampsError_; }
  // During onFrame(): the kernel's receive stamp (CLOCK_REALTIME ns) of the recv() whose bytes
  // completed the frame; 0 when there is none.
  [[nodiscard]] std::uint64_t kernelRxNs() const noexcept { return kernelRxNs_; }
  // After a send() that returned true: the OPT_ID key of the frame's last byte (its offset in
  // the byte stream since the stamps were turned on), which its transmit stamp will carry.
  [[nodiscard]] std::uint32_t lastSendKey() const noexcept { return lastSendKey_; }
  // Bytes given to the stream since the stamps were turned on (modulo 2^32).
  [[nodiscard]] std::uint32_t txStreamBytes() const noexcept { return txStreamBytes_; }
  // One message off the socket's error queue (a system call: never before an order is written).
  [[nodiscard]] ErrQueueResult readTxStamp(TxStamp& out) noexcept {
    return fd_ ? feed::readTxStamp(fd_.get(), out) : ErrQueueResult::Empty;
  }

private:
  bool readSome(std::uint64_t nowNs) noexcept;
  void dispatch(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept;
  bool sendControl(std::byte* frame, std::size_t length) noexcept;
  bool writeBytes(const std::byte* data, std::size_t length) noexcept;
  void flushPending() noexcept;
  void sendLogon(std::uint64_t nowNs) noexcept;
  // Asks for SO_TIMESTAMPING on the just-established connection (OPT_ID keys start here).
  void enableKernelStamps() noexcept;

  SessionListener& listener_;
  SessionParams params_;
  core::UniqueFd fd_;
  SessionState state_ = SessionState::Disconnected;
  protocol::StreamReassembler reassembler_;
  protocol::SeqCounter txSeq_;
  protocol::SeqTracker rxSeq_;
  SessionCounters counters_;
  std::uint64_t exchangeSessionId_ = 0;
  std::uint64_t heartbeatNs_ = 1'000'000'000;
  std::uint64_t stateSinceNs_ = 0;
  std::uint64_t lastSendNs_ = 0;
  std::uint64_t lastRecvNs_ = 0;
  std::uint64_t nowNs_ = 0; // of the current poll(): what sends and state changes are timed by
  // Kernel timestamps of the current connection (docs/hftd.md, "Kernel timestamps").
  bool wantStamps_ = false;
  bool hardwareStamps_ = false;
  bool rxStampsOn_ = false;
  bool txStampsOn_ = false;
  int stampsError_ = 0;
  std::uint64_t kernelRxNs_ = 0;
  std::uint32_t txStreamBytes_ = 0; // bytes given to the stream since the stamps were turned on
  std::uint32_t lastSendKey_ = 0;
  alignas(cmsghdr) char rxControl_[kStampControlBytes]; // CMSG_FIRSTHDR needs cmsghdr alignment
  // Bytes the kernel did not take yet; flushed before anything new so frames never interleave.
  static constexpr std::size_t kPendingCapacity = 64 * 1024;
  std::unique_ptr<std::byte[]> pending_;
  std::size_t pendingBegin_ = 0;
  std::size_t pendingEnd_ = 0;
};

} // namespace hft::feed

// SPDX-License-Identifier: MIT
// The exchange's network side: one epoll thread serving every TCP session (logon, heartbeats,
// orders, market data on a drift-free tick timer) and shutting down cleanly on SIGINT/SIGTERM.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "exchange-sim/market/latency_model.h"
#include "exchange-sim/market/market_model.h"
#include "exchange-sim/matching/matching_engine.h"
#include "exchange-sim/server/output_buffer.h"
#include "exchange-sim/server/sample_log.h"
#include "libhft/core/fd.h"
#include "libhft/core/histogram.h"
#include "libhft/protocol/codec.h"
#include "libhft/protocol/md_recording.h"
#include "libhft/protocol/reassembler.h"

namespace hft::server {

struct ServerParams {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 9000;               // 0 picks an ephemeral port
  std::uint32_t tickIntervalMs = 10;       // 0 = publish as fast as the sessions take it
  std::uint32_t maxSessions = 64;          // concurrent connections, logged on or not
  std::size_t outputBufferBytes = 1 << 20; // per session; overflowing it disconnects
  std::uint32_t defaultHeartbeatMs = protocol::kDefaultHeartbeatMs;
  std::uint32_t minHeartbeatMs = 50; // requested intervals are clamped into [min, max]
  std::uint32_t maxHeartbeatMs = 60'000;
  std::vector<std::string> accounts;    // accounts allowed to log on; empty = any
  std::uint32_t shutdownGraceMs = 1000; // time to deliver LOGOUT before closing anyway
  std::string samplesFile;              // "" = no per-order samples
  std::size_t samplesCapacity = 65536;
  // The UDP market data feed (docs/exchange-sim.md): every tick's snapshots, packed into
  // datagrams of whole frames, numbered by the feed's own seq from 1, while a session is
  // logged on.
  std::string udpFeed;              // "IPV4:PORT" (unicast or multicast); "" = none
  bool udpFeedOnly = false;         // no MARKET_DATA on the TCP sessions
  std::string udpInterface;         // multicast: the interface to send from
  std::size_t udpMaxPayload = 1472; // datagram payload bytes (1500 MTU - IPv4 - UDP)
  std::uint32_t udpTtl = 1;         // multicast TTL
  // Order entry: every NEW_ORDER and CANCEL_ORDER is acted on (and measured for tick-to-trade)
  // only after this delay, kept in arrival order; zero by default.
  market::LatencyParams orderLatency;
  // Market data: each tick's snapshots are published (sent, recorded) only after this delay;
  // needs tick_rate_ms > 0. The matching engine sees the new ladder at once.
  market::LatencyParams mdLatency;
  std::uint64_t latencySeed = 1; // --seed; the delays draw from their own stream
  std::string recordFile;        // "" = no recording of the published market data
};

// A recording that can drive the market: frames of symbols 1..symbols, each with 2 * depth
// entries. Throws protocol::MdRecordingError naming the problem.
struct ReplayShape {
  std::uint32_t symbols = 0;
  std::uint32_t depth = 0;
};
[[nodiscard]] ReplayShape checkReplay(const protocol::MdRecordingReader& recording,
                                      const std::string& path);

// Why a connection ended.
enum class CloseReason : std::uint8_t {
  PeerClosed,
  ClientLogout,
  HeartbeatTimeout,
  Malformed,
  SlowConsumer,
  SocketError,
  ExchangeClosing,
};

[[nodiscard]] const char* describe(CloseReason reason) noexcept;

struct ServerCounters {
  std::uint64_t connections = 0;        // TCP connections accepted
  std::uint64_t connectionsRefused = 0; // closed at once: every session slot taken
  std::uint64_t sessions = 0;           // logons accepted
  std::uint64_t logonRejects = 0;
  std::uint64_t disconnects = 0; // connections closed, for whatever reason
  std::uint64_t clientLogouts = 0;
  std::uint64_t heartbeatTimeouts = 0;
  std::uint64_t malformedFrames = 0;
  std::uint64_t unknownFrames = 0;    // unknown msg_type: counted and skipped
  std::uint64_t unexpectedFrames = 0; // a known type the exchange never receives (e.g. MARKET_DATA)
  std::uint64_t slowConsumerDisconnects = 0;
  std::uint64_t socketErrors = 0;
  std::uint64_t framesReceived = 0;
  std::uint64_t framesSent = 0;
  std::uint64_t bytesReceived = 0;
  std::uint64_t bytesSent = 0;
  std::uint64_t inboundSeqGaps = 0; // frames missing by the clients' seq numbers
  std::uint64_t heartbeatsSent = 0;
  std::uint64_t heartbeatsReceived = 0;
  std::uint64_t marketDataFrames = 0;    // MARKET_DATA frames queued to sessions
  std::uint64_t marketDataConflated = 0; // snapshots skipped for a backlogged session (tick-rate 0)
  std::uint64_t ticks = 0;
  std::uint64_t ticksMissed = 0;         // timer expirations the loop was too late to publish
  std::uint64_t tickToTradeNegative = 0; // md_timestamp later than the receive time: not recorded
  std::uint64_t tickToTradeMissing = 0;  // NEW_ORDER with md_timestamp 0
  std::uint64_t udpFrames = 0;           // MARKET_DATA frames sent on the UDP feed
  std::uint64_t udpDatagrams = 0;
  std::uint64_t udpBytes = 0;
  std::uint64_t udpSendErrors = 0; // datagrams the kernel refused: their seqs are a gap
};

class ExchangeServer final : public matching::ReportSink {
public:
  // Allocates every session's buffers. Call listen() and then run().
  ExchangeServer(const ServerParams& params, market::MarketModel& market,
                 const matching::MatchingParams& matchingParams);
  ~ExchangeServer() override;
  ExchangeServer(const ExchangeServer&) = delete;
  ExchangeServer& operator=(const ExchangeServer&) = delete;

  // Binds, listens and sets up the timers and the signal fd (SIGINT and SIGTERM must already
  // be blocked in every thread). Throws std::system_error / std::runtime_error.
  void listen();
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

  // Serves until SIGINT or SIGTERM, then logs every client out. Returns the signal number.
  int run();

  [[nodiscard]] const ServerCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const matching::MatchingCounters& matchingCounters() const noexcept {
    return matching_.counters();
  }
  [[nodiscard]] const core::Histogram& tickToTrade() const noexcept { return *tickToTrade_; }
  [[nodiscard]] const SampleLog* samples() const noexcept { return samples_.get(); }
  [[nodiscard]] const market::DelayStats& orderDelays() const noexcept { return orderDelays_; }
  [[nodiscard]] const market::DelayStats& mdDelays() const noexcept { return mdDelays_; }
  // Replay instead of the random walk; call before listen(). speed 0 needs tickIntervalMs 0.
  void setReplay(const protocol::MdRecordingReader* recording, double speed) noexcept {
    replay_ = recording;
    replaySpeed_ = speed;
  }

  void onExecutionReport(std::uint32_t session,
                         const protocol::ExecutionReport& report) noexcept override;

private:
  enum class State : std::uint8_t { Free, Connected, LoggedOn, Closing };

  struct Session {
    Session(std::uint32_t index, std::size_t outputBytes) : slot(index), output(outputBytes) {}
    const std::uint32_t slot;
    core::UniqueFd fd;
    protocol::StreamReassembler input;
    OutputBuffer output;
    protocol::SeqCounter txSeq;
    protocol::SeqTracker rxSeq;
    State state = State::Free;
    CloseReason closeReason = CloseReason::PeerClosed;
    bool closePending = false; // close at the next safe point (not inside a callback)
    bool writeArmed = false;   // EPOLLOUT registered
    bool wasLoggedOn = false;
    bool matchingOpen = false; // the matching engine holds an order table for this slot
    std::uint32_t canceledOnClose = 0;
    std::uint32_t generation = 0;
    std::uint32_t heartbeatMs = protocol::kDefaultHeartbeatMs;
    std::uint64_t sessionId = 0;
    std::uint64_t lastRxNs = 0; // monotonic
    std::uint64_t lastTxNs = 0; // monotonic
    std::uint64_t closeDeadlineNs = 0;
    std::uint64_t orders = 0;
    std::array<char, 64> peer{};
    std::array<char, 17> account{};
  };

  void acceptConnections() noexcept;
  void onReadable(std::uint32_t slot) noexcept;
  void processFrames(std::uint32_t slot, std::uint64_t rxRealNs) noexcept;
  void onLogon(std::uint32_t slot, const protocol::Logon& logon) noexcept;
  void onNewOrder(std::uint32_t slot, const protocol::NewOrder& order,
                  std::uint64_t rxRealNs) noexcept;
  void onCancel(std::uint32_t slot, const protocol::CancelOrder& cancel) noexcept;
  // Order entry with a delay: queued here, released by the delay timer.
  void enqueueDelayed(std::uint32_t slot, const protocol::FrameView& frame) noexcept;
  void onDelayTimer() noexcept;
  void armDelayTimer() noexcept;
  void onTickTimer() noexcept;
  [[nodiscard]] bool replayStep() noexcept; // loads the next tick's frames; false at the end
  void armReplayTimer() noexcept;
  void onTick() noexcept;
  void publish() noexcept;
  void deliver() noexcept; // sends (and records) the snapshots in mdBlock_
  void armMdDelayTimer() noexcept;
  void onMdDelayTimer() noexcept;
  void publishUdp() noexcept;
  void sendDatagram(std::size_t frames) noexcept;
  void openUdpFeed();
  void housekeeping() noexcept;
  void beginShutdown(int signal) noexcept;

  // Queues a fixed-size frame after stamping its header; false if the session overflowed.
  template <typename T> bool queue(Session& s, T& frame, protocol::MsgType type) noexcept;
  [[nodiscard]] std::byte* claim(Session& s, std::size_t n) noexcept;
  void flush(Session& s) noexcept;
  void setWriteInterest(Session& s, bool want) noexcept;
  // Sends LOGOUT, then closes once it is flushed (or after the grace period).
  void logout(Session& s, protocol::LogoutReason reason, CloseReason why) noexcept;
  void requestClose(Session& s, CloseReason why) noexcept;
  void closePendingSessions() noexcept;
  void closeSession(std::uint32_t slot) noexcept;
  void cancelOnDisconnect(Session& s) noexcept;
  [[nodiscard]] bool canTakeMarketData(const Session& s) const noexcept;

  ServerParams params_;
  market::MarketModel& market_;
  matching::MatchingEngine matching_;
  std::vector<std::unique_ptr<Session>> sessions_; // Session is not movable
  std::vector<std::uint32_t> closeQueue_; // slots with closePending, reserved to maxSessions
  core::UniqueFd epoll_;
  core::UniqueFd listener_;
  core::UniqueFd tickTimer_;
  core::UniqueFd houseTimer_;
  core::UniqueFd signalFd_;
  core::UniqueFd delayTimer_; // only with a nonzero order-entry latency

  struct DelayedRequest {
    std::uint64_t releaseNs; // monotonic
    std::uint32_t slot;
    std::uint32_t generation; // a request of a connection since closed is dropped
    protocol::MsgType type;   // NewOrder or CancelOrder
    // The wire structs are packed (alignment 1): aligned here, so that their fields can be read
    // through references (spdlog binds its arguments by reference) without a misaligned load.
    alignas(8) protocol::NewOrder order;
    alignas(8) protocol::CancelOrder cancel;
  };
  market::LatencyModel orderLatency_;
  market::LatencyModel mdLatency_;
  market::DelayStats mdDelays_;
  core::UniqueFd mdDelayTimer_;
  struct PendingMd {
    std::uint64_t releaseNs; // monotonic
    std::vector<std::byte> block;
  };
  std::deque<PendingMd> pendingMd_;
  std::vector<std::vector<std::byte>> freeMdBlocks_; // published blocks, kept for reuse
  std::uint64_t lastMdReleaseNs_ = 0;
  market::DelayStats orderDelays_;
  std::deque<DelayedRequest> delayed_; // release times never decrease: FIFO is time order
  std::uint64_t lastReleaseNs_ = 0;

  const protocol::MdRecordingReader* replay_ = nullptr;
  double replaySpeed_ = 1.0;
  std::size_t replayNext_ = 0;      // the next record to load
  std::uint64_t replayStartNs_ = 0; // monotonic time of the first replayed tick, 0 = not begun
  bool replayDone_ = false;
  std::unique_ptr<protocol::MdRecordingWriter> recorder_;
  protocol::SeqCounter recordSeq_;
  std::uint16_t port_ = 0;
  std::unique_ptr<core::Histogram> tickToTrade_; // ~60 KB: kept off the object
  std::unique_ptr<SampleLog> samples_;
  std::vector<std::byte> mdBlock_; // every symbol's snapshot, encoded once per tick
  std::size_t mdFrameSize_ = 0;
  std::size_t mdLowWater_ = 0; // tick-rate 0: a session below this backlog gets the next tick
  core::UniqueFd udpSocket_;
  sockaddr_in udpTarget_{};
  std::vector<std::byte> udpDatagram_; // one datagram being packed
  std::size_t udpUsed_ = 0;
  protocol::SeqCounter udpSeq_; // the feed's own numbering: 1, 2, ... per frame
  // Time inside sendto() per datagram. On loopback and veth the receiver's kernel path runs
  // inside it (softirq on the sending CPU): the cost of udp vs AF_XDP delivery shows here.
  std::unique_ptr<core::Histogram> udpSendTime_;
  ServerCounters counters_;
  std::uint64_t nowNs_ = 0; // monotonic, refreshed once per event
  std::uint64_t sessionIdBase_ = 0;
  std::uint64_t lastSampleFlushNs_ = 0;
  std::uint32_t openConnections_ = 0;
  int stopSignal_ = 0;
  bool shuttingDown_ = false;
  std::uint64_t shutdownDeadlineNs_ = 0;
};

} // namespace hft::server

// SPDX-License-Identifier: MIT
// The network thread: owns the exchange socket, turns bytes into events for the strategy
// thread, and writes the strategy's orders. Pinned to the network core. Market data comes from
// the TCP session or, with md_transport udp/af_xdp, from the UDP feed (daemon/feed).
#pragma once

#include <cstdint>
#include <memory>

#include "daemon/config/hftd_config.h"
#include "daemon/engine/shared_state.h"
#include "daemon/feed/exchange_session.h"
#include "daemon/feed/feed_receiver.h"
#include "daemon/feed/kernel_stamps.h"
#include "libhft/core/fd.h"
#include "libhft/core/histogram.h"
#include "libhft/core/stamp_clock.h"

namespace hft::engine {

class StrategyWorker;

class NetworkWorker final : public feed::SessionListener, public feed::FeedListener {
public:
  NetworkWorker(SharedState& shared, const config::HftdConfig& config);
  ~NetworkWorker() override;

  // Where the next session connects; set by the control thread before it bumps the
  // session generation (which publishes it).
  void setExchange(const config::ExchangeConfig& exchange) { exchange_ = exchange; }

  // layout = "run_to_completion": this thread runs the trading pipeline itself, in the pass
  // that read the frame (no ring hop, no copy). Set once, before run(); null: the pipeline
  // layout, where events go through the inbound ring to the strategy thread.
  void runPipelineInline(StrategyWorker* pipeline) noexcept { pipeline_ = pipeline; }

  // The thread's body; returns when SharedState::stop is set.
  void run() noexcept;

  // SessionListener (network thread).
  void onFrame(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept override;
  void onLoggedOn(std::uint64_t exchangeSessionId, std::uint32_t heartbeatMs) noexcept override;
  void onClosed(feed::CloseReason reason, int error, std::uint8_t detail) noexcept override;
  void onBadFrame(protocol::FrameError error, std::uint16_t type) noexcept override;
  void onGap(std::uint64_t missing) noexcept override;

  // FeedListener (network thread).
  void onFeedFrame(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept override;
  void onFeedBadFrame(protocol::FrameError error, std::uint16_t type) noexcept override;
  void onFeedGap(std::uint64_t missing) noexcept override;

private:
  // Control-path steps the network thread takes at a session's start and end (they log and
  // may allocate; never while market data flows).
  [[nodiscard]] bool openFeed() noexcept;
  void closeFeed() noexcept;
  void removeLeftoverProgram() noexcept;
  // Takes everything the feed holds now (the session is ending: nothing may be left behind).
  void drainFeed() noexcept;
  bool pollFeed() noexcept;
  [[nodiscard]] int parkFd() noexcept;
  void recordMdLatency(const protocol::FrameView& frame, std::uint64_t rxNs,
                       std::uint64_t decodedNs) noexcept;
  void logMdSummary() noexcept;

  void startConnect(std::uint64_t nowNs) noexcept;
  bool drainOrders() noexcept;
  void publishCounters() noexcept;
  void log(LogEvent::Kind kind, std::uint64_t a = 0, std::uint64_t b = 0, std::int64_t c = 0,
           std::uint64_t d = 0) noexcept;
  void pushInbound(InboundEvent::Kind kind, const protocol::FrameView* frame, std::uint64_t rxNs,
                   std::uint64_t decodedNs) noexcept;
  // Clears the journal-ring-low stop once the ring is half empty again.
  void checkJournalRoom() noexcept;
  // Hands a received MARKET_DATA frame to the housekeeping thread for market_data.rec.
  void recordMarketData(const protocol::FrameView& frame, std::uint64_t rxNs) noexcept;
  void journal(std::uint8_t direction, const std::byte* frame, std::uint16_t length,
               std::uint64_t nowNs) noexcept;

  // Kernel timestamps (docs/performance.md). The receive stamp of the frame that led to an
  // order is found again by its user-space receive time (cmd->rxNs), through a small table.
  void noteKernelRx(std::uint64_t rxNs, std::uint64_t kernelRxNs) noexcept;
  [[nodiscard]] std::uint64_t kernelRxFor(std::uint64_t rxNs) const noexcept;
  void publishLatency(const LatencyRecord& record) noexcept;
  // Reads the transmit stamps queued on the order socket and completes the orders they
  // belong to; never before an order is written (idle rounds, or after the writes).
  void collectTxStamps(std::uint64_t nowNs) noexcept;
  void releasePendingStamps() noexcept;
  void warnStampsOnce() noexcept;

  // Re-anchors the stamp clock at most every kReanchorNs, in a round that did no work.
  void reanchorClock(std::uint64_t nowNs) noexcept;

  SharedState& shared_;
  StrategyWorker* pipeline_ = nullptr; // run_to_completion: called inline
  core::RealtimeAnchor clock_;         // stamps -> CLOCK_REALTIME without a system call
  std::uint64_t anchoredNs_ = 0;
  config::ExchangeConfig exchange_;
  const int core_;
  const bool busyPoll_;
  const int fifoPriority_;
  feed::ExchangeSession session_;
  std::uint64_t generation_ = 0;
  std::uint64_t currentGeneration_ = 0;
  bool everLoggedOn_ = false;
  bool journalRingLow_ = false;
  bool recordMd_ = false; // this session writes market_data.rec
  // The last eighth of the journal ring is kept for execution reports of orders already sent:
  // past that, no new order (docs/session-data.md, "No record lost").
  std::size_t journalReserveSlots_ = 0;
  std::uint64_t reconnectAtNs_ = 0;
  std::uint64_t backoffNs_ = 0;
  std::uint64_t ordersSent_ = 0;
  std::uint64_t cancelsSent_ = 0;
  std::uint64_t mdMessages_ = 0;
  std::uint64_t tcpMdIgnored_ = 0;
  std::uint64_t feedMalformed_ = 0;

  // The UDP feed of the current session: at most one of the two is open.
  config::MdTransport transport_ = config::MdTransport::Tcp; // what this session really uses
  std::unique_ptr<feed::UdpFeedReceiver> udpFeed_;
  std::unique_ptr<feed::XdpFeedReceiver> xdpFeed_;
  protocol::FrameError firstFeedError_ = protocol::FrameError::None;
  bool hugePages_ = true;
  bool feedActive_ = false;  // a session's market data is being received and counted
  core::UniqueFd parkEpoll_; // the TCP socket and the feed's, for yield mode's park()
  // Per market data frame: exchange send timestamp -> bytes taken / frame parsed (~60 KB each).
  std::unique_ptr<core::Histogram> mdWire_;
  std::unique_ptr<core::Histogram> mdParsed_;

  const bool kernelStamps_;     // [network] kernel_timestamps
  core::UniqueFd stampKeeper_;  // holds the host's receive stamping on from start-up
  bool hardwareStamps_ = false; // the interface stamps in hardware (ETHTOOL_GET_TS_INFO)
  bool stampsWarned_ = false;   // "unavailable" is said once per hftd
  bool feedStampsWarned_ = false;
  struct RxStampSlot {
    std::uint64_t rxNs = 0;
    std::uint64_t kernelRxNs = 0;
  };
  static constexpr std::size_t kRxStampSlots = 4096; // > the inbound ring: a pipeline's backlog
  std::unique_ptr<RxStampSlot[]> rxStamps_;
  feed::TxStampQueue<LatencyRecord> txPending_; // orders written, waiting for their stamp
  std::uint32_t stampedUpTo_ = 0;     // stream bytes [0, n) whose transmit stamp has been read
  std::uint32_t lastReadAtBytes_ = 0; // txStreamBytes() at the last read of the error queue
  std::uint64_t lastStampReadNs_ = 0;
  std::uint64_t lastNewBytesNs_ = 0;  // when the error queue was first read for the latest bytes
  std::uint64_t txStampsMissing_ = 0; // orders completed without a transmit stamp
};

} // namespace hft::engine

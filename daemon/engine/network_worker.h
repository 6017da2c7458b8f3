// SPDX-License-Identifier: MIT
// The network thread: owns the exchange socket and turns bytes into events for the trading
// pipeline (inline with layout = run_to_completion, else through the inbound ring to the
// strategy thread); orders leave through its OrderExit. Pinned to the network core. Market
// data comes from the TCP session or, with md_transport udp/af_xdp, from the UDP feed
// (daemon/feed).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "daemon/config/hftd_config.h"
#include "daemon/engine/order_exit.h"
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

  // Where orders leave (network thread only): the run-to-completion pipeline's gateway
  // writes through it directly.
  [[nodiscard]] OrderExit& orderExit() noexcept { return exit_; }

  // The thread's body; returns when SharedState::stop is set.
  void run() noexcept;

  // SessionListener (network thread).
  void onFrame(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept override;
  void onLoggedOn(std::uint64_t exchangeSessionId, std::uint32_t heartbeatMs) noexcept override;
  void onClosed(feed::CloseReason reason, int error, std::uint8_t detail) noexcept override;
  void onBadFrame(protocol::FrameError error, std::uint16_t type) noexcept override;
  void onGap(std::uint64_t missing) noexcept override;
  void onReadEnd() noexcept override { recordReceived(); }

  // FeedListener (network thread).
  void onFeedFrame(const protocol::FrameView& frame, std::uint64_t rxStamp) noexcept override;
  void onFeedBadFrame(protocol::FrameError error, std::uint16_t type) noexcept override;
  void onFeedGap(std::uint64_t missing) noexcept override;
  void onFeedBatchEnd() noexcept override { recordReceived(); }

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
  // The control plane's copy of this thread's counters: a dozen stores, so not on every pass
  // (in a quiet round after work, and at least every kPublishPeriodNs under load).
  void publishCounters(std::uint64_t nowNs) noexcept;
  void log(LogEvent::Kind kind, std::uint64_t a = 0, std::uint64_t b = 0, std::int64_t c = 0,
           std::uint64_t d = 0) noexcept;
  void pushInbound(InboundEvent::Kind kind, const protocol::FrameView* frame, std::uint64_t rxNs,
                   std::uint64_t decodedNs) noexcept;
  // Hands a received MARKET_DATA frame to the housekeeping thread for market_data.rec.
  void recordMarketData(const protocol::FrameView& frame, std::uint64_t rxNs) noexcept;
  // A MARKET_DATA frame's bookkeeping (md latency histograms, market_data.rec) waits until every
  // frame of its read has been decided on: the next frame of the same recv() does not queue
  // behind a copy into the recording ring. Done at once when the list is full.
  void deferRecording(const protocol::FrameView& frame, std::uint64_t rxNs,
                      std::uint64_t decodedNs) noexcept;
  void recordReceived() noexcept;
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
  OrderExit exit_; // after session_ and clock_, which it uses
  struct Received {
    protocol::FrameView frame; // still in the session's or the feed's buffer
    std::uint64_t rxNs;
    std::uint64_t decodedNs;
  };
  static constexpr std::size_t kDeferredFrames = 128;
  std::array<Received, kDeferredFrames> received_{};
  std::size_t receivedCount_ = 0;
  static constexpr std::uint64_t kPublishPeriodNs = 1'000'000;
  bool countersDirty_ = false;
  std::uint64_t publishedNs_ = 0;
  std::uint64_t generation_ = 0;
  std::uint64_t currentGeneration_ = 0;
  bool everLoggedOn_ = false;
  bool recordMd_ = false; // this session writes market_data.rec
  std::uint64_t reconnectAtNs_ = 0;
  std::uint64_t backoffNs_ = 0;
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
};

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// The network thread: owns the exchange socket, turns bytes into events for the strategy
// thread, and writes the strategy's orders. Pinned to the network core.
#pragma once

#include <cstdint>

#include "daemon/config/hftd_config.h"
#include "daemon/engine/shared_state.h"
#include "daemon/feed/exchange_session.h"

namespace hft::engine {

class NetworkWorker final : public feed::SessionListener {
public:
  NetworkWorker(SharedState& shared, const config::HftdConfig& config);

  // Where the next session connects; set by the control thread before it bumps the
  // session generation (which publishes it).
  void setExchange(const config::ExchangeConfig& exchange) { exchange_ = exchange; }

  // The thread's body; returns when SharedState::stop is set.
  void run() noexcept;

  // SessionListener (network thread).
  void onFrame(const protocol::FrameView& frame, std::uint64_t rxNs,
               std::uint64_t decodedNs) noexcept override;
  void onLoggedOn(std::uint64_t exchangeSessionId, std::uint32_t heartbeatMs) noexcept override;
  void onClosed(feed::CloseReason reason, int error, std::uint8_t detail) noexcept override;
  void onBadFrame(protocol::FrameError error, std::uint16_t type) noexcept override;
  void onGap(std::uint64_t missing) noexcept override;

private:
  void startConnect(std::uint64_t nowNs) noexcept;
  bool drainOrders() noexcept;
  void publishCounters() noexcept;
  void log(LogEvent::Kind kind, std::uint64_t a = 0, std::uint64_t b = 0, std::int64_t c = 0,
           std::uint64_t d = 0) noexcept;
  void pushInbound(InboundEvent::Kind kind, const protocol::FrameView* frame, std::uint64_t rxNs,
                   std::uint64_t decodedNs) noexcept;
  void journal(std::uint8_t direction, const std::byte* frame, std::uint16_t length,
               std::uint64_t nowNs) noexcept;

  SharedState& shared_;
  config::ExchangeConfig exchange_;
  const int core_;
  const bool busyPoll_;
  const int fifoPriority_;
  feed::ExchangeSession session_;
  std::uint64_t generation_ = 0;
  std::uint64_t currentGeneration_ = 0;
  bool everLoggedOn_ = false;
  std::uint64_t reconnectAtNs_ = 0;
  std::uint64_t backoffNs_ = 0;
  std::uint64_t ordersSent_ = 0;
  std::uint64_t cancelsSent_ = 0;
  std::uint64_t mdMessages_ = 0;
};

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// What the engine's threads share: the rings between them, single-writer counters on their
// own cache lines, and the few commands the control plane gives the workers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "daemon/engine/events.h"
#include "daemon/feed/exchange_session.h"
#include "libhft/core/parker.h"
#include "libhft/core/spsc_ring.h"
#include "libhft/protocol/reject_reasons.h"

namespace hft::engine {

// Counters have one writer; a plain load+store avoids a locked read-modify-write.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Written by the network thread only. alignas(64): never on a line the strategy thread writes.
struct alignas(64) NetworkCounters {
  std::atomic<std::uint64_t> beats{0}; // advances every loop: the watchdog's proof of life
  std::atomic<std::uint64_t> rxPackets{0};
  std::atomic<std::uint64_t> rxMessages{0};
  std::atomic<std::uint64_t> mdMessages{0};
  std::atomic<std::uint64_t> mdGaps{0};
  std::atomic<std::uint64_t> malformed{0};
  std::atomic<std::uint64_t> unknownTypes{0};
  std::atomic<std::uint64_t> ordersSent{0};
  std::atomic<std::uint64_t> cancelsSent{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> inboundDrops{0}; // strategy ring full: market data dropped
  std::atomic<std::uint64_t> unsentOrders{0}; // commands that met a closed connection
  std::atomic<std::uint64_t> recordDrops{0};  // latency/journal ring full
  std::atomic<std::uint64_t> journalDrops{0}; // of which journal records: the journal is short
  std::atomic<std::uint64_t> logDrops{0};
  std::atomic<std::uint64_t> mdRecordingDrops{0}; // market-data recording ring full
  // The UDP feed (md_transport udp or af_xdp); rxPackets, rxMessages, mdGaps and malformed
  // above include it, these tell it apart.
  std::atomic<std::uint64_t> feedDatagrams{0}; // datagrams that reached the decoder
  std::atomic<std::uint64_t> feedFrames{0};
  std::atomic<std::uint64_t> feedGaps{0};
  std::atomic<std::uint64_t> feedMalformed{0};   // datagrams dropped whole, invalid snapshots
  std::atomic<std::uint64_t> feedPacketDrops{0}; // AF_XDP packets failing the header checks
  std::atomic<std::uint64_t> tcpMdIgnored{0};    // TCP MARKET_DATA while the feed is the source
  std::atomic<std::uint8_t> mdTransport{0};      // config::MdTransport of the running session
};

// Written by the strategy thread only.
struct alignas(64) StrategyCounters {
  std::atomic<std::uint64_t> beats{0};
  std::atomic<std::uint64_t> mdApplied{0};
  std::atomic<std::uint64_t> acks{0};
  std::atomic<std::uint64_t> fills{0};
  std::atomic<std::uint64_t> partialFills{0};
  std::atomic<std::uint64_t> rejects{0};
  // By reject_reason, in the slots of protocol::kRejectReasons (OrderCounters').
  std::array<std::atomic<std::uint64_t>, protocol::kRejectReasonSlots> rejectsByReason{};
  std::atomic<std::uint64_t> cancels{0};
  std::atomic<std::uint64_t> expired{0};
  std::atomic<std::uint64_t> cancelRejects{0};
  std::atomic<std::uint64_t> riskRejects{0};
  std::atomic<std::uint64_t> unknownSymbols{0};
  std::atomic<std::uint64_t> unknownReports{0};
  std::atomic<std::uint64_t> outboundDrops{0}; // order ring full: the order was not sent
  std::atomic<std::uint64_t> ordersHeld{0};    // not sent: the journal could not take them
  std::atomic<std::uint64_t> openOrders{0};
  std::atomic<std::uint64_t> logDrops{0};
};

inline constexpr std::uint32_t kMaxPublishedSymbols = 64;

// The strategy thread's positions, published for the control plane.
struct alignas(64) PublishedSymbol {
  std::atomic<bool> active{false};
  std::atomic<std::int64_t> position{0};
  std::atomic<double> realizedPnl{0.0};
  std::atomic<double> unrealizedPnl{0.0};
  std::atomic<double> mid{0.0};
};

// The network thread's view of the exchange session, for the control plane.
enum class LinkState : std::uint8_t { Idle, Connecting, LoggedOn, Reconnecting, Failed, Closing };

struct SharedState {
  SharedState(const core::RegionOptions& memory, std::size_t journalSlots)
      : inbound(4096, memory), orders(1024, memory), latency(1 << 16, memory),
        journal(journalSlots, memory), mdRecording(8192, memory), netLog(4096, memory),
        strategyLog(4096, memory) {}

  core::SpscRing<InboundEvent> inbound;         // network -> strategy
  core::SpscRing<OrderCommand> orders;          // strategy -> network
  core::SpscRing<LatencyRecord> latency;        // network -> housekeeping
  core::SpscRing<JournalEntry> journal;         // network -> housekeeping
  core::SpscRing<MdRecordingEntry> mdRecording; // network -> housekeeping
  core::SpscRing<LogEvent> netLog;              // network -> housekeeping
  core::SpscRing<LogEvent> strategyLog;         // strategy -> housekeeping
  core::Parker networkParker;
  core::Parker strategyParker;

  NetworkCounters net;
  StrategyCounters strategy;
  std::array<PublishedSymbol, kMaxPublishedSymbols> symbols;

  // Control -> workers. A new generation means "a new session starts: reset and connect".
  alignas(64) std::atomic<std::uint64_t> sessionGeneration{0};
  std::atomic<bool> wantSession{false}; // connected and trading is wanted
  std::atomic<bool> tradingEnabled{false};
  std::atomic<bool> recordMarketData{false}; // read by the network thread at a new generation
  std::atomic<std::uint64_t> cancelAllGeneration{0};
  std::atomic<bool> killSwitch{false};
  // Set when the journal could lose a record: the strategy sends no new order while either is
  // on. journalRingLow: the network thread (the journal ring is nearly full); recordsHalted:
  // the housekeeping thread (the session's disk is full, docs/session-data.md).
  std::atomic<bool> journalRingLow{false};
  std::atomic<bool> recordsHalted{false};
  std::atomic<bool> stop{false};
  std::atomic<bool> stallStrategy{false}; // test hook: the strategy thread stops beating

  // Network -> control.
  alignas(64) std::atomic<LinkState> link{LinkState::Idle};
  std::atomic<std::uint64_t> linkGeneration{0}; // session generation the link state is for
  std::atomic<std::uint8_t> lastCloseReason{0}; // feed::CloseReason
  std::atomic<int> lastCloseError{0};
  std::atomic<std::uint8_t> lastCloseDetail{0};
  std::atomic<std::uint64_t> strategyGeneration{0}; // session generation the strategy has reset for
};

} // namespace hft::engine

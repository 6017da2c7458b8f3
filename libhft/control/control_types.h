// SPDX-License-Identifier: MIT
// The values and errors of the io.hft.Engine1 interface, shared by hftd's control server and
// hftctl. The engine's side of the seam (ControlTarget) is daemon/control/control_target.h.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hft::control {

// A refused or failed request; `name` is the D-Bus error name sent to the client.
class ControlError : public std::runtime_error {
public:
  ControlError(std::string name, const std::string& message)
      : std::runtime_error(message), name_(std::move(name)) {}
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
  std::string name_;
};

inline constexpr const char* kErrorBusy = "io.hft.Engine.Error.SessionRunning";
inline constexpr const char* kErrorNoSession = "io.hft.Engine.Error.NoSession";
inline constexpr const char* kErrorConfig = "io.hft.Engine.Error.InvalidConfig";
inline constexpr const char* kErrorFailed = "io.hft.Engine.Error.Failed";

struct StageLatency {
  std::string stage; // md_wire, rx_to_decoded, decoded_to_book, book_to_decided, decided_to_sent,
                     // rx_to_sent
  std::uint64_t count = 0;
  std::uint64_t min = 0;
  std::uint64_t p50 = 0;
  std::uint64_t p90 = 0;
  std::uint64_t p99 = 0;
  std::uint64_t p999 = 0;
  std::uint64_t max = 0;
  double mean = 0.0;
};

struct SymbolStats {
  std::uint32_t symbolId = 0;
  std::int64_t position = 0;
  double realizedPnl = 0.0;
  double unrealizedPnl = 0.0;
  double midPrice = 0.0;
};

struct EngineStats {
  std::string state;     // idle, connecting, trading, stopping, disconnected
  std::string sessionId; // "" when no session has run
  bool killSwitch = false;
  std::uint64_t rxPackets = 0;  // socket reads that returned data
  std::uint64_t rxMessages = 0; // frames decoded
  std::uint64_t mdMessages = 0;
  std::uint64_t mdGaps = 0;
  std::uint64_t malformedFrames = 0;
  std::uint64_t ordersSent = 0;
  std::uint64_t acks = 0;
  std::uint64_t fills = 0; // full and partial fills
  std::uint64_t partialFills = 0;
  std::uint64_t rejects = 0; // rejected by the exchange
  // rejects by the wire's reject_reason (libhft/protocol/reject_reasons.h); they add up to
  // rejects.
  std::uint64_t rejectsUnknownSymbol = 0;
  std::uint64_t rejectsInvalidPrice = 0;
  std::uint64_t rejectsInvalidQuantity = 0;
  std::uint64_t rejectsDuplicateClOrdId = 0;
  std::uint64_t rejectsUnknownOrder = 0;
  std::uint64_t rejectsNotLoggedOn = 0;
  std::uint64_t rejectsInvalidSideOrTif = 0;
  std::uint64_t rejectsThrottled = 0;
  std::uint64_t rejectsOther = 0; // 99, or a code the protocol does not define
  std::uint64_t riskRejects = 0;  // stopped by the local risk checks
  std::uint64_t cancels = 0;
  std::uint64_t expired = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t cancelRejects = 0;
  std::uint64_t unsentOrders = 0;   // orders that met a closed connection
  std::uint64_t droppedRecords = 0; // journal or latency records lost to a full ring
  std::uint64_t writeErrors = 0;    // failed writes to the session directory (disk full)
  // The journal (docs/session-data.md, "No record lost").
  std::uint64_t journalRecords = 0;     // records accepted: on disk or held in memory
  std::uint64_t journalUnwritten = 0;   // held in memory: the disk had no room yet
  std::uint64_t journalLost = 0;        // never reached journal.bin
  std::uint64_t journalComplete = 1;    // 1 while journal.bin holds every record, else 0
  std::uint64_t latencySamplesLost = 0; // latency.csv rows lost to a full disk
  std::uint64_t mdRecordingLost = 0;    // frames missing from market_data.rec
  std::uint64_t ordersHeld = 0;         // new orders not sent: the journal could not take them
  std::uint64_t diskFull = 0;           // 1 once a write to the session directory failed
  // The risk limits in force (they change with a reload).
  std::uint64_t riskMaxOrderQty = 0;
  std::uint64_t riskMaxPosition = 0;
  std::uint64_t riskMaxOpenOrders = 0;
  std::uint64_t riskMaxOrdersPerSecond = 0;
  std::uint64_t riskPriceBandBps = 0;
  std::uint64_t sessionStartedNs = 0; // CLOCK_REALTIME
  std::uint64_t sessionEndedNs = 0;   // CLOCK_REALTIME; 0 while the session runs
  std::uint64_t uptimeNs = 0;
  std::vector<SymbolStats> symbols;
  std::vector<StageLatency> latency;
};

struct EngineStatus {
  std::string state;
  std::string sessionId;
  std::string version;
  std::uint32_t networkCore = 0;
  std::uint32_t strategyCore = 0;
  std::string pollMode; // busy or yield
  std::string exchange; // host:port
  bool killSwitch = false;
  std::uint64_t uptimeNs = 0;
};

struct SessionSummary {
  std::string sessionId;
  std::string directory;
  EngineStats stats;
};

struct ReloadResult {
  std::vector<std::string> applied;      // settings changed at run time
  std::vector<std::string> needsRestart; // changed settings that only a restart applies
};

} // namespace hft::control

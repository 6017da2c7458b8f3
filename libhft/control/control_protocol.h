// SPDX-License-Identifier: MIT
// The io.hft.Engine1 D-Bus interface: names, signatures and the stats counter table.
#pragma once

#include <array>
#include <cstdint>

#include "libhft/control/control_types.h"

namespace hft::control {

inline constexpr const char* kDefaultSocketPath = "/run/hftd/control.sock";
inline constexpr const char* kSocketEnv = "HFTD_SOCKET";
inline constexpr const char* kSocketGroup = "hft";
inline constexpr const char* kAdminGroup = "hft-admin";

// Peer-to-peer connections have no bus names; tools like busctl still want a destination,
// and the server ignores it.
inline constexpr const char* kBusName = "io.hft.Engine";
inline constexpr const char* kObjectPath = "/io/hft/Engine";
inline constexpr const char* kInterface = "io.hft.Engine1";

inline constexpr const char* kErrorAccessDenied = "org.freedesktop.DBus.Error.AccessDenied";

inline constexpr const char* kMethodVersion = "Version";
inline constexpr const char* kMethodStatus = "Status";
inline constexpr const char* kMethodGetStats = "GetStats";
inline constexpr const char* kMethodStartSession = "StartSession";
inline constexpr const char* kMethodStopSession = "StopSession";
inline constexpr const char* kMethodSetKillSwitch = "SetKillSwitch";
inline constexpr const char* kMethodReload = "Reload";

// GetStats returns (counters, symbols, latency); StopSession prefixes (session_id, directory).
inline constexpr const char* kSymbolSignature = "(uxddd)";
inline constexpr const char* kLatencySignature = "(stttttttd)";
inline constexpr const char* kStatsSignature = "a{sv}a(uxddd)a(stttttttd)";
inline constexpr const char* kSummarySignature = "ssa{sv}a(uxddd)a(stttttttd)";
inline constexpr const char* kReloadSignature = "asas";

// The unsigned counters of EngineStats, in the order of the JSON and the table; the key is the
// same in the GetStats a{sv} (as type t) and in the stats JSON.
struct CounterField {
  const char* key;
  std::uint64_t EngineStats::*member;
};

inline constexpr std::array<CounterField, 34> kCounterFields{{
    {"rx_packets", &EngineStats::rxPackets},
    {"rx_messages", &EngineStats::rxMessages},
    {"md_messages", &EngineStats::mdMessages},
    {"md_gaps", &EngineStats::mdGaps},
    {"malformed_frames", &EngineStats::malformedFrames},
    {"orders_sent", &EngineStats::ordersSent},
    {"acks", &EngineStats::acks},
    {"fills", &EngineStats::fills},
    {"partial_fills", &EngineStats::partialFills},
    {"rejects", &EngineStats::rejects},
    {"risk_rejects", &EngineStats::riskRejects},
    {"cancels", &EngineStats::cancels},
    {"expired", &EngineStats::expired},
    {"reconnects", &EngineStats::reconnects},
    {"cancel_rejects", &EngineStats::cancelRejects},
    {"unsent_orders", &EngineStats::unsentOrders},
    {"dropped_records", &EngineStats::droppedRecords},
    {"write_errors", &EngineStats::writeErrors},
    {"journal_records", &EngineStats::journalRecords},
    {"journal_unwritten", &EngineStats::journalUnwritten},
    {"journal_lost", &EngineStats::journalLost},
    {"journal_complete", &EngineStats::journalComplete},
    {"latency_samples_lost", &EngineStats::latencySamplesLost},
    {"md_recording_lost", &EngineStats::mdRecordingLost},
    {"orders_held", &EngineStats::ordersHeld},
    {"disk_full", &EngineStats::diskFull},
    {"risk_max_order_qty", &EngineStats::riskMaxOrderQty},
    {"risk_max_position", &EngineStats::riskMaxPosition},
    {"risk_max_open_orders", &EngineStats::riskMaxOpenOrders},
    {"risk_max_orders_per_second", &EngineStats::riskMaxOrdersPerSecond},
    {"risk_price_band_bps", &EngineStats::riskPriceBandBps},
    {"session_started_ns", &EngineStats::sessionStartedNs},
    {"session_ended_ns", &EngineStats::sessionEndedNs},
    {"uptime_ns", &EngineStats::uptimeNs},
}};

} // namespace hft::control

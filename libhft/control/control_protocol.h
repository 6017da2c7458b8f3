// SPDX-License-Identifier: MIT
// The io.hft.Engine1 D-Bus interface: names, signatures and the stats counter table.
#pragma once

#include <array>
#include <cstdint>

#include "libhft/control/control_types.h"
#include "libhft/protocol/reject_reasons.h"

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

inline constexpr std::array<CounterField, 43> kCounterFields{{
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
    {"rejects_unknown_symbol", &EngineStats::rejectsUnknownSymbol},
    {"rejects_invalid_price", &EngineStats::rejectsInvalidPrice},
    {"rejects_invalid_quantity", &EngineStats::rejectsInvalidQuantity},
    {"rejects_duplicate_cl_ord_id", &EngineStats::rejectsDuplicateClOrdId},
    {"rejects_unknown_order", &EngineStats::rejectsUnknownOrder},
    {"rejects_not_logged_on", &EngineStats::rejectsNotLoggedOn},
    {"rejects_invalid_side_or_tif", &EngineStats::rejectsInvalidSideOrTif},
    {"rejects_throttled", &EngineStats::rejectsThrottled},
    {"rejects_other", &EngineStats::rejectsOther},
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

// EngineStats' rejects per reason, in the slots of protocol::kRejectReasons (the key of each in
// kCounterFields is "rejects_" + its name).
inline constexpr std::array<std::uint64_t EngineStats::*, protocol::kRejectReasonSlots>
    kRejectReasonMembers{{
        &EngineStats::rejectsUnknownSymbol,
        &EngineStats::rejectsInvalidPrice,
        &EngineStats::rejectsInvalidQuantity,
        &EngineStats::rejectsDuplicateClOrdId,
        &EngineStats::rejectsUnknownOrder,
        &EngineStats::rejectsNotLoggedOn,
        &EngineStats::rejectsInvalidSideOrTif,
        &EngineStats::rejectsThrottled,
        &EngineStats::rejectsOther,
    }};

} // namespace hft::control

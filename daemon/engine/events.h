// SPDX-License-Identifier: MIT
// Fixed-size records that cross between threads through SPSC rings.
#pragma once

#include <cstddef>
#include <cstdint>

#include "libhft/protocol/wire.h"

namespace hft::engine {

// Network thread -> strategy thread.
struct InboundEvent {
  enum class Kind : std::uint8_t { MarketData, ExecutionReport, LoggedOn, Disconnected };
  Kind kind;
  std::uint16_t length; // bytes of `frame` in use
  std::uint64_t rxNs;
  std::uint64_t decodedNs;
  // A whole frame, copied in place; the largest MARKET_DATA fits.
  alignas(8) std::byte frame[sizeof(protocol::MarketData)];
};

// Strategy thread -> network thread.
struct OrderCommand {
  enum class Kind : std::uint8_t { NewOrder, Cancel, Logout };
  Kind kind;
  std::uint64_t clOrdId;
  std::uint32_t symbolId;
  protocol::Side side;
  protocol::Tif tif;
  std::int64_t price;
  std::uint32_t qty;
  std::uint64_t mdTimestamp;
  // The path that led to this order, for the latency record.
  std::uint64_t rxNs;
  std::uint64_t decodedNs;
  std::uint64_t bookNs;
  std::uint64_t decidedNs;
};

// Network thread -> recorder: one per order written to the socket.
struct LatencyRecord {
  std::uint64_t clOrdId;
  std::uint32_t symbolId;
  std::uint64_t mdTimestamp;
  std::uint64_t rxNs;
  std::uint64_t decodedNs;
  std::uint64_t bookNs;
  std::uint64_t decidedNs;
  std::uint64_t sentNs;
  // Kernel timestamps (CLOCK_REALTIME ns; 0 when there is none): the receive stamp of the
  // bytes that completed the triggering frame, the moment send() was called (user space, the
  // order's header timestamp) and the transmit stamp of the order's last byte.
  std::uint64_t kernelRxNs = 0;
  std::uint64_t sendNs = 0;
  std::uint64_t kernelTxNs = 0;
};

// Network thread -> recorder: every order sent and every execution report received.
struct JournalEntry {
  std::uint64_t localNs;  // CLOCK_REALTIME when sent or received
  std::uint8_t direction; // 0 sent, 1 received
  std::uint16_t length;
  alignas(8) std::byte frame[sizeof(protocol::ExecutionReport)];
};

// Network thread -> recorder: every MARKET_DATA frame the session received, for
// market_data.rec (docs/session-data.md).
struct MdRecordingEntry {
  std::uint64_t rxNs; // CLOCK_REALTIME when the bytes were read
  std::uint16_t length;
  alignas(8) std::byte frame[sizeof(protocol::MarketData)];
};

// Either worker -> log thread: formatted off the critical cores.
struct LogEvent {
  enum class Kind : std::uint8_t {
    Connecting,
    LoggedOn,
    Closed,
    ConnectError,
    BadFrame,
    UnknownType,
    Gap,
    OrderSent,
    CancelSent,
    Execution,
    OrderUnknownReport,
    RiskReject,
    UnknownSymbol,
    KillSwitchCancels,
    RingFull,
    JournalRingLow, // a: 1 new orders stop, 0 they may resume; b: slots in use
    Reconnecting,
  };
  Kind kind;
  std::uint64_t a;
  std::uint64_t b;
  std::int64_t c;
  std::uint64_t d;
};

} // namespace hft::engine

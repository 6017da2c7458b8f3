// SPDX-License-Identifier: MIT
// Wire protocol v1 (docs/protocol.md): the one definition of every frame layout.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

static_assert(std::endian::native == std::endian::little,
              "frames are little-endian and are read and written in place");

namespace hft::protocol {

inline constexpr std::uint32_t kProtocolVersion = 1;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kMaxFrameSize = 4096;
inline constexpr std::size_t kMaxMdEntries = 64;
inline constexpr std::uint32_t kDefaultHeartbeatMs = 1000;
inline constexpr std::int64_t kPriceScale = 10000; // prices are i64 in units of 1e-4

enum class MsgType : std::uint16_t {
  MarketData = 1,
  ExecutionReport = 2,
  NewOrder = 3,
  CancelOrder = 4,
  Logon = 5,
  LogonResponse = 6,
  Heartbeat = 7,
  Logout = 8,
};

enum class MdSide : std::uint8_t { Bid = 0, Ask = 1 };
enum class Side : std::uint8_t { Buy = 0, Sell = 1 };
enum class Tif : std::uint8_t { Day = 0, Ioc = 1 };

enum class ExecType : std::uint8_t {
  New = 0,
  PartialFill = 1,
  Fill = 2,
  Canceled = 3,
  Rejected = 4,
  CancelRejected = 5,
  Expired = 6,
};

enum class RejectReason : std::uint8_t {
  None = 0,
  UnknownSymbol = 1,
  InvalidPrice = 2,
  InvalidQuantity = 3,
  DuplicateClOrdId = 4,
  UnknownOrder = 5,
  NotLoggedOn = 6,
  InvalidSideOrTif = 7,
  Throttled = 8,
  Other = 99,
};

enum class LogonStatus : std::uint8_t { Accepted = 0, Rejected = 1 };
enum class LogonReason : std::uint8_t {
  None = 0,
  UnsupportedVersion = 1,
  AlreadyLoggedOn = 2,
  NotAuthorised = 3,
};
enum class LogoutReason : std::uint8_t {
  Normal = 0,
  ProtocolError = 1,
  HeartbeatTimeout = 2,
  ExchangeClosing = 3,
};

inline constexpr std::uint16_t kMdFlagSnapshot = 1;

// Packed: offsets are exact and there is no padding (checked below).
#pragma pack(push, 1)

struct Header {
  std::uint16_t msgLength;
  std::uint16_t msgType;
  std::uint32_t seq;
  std::uint64_t timestamp; // sender's CLOCK_REALTIME, ns
};

struct MdEntry {
  std::int64_t price;
  std::uint32_t qty;
  std::uint8_t side;  // MdSide
  std::uint8_t level; // 0 is the best price
  std::uint16_t reserved;
};

// The fixed part of MARKET_DATA; num_entries MdEntry follow it.
struct MarketDataHead {
  Header header;
  std::uint32_t symbolId;
  std::uint16_t numEntries;
  std::uint16_t flags;
};

// The largest MARKET_DATA frame, for senders that build one in place.
struct MarketData {
  MarketDataHead head;
  MdEntry entries[kMaxMdEntries];
};

struct ExecutionReport {
  Header header;
  std::uint64_t clOrdId;
  std::uint64_t orderId;
  std::uint64_t execId;
  std::uint32_t symbolId;
  std::uint8_t execType;     // ExecType
  std::uint8_t side;         // Side
  std::uint8_t rejectReason; // RejectReason
  std::uint8_t reserved0;
  std::int64_t price;
  std::int64_t lastPx;
  std::uint32_t lastQty;
  std::uint32_t cumQty;
  std::uint32_t leavesQty;
  std::uint32_t reserved1;
};

struct NewOrder {
  Header header;
  std::uint64_t clOrdId;
  std::uint32_t symbolId;
  std::uint8_t side; // Side
  std::uint8_t tif;  // Tif
  std::uint16_t reserved0;
  std::int64_t price;
  std::uint32_t qty;
  std::uint32_t reserved1;
  std::uint64_t mdTimestamp;
};

struct CancelOrder {
  Header header;
  std::uint64_t clOrdId;
  std::uint32_t symbolId;
  std::uint32_t reserved;
};

struct Logon {
  Header header;
  std::uint32_t protocolVersion;
  std::uint32_t heartbeatIntervalMs;
  char account[16];
  std::uint64_t reserved;
};

struct LogonResponse {
  Header header;
  std::uint8_t status; // LogonStatus
  std::uint8_t reason; // LogonReason
  std::uint16_t reserved;
  std::uint32_t heartbeatIntervalMs;
  std::uint64_t sessionId;
};

struct Heartbeat {
  Header header;
};

struct Logout {
  Header header;
  std::uint8_t reason; // LogoutReason
  std::uint8_t reserved[7];
};

#pragma pack(pop)

static_assert(sizeof(Header) == 16);
static_assert(offsetof(Header, msgType) == 2 && offsetof(Header, seq) == 4 &&
              offsetof(Header, timestamp) == 8);
static_assert(sizeof(MdEntry) == 16);
static_assert(offsetof(MdEntry, qty) == 8 && offsetof(MdEntry, side) == 12 &&
              offsetof(MdEntry, level) == 13 && offsetof(MdEntry, reserved) == 14);
static_assert(sizeof(MarketDataHead) == 24);
static_assert(offsetof(MarketDataHead, symbolId) == 16 &&
              offsetof(MarketDataHead, numEntries) == 20 && offsetof(MarketDataHead, flags) == 22);
static_assert(offsetof(MarketData, entries) == 24);
static_assert(sizeof(MarketData) == 24 + 16 * kMaxMdEntries);
static_assert(sizeof(ExecutionReport) == 80);
static_assert(offsetof(ExecutionReport, clOrdId) == 16 &&
              offsetof(ExecutionReport, orderId) == 24 && offsetof(ExecutionReport, execId) == 32 &&
              offsetof(ExecutionReport, symbolId) == 40 &&
              offsetof(ExecutionReport, execType) == 44 && offsetof(ExecutionReport, side) == 45 &&
              offsetof(ExecutionReport, rejectReason) == 46 &&
              offsetof(ExecutionReport, price) == 48 && offsetof(ExecutionReport, lastPx) == 56 &&
              offsetof(ExecutionReport, lastQty) == 64 && offsetof(ExecutionReport, cumQty) == 68 &&
              offsetof(ExecutionReport, leavesQty) == 72 &&
              offsetof(ExecutionReport, reserved1) == 76);
static_assert(sizeof(NewOrder) == 56);
static_assert(offsetof(NewOrder, clOrdId) == 16 && offsetof(NewOrder, symbolId) == 24 &&
              offsetof(NewOrder, side) == 28 && offsetof(NewOrder, tif) == 29 &&
              offsetof(NewOrder, price) == 32 && offsetof(NewOrder, qty) == 40 &&
              offsetof(NewOrder, mdTimestamp) == 48);
static_assert(sizeof(CancelOrder) == 32);
static_assert(offsetof(CancelOrder, clOrdId) == 16 && offsetof(CancelOrder, symbolId) == 24);
static_assert(sizeof(Logon) == 48);
static_assert(offsetof(Logon, protocolVersion) == 16 &&
              offsetof(Logon, heartbeatIntervalMs) == 20 && offsetof(Logon, account) == 24 &&
              offsetof(Logon, reserved) == 40);
static_assert(sizeof(LogonResponse) == 32);
static_assert(offsetof(LogonResponse, status) == 16 && offsetof(LogonResponse, reason) == 17 &&
              offsetof(LogonResponse, heartbeatIntervalMs) == 20 &&
              offsetof(LogonResponse, sessionId) == 24);
static_assert(sizeof(Heartbeat) == 16);
static_assert(sizeof(Logout) == 24 && offsetof(Logout, reason) == 16);

[[nodiscard]] constexpr std::size_t marketDataSize(std::size_t numEntries) noexcept {
  return sizeof(MarketDataHead) + sizeof(MdEntry) * numEntries;
}

// The fixed size of a type; 0 for MARKET_DATA (variable) and for unknown types.
[[nodiscard]] constexpr std::size_t fixedFrameSize(std::uint16_t type) noexcept {
  switch (static_cast<MsgType>(type)) {
  case MsgType::ExecutionReport: return sizeof(ExecutionReport);
  case MsgType::NewOrder: return sizeof(NewOrder);
  case MsgType::CancelOrder: return sizeof(CancelOrder);
  case MsgType::Logon: return sizeof(Logon);
  case MsgType::LogonResponse: return sizeof(LogonResponse);
  case MsgType::Heartbeat: return sizeof(Heartbeat);
  case MsgType::Logout: return sizeof(Logout);
  case MsgType::MarketData: return 0;
  }
  return 0;
}

[[nodiscard]] constexpr bool isKnownType(std::uint16_t type) noexcept {
  return type >= static_cast<std::uint16_t>(MsgType::MarketData) &&
         type <= static_cast<std::uint16_t>(MsgType::Logout);
}

} // namespace hft::protocol

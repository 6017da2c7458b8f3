// SPDX-License-Identifier: MIT
// Validation, encoding and decoding of protocol v1 frames.
#include "libhft/protocol/codec.h"

namespace hft::protocol {

std::string_view describe(FrameError error) noexcept {
  switch (error) {
  case FrameError::None: return "none";
  case FrameError::TooShort: return "msg_length below the 16-byte header";
  case FrameError::TooLong: return "msg_length above 4096";
  case FrameError::WrongLength: return "msg_length differs from the size its type requires";
  case FrameError::Truncated: return "connection closed inside a frame";
  case FrameError::TooManyEntries: return "num_entries above 64";
  case FrameError::BadSide: return "entry side is neither 0 (bid) nor 1 (ask)";
  case FrameError::BadLevel: return "entry levels are not 0,1,2... per side";
  case FrameError::ZeroQuantity: return "entry quantity is 0";
  case FrameError::UnorderedLadder: return "ladder not strictly ordered or crossed";
  case FrameError::BadFlags: return "flags are not exactly snapshot (bit 0)";
  }
  return "unknown error";
}

std::string_view describe(MsgType type) noexcept {
  switch (type) {
  case MsgType::MarketData: return "MARKET_DATA";
  case MsgType::ExecutionReport: return "EXECUTION_REPORT";
  case MsgType::NewOrder: return "NEW_ORDER";
  case MsgType::CancelOrder: return "CANCEL_ORDER";
  case MsgType::Logon: return "LOGON";
  case MsgType::LogonResponse: return "LOGON_RESPONSE";
  case MsgType::Heartbeat: return "HEARTBEAT";
  case MsgType::Logout: return "LOGOUT";
  }
  return "UNKNOWN";
}

std::string_view describe(ExecType type) noexcept {
  switch (type) {
  case ExecType::New: return "new";
  case ExecType::PartialFill: return "partial_fill";
  case ExecType::Fill: return "fill";
  case ExecType::Canceled: return "canceled";
  case ExecType::Rejected: return "rejected";
  case ExecType::CancelRejected: return "cancel_rejected";
  case ExecType::Expired: return "expired";
  }
  return "unknown";
}

std::string_view describe(RejectReason reason) noexcept {
  switch (reason) {
  case RejectReason::None: return "none";
  case RejectReason::UnknownSymbol: return "unknown symbol";
  case RejectReason::InvalidPrice: return "invalid price";
  case RejectReason::InvalidQuantity: return "invalid quantity";
  case RejectReason::DuplicateClOrdId: return "duplicate cl_ord_id";
  case RejectReason::UnknownOrder: return "unknown order";
  case RejectReason::NotLoggedOn: return "not logged on";
  case RejectReason::InvalidSideOrTif: return "invalid side or tif";
  case RejectReason::Throttled: return "throttled";
  case RejectReason::Other: return "other";
  }
  return "unknown";
}

FrameError checkLength(std::uint16_t msgLength) noexcept {
  if (msgLength < kHeaderSize)
    return FrameError::TooShort;
  if (msgLength > kMaxFrameSize)
    return FrameError::TooLong;
  return FrameError::None;
}

FrameError checkFrame(std::span<const std::byte> bytes) noexcept {
  if (bytes.size() < kHeaderSize)
    return FrameError::TooShort;
  Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (const FrameError e = checkLength(h.msgLength); e != FrameError::None)
    return e;
  if (h.msgLength != bytes.size())
    return FrameError::WrongLength;
  if (h.msgType == static_cast<std::uint16_t>(MsgType::MarketData)) {
    if (h.msgLength < sizeof(MarketDataHead))
      return FrameError::WrongLength;
    std::uint16_t n;
    std::memcpy(&n, bytes.data() + offsetof(MarketDataHead, numEntries), sizeof(n));
    if (n > kMaxMdEntries)
      return FrameError::TooManyEntries;
    if (h.msgLength != marketDataSize(n))
      return FrameError::WrongLength;
    return FrameError::None;
  }
  const std::size_t fixed = fixedFrameSize(h.msgType);
  if (fixed != 0 && h.msgLength != fixed)
    return FrameError::WrongLength;
  return FrameError::None;
}

FrameError checkMarketDataContent(const FrameView& frame) noexcept {
  const auto head = frame.as<MarketDataHead>();
  // Version 1 sends only snapshots: bit 0 set, the other bits 0 (as OrderBook requires).
  if (head.flags != kMdFlagSnapshot)
    return FrameError::BadFlags;
  // One pass: level 0 of each side is its first entry, so the best prices are known at the end.
  std::int64_t lastPrice[2] = {0, 0};
  std::int64_t bestPrice[2] = {0, 0};
  unsigned nextLevel[2] = {0, 0};
  for (std::size_t i = 0; i < head.numEntries; ++i) {
    const MdEntry e = frame.mdEntry(i);
    if (e.side > 1)
      return FrameError::BadSide;
    if (e.qty == 0)
      return FrameError::ZeroQuantity;
    if (e.level != nextLevel[e.side])
      return FrameError::BadLevel;
    if (e.level > 0) {
      const bool ordered = e.side == 0 ? e.price < lastPrice[0] : e.price > lastPrice[1];
      if (!ordered)
        return FrameError::UnorderedLadder;
    } else {
      bestPrice[e.side] = e.price;
    }
    lastPrice[e.side] = e.price;
    ++nextLevel[e.side];
  }
  if (nextLevel[0] > 0 && nextLevel[1] > 0 && bestPrice[0] >= bestPrice[1])
    return FrameError::UnorderedLadder; // crossed or locked
  return FrameError::None;
}

std::size_t encodeMarketData(std::byte* out, std::uint32_t seq, std::uint64_t timestampNs,
                             std::uint32_t symbolId, std::span<const MdEntry> entries) noexcept {
  const std::size_t n = entries.size() < kMaxMdEntries ? entries.size() : kMaxMdEntries;
  MarketDataHead head{};
  stampHeader(head.header, MsgType::MarketData, marketDataSize(n), seq, timestampNs);
  head.symbolId = symbolId;
  head.numEntries = static_cast<std::uint16_t>(n);
  head.flags = kMdFlagSnapshot;
  std::memcpy(out, &head, sizeof(head));
  if (n != 0) // an empty span's data() may be null, which memcpy may not be given
    std::memcpy(out + sizeof(head), entries.data(), n * sizeof(MdEntry));
  return marketDataSize(n);
}

} // namespace hft::protocol

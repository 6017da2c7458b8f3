// SPDX-License-Identifier: MIT
// Fuzz target: the frame decoder (checkFrame, checkMarketDataContent, FrameView) over any bytes.
#include <array>
#include <cstring>
#include <span>
#include <vector>

#include "libhft/protocol/codec.h"
#include "libhft/protocol/wire.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace hft::protocol;

template <typename T> T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// docs/protocol.md's MARKET_DATA content rules, written from the page, not from codec.cpp.
bool specAcceptsLadder(std::span<const std::byte> frame) {
  if (load<std::uint16_t>(frame.data() + 22) != kMdFlagSnapshot) // bit 0 set, other bits 0
    return false;
  const std::uint16_t n = load<std::uint16_t>(frame.data() + 20);
  std::array<std::vector<std::int64_t>, 2> sides;
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* e = frame.data() + 24 + 16 * i;
    const auto price = load<std::int64_t>(e);
    const auto qty = load<std::uint32_t>(e + 8);
    const auto side = load<std::uint8_t>(e + 12);
    const auto level = load<std::uint8_t>(e + 13);
    if (qty == 0 || side > 1 || level != sides[side].size())
      return false;
    if (!sides[side].empty() && (side == 0 ? price >= sides[0].back() : price <= sides[1].back()))
      return false;
    sides[side].push_back(price);
  }
  return sides[0].empty() || sides[1].empty() || sides[0].front() < sides[1].front();
}

// Reads every field a receiver could read, so ASan sees any access past the frame.
void touchAll(const FrameView& view) {
  [[maybe_unused]] volatile std::uint64_t sink = view.header().seq;
  switch (static_cast<MsgType>(view.type)) {
  case MsgType::MarketData: sink = view.as<MarketDataHead>().symbolId; break;
  case MsgType::ExecutionReport: sink = view.as<ExecutionReport>().leavesQty; break;
  case MsgType::NewOrder: sink = view.as<NewOrder>().mdTimestamp; break;
  case MsgType::CancelOrder: sink = view.as<CancelOrder>().clOrdId; break;
  case MsgType::Logon: sink = view.as<Logon>().reserved; break;
  case MsgType::LogonResponse: sink = view.as<LogonResponse>().sessionId; break;
  case MsgType::Heartbeat: sink = view.as<Heartbeat>().header.timestamp; break;
  case MsgType::Logout: sink = view.as<Logout>().reason; break;
  }
  // as<T>() of a type larger than the frame must stop at the frame's end.
  sink = view.as<ExecutionReport>().reserved1;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy: ASan flags any read past `size`.
  std::vector<std::byte> bytes(size);
  if (size != 0)
    std::memcpy(bytes.data(), data, size);
  const std::span<const std::byte> frame(bytes);

  const FrameError error = checkFrame(frame);
  FUZZ_CHECK(!describe(error).empty());
  if (error != FrameError::None) {
    FUZZ_CHECK(error == FrameError::TooShort || error == FrameError::TooLong ||
               error == FrameError::WrongLength || error == FrameError::TooManyEntries);
    return 0;
  }

  // Accepted framing: 16..4096 bytes, msg_length is the whole buffer, the type's size holds.
  const Header h = load<Header>(bytes.data());
  FUZZ_CHECK(size >= kHeaderSize && size <= kMaxFrameSize);
  FUZZ_CHECK(h.msgLength == size);
  FUZZ_CHECK(checkLength(h.msgLength) == FrameError::None);
  if (const std::size_t fixed = fixedFrameSize(h.msgType); fixed != 0)
    FUZZ_CHECK(size == fixed);
  FUZZ_CHECK(isKnownType(h.msgType) == (h.msgType >= 1 && h.msgType <= 8));

  const FrameView view{bytes.data(), h.msgLength, h.msgType};
  touchAll(view);
  FUZZ_CHECK(view.header().msgLength == h.msgLength);
  if (h.msgType != static_cast<std::uint16_t>(MsgType::MarketData))
    return 0;

  const auto head = view.as<MarketDataHead>();
  FUZZ_CHECK(head.numEntries <= kMaxMdEntries);
  FUZZ_CHECK(size == marketDataSize(head.numEntries));
  std::vector<MdEntry> entries(head.numEntries);
  for (std::size_t i = 0; i < head.numEntries; ++i)
    entries[i] = view.mdEntry(i);

  const FrameError content = checkMarketDataContent(view);
  FUZZ_CHECK(!describe(content).empty());
  FUZZ_CHECK((content == FrameError::None) == specAcceptsLadder(frame));

  // Encoding what was decoded gives the same frame back, but for the flags (always snapshot).
  std::array<std::byte, sizeof(MarketData)> out{};
  const std::size_t n = encodeMarketData(out.data(), h.seq, h.timestamp, head.symbolId, entries);
  FUZZ_CHECK(n == size);
  FUZZ_CHECK(std::memcmp(out.data(), bytes.data(), offsetof(MarketDataHead, flags)) == 0);
  FUZZ_CHECK(std::memcmp(out.data() + sizeof(MarketDataHead), bytes.data() + sizeof(MarketDataHead),
                         size - sizeof(MarketDataHead)) == 0);
  FUZZ_CHECK(checkFrame({out.data(), n}) == FrameError::None);
  return 0;
}

// SPDX-License-Identifier: MIT
// Fuzz target: OrderBook::applySnapshot on a sequence of frames that passed checkFrame().
//
// Input: byte 0 = the book's symbol id (0: the book takes its first snapshot's); then records.
// A record starts with a byte c. c < 0x80: a MARKET_DATA snapshot of (c % 65) entries built
// around the input: symbol_id u32, flags u16, then 16 input bytes per entry (zeros once the
// input runs out). c >= 0x80: a raw frame: length u16, then that many bytes (fewer at the end),
// used only if checkFrame() accepts it.
#include <array>
#include <cstring>
#include <span>
#include <vector>

#include "daemon/book/order_book.h"
#include "libhft/protocol/codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace hft::protocol;
using hft::book::OrderBook;
using hft::book::PriceLevel;

struct Reader {
  std::span<const std::uint8_t> in;
  std::size_t take(void* out, std::size_t n) {
    n = std::min(n, in.size());
    if (n != 0)
      std::memcpy(out, in.data(), n);
    in = in.subspan(n);
    return n;
  }
};

struct Snapshot {
  std::array<std::size_t, 2> depth;
  std::array<std::array<PriceLevel, hft::book::kMaxLevels>, 2> levels;
  std::uint32_t symbolId;
  std::uint64_t updates, refused, timestamp;
};

Snapshot snapshotOf(const OrderBook& b) {
  Snapshot s{};
  for (std::size_t side = 0; side < 2; ++side) {
    const auto sd = static_cast<MdSide>(side);
    s.depth[side] = b.depth(sd);
    for (std::size_t i = 0; i < hft::book::kMaxLevels; ++i)
      s.levels[side][i] = b.level(i, sd);
  }
  s.symbolId = b.symbolId();
  s.updates = b.updateCount();
  s.refused = b.refusedCount();
  s.timestamp = b.lastExchangeTimestamp();
  return s;
}

bool sameLadder(const Snapshot& a, const Snapshot& b) {
  for (std::size_t side = 0; side < 2; ++side) {
    if (a.depth[side] != b.depth[side])
      return false;
    for (std::size_t i = 0; i < a.depth[side]; ++i)
      if (a.levels[side][i].price != b.levels[side][i].price ||
          a.levels[side][i].qty != b.levels[side][i].qty)
        return false;
  }
  return a.symbolId == b.symbolId && a.timestamp == b.timestamp;
}

// The book's own promises after any call.
void checkBook(const OrderBook& b) {
  for (std::size_t side = 0; side < 2; ++side) {
    const auto sd = static_cast<MdSide>(side);
    const std::size_t depth = b.depth(sd);
    FUZZ_CHECK(depth <= hft::book::kMaxLevels);
    for (std::size_t i = 0; i < hft::book::kMaxLevels; ++i) {
      const PriceLevel l = b.level(i, sd);
      FUZZ_CHECK(l.valid == (i < depth));
      if (!l.valid)
        continue;
      FUZZ_CHECK(l.qty > 0);
      if (i > 0) {
        const PriceLevel prev = b.level(i - 1, sd);
        // Bids strictly fall as the level rises, asks strictly rise.
        FUZZ_CHECK(side == 0 ? l.price < prev.price : l.price > prev.price);
      }
    }
  }
  FUZZ_CHECK(b.hasBothSides() == (b.depth(MdSide::Bid) != 0 && b.depth(MdSide::Ask) != 0));
  if (b.hasBothSides()) {
    const std::int64_t bid = b.bestBid().price;
    const std::int64_t ask = b.bestAsk().price;
    FUZZ_CHECK(bid < ask); // never crossed nor locked
    const std::int64_t mid = b.mid();
    FUZZ_CHECK(mid >= bid && mid <= ask);
    FUZZ_CHECK(b.spread() > 0);
  } else {
    FUZZ_CHECK(b.mid() == 0 && b.spread() == 0);
  }
}

void applyOne(OrderBook& book, const FrameView& view) {
  const Snapshot before = snapshotOf(book);
  const bool applied = book.applySnapshot(view);
  const Snapshot after = snapshotOf(book);
  checkBook(book);

  const bool isMd = view.type == static_cast<std::uint16_t>(MsgType::MarketData);
  MarketDataHead head{};
  if (isMd)
    head = view.as<MarketDataHead>();
  const bool otherSymbol = isMd && before.symbolId != 0 && head.symbolId != before.symbolId;
  if (!isMd || otherSymbol) {
    // Not this book's frame: refused, and the book is left alone.
    FUZZ_CHECK(!applied);
    FUZZ_CHECK(sameLadder(before, after));
    FUZZ_CHECK(after.refused == before.refused + 1 && after.updates == before.updates);
    return;
  }
  // The codec's content check and the book agree on every snapshot.
  FUZZ_CHECK(applied == (checkMarketDataContent(view) == FrameError::None));
  if (!applied) {
    FUZZ_CHECK(after.depth[0] == 0 && after.depth[1] == 0);
    FUZZ_CHECK(after.refused == before.refused + 1 && after.updates == before.updates);
    return;
  }
  FUZZ_CHECK(after.updates == before.updates + 1 && after.refused == before.refused);
  FUZZ_CHECK(after.symbolId == head.symbolId);
  FUZZ_CHECK(after.timestamp == head.header.timestamp);
  // The ladder is exactly the snapshot's entries, side by side, level by level.
  std::array<std::size_t, 2> seen{0, 0};
  for (std::size_t i = 0; i < head.numEntries; ++i) {
    const MdEntry e = view.mdEntry(i);
    FUZZ_CHECK(e.side <= 1 && e.level == seen[e.side]);
    const PriceLevel l = book.level(e.level, static_cast<MdSide>(e.side));
    FUZZ_CHECK(l.valid && l.price == e.price && l.qty == e.qty);
    ++seen[e.side];
  }
  FUZZ_CHECK(after.depth[0] == seen[0] && after.depth[1] == seen[1]);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  OrderBook book(data[0]);
  Reader in{{data + 1, size - 1}};
  std::uint32_t seq = 0;
  while (!in.in.empty()) {
    std::uint8_t c = 0;
    in.take(&c, 1);
    std::vector<std::byte> frame;
    if (c < 0x80) {
      const std::size_t n = c % (kMaxMdEntries + 1);
      frame.resize(marketDataSize(n));
      MarketDataHead head{};
      ++seq;
      stampHeader(head.header, MsgType::MarketData, frame.size(), seq, 1000U + seq);
      in.take(&head.symbolId, sizeof(head.symbolId));
      in.take(&head.flags, sizeof(head.flags));
      head.numEntries = static_cast<std::uint16_t>(n);
      std::memcpy(frame.data(), &head, sizeof(head));
      in.take(frame.data() + sizeof(head), n * sizeof(MdEntry));
    } else {
      std::uint16_t length = 0;
      in.take(&length, sizeof(length));
      frame.resize(std::min<std::size_t>(length, in.in.size()));
      in.take(frame.data(), frame.size());
    }
    // applySnapshot's contract: checkFrame() has accepted the frame.
    if (checkFrame(frame) != FrameError::None)
      continue;
    FrameView view{frame.data(), static_cast<std::uint16_t>(frame.size()), 0};
    std::memcpy(&view.type, frame.data() + offsetof(Header, msgType), sizeof(view.type));
    applyOne(book, view);
  }
  return 0;
}

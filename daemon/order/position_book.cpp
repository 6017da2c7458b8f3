// SPDX-License-Identifier: MIT
// PositionBook: cost-basis accounting that stays exact in integers across flips.
#include "daemon/order/position_book.h"

namespace hft::order {

namespace {
// cost x qty can pass 2^63 for large quantities; 128 bits cannot.
__extension__ using Wide = __int128;
} // namespace

bool PositionBook::onFill(std::uint32_t symbolId, protocol::Side side, std::int64_t price,
                          std::uint32_t qty) noexcept {
  if (!book::isTradableSymbol(symbolId) || qty == 0)
    return false;
  Position& p = slots_[symbolId];
  const bool buy = side == protocol::Side::Buy;
  const std::int64_t signedQty = buy ? std::int64_t{qty} : -std::int64_t{qty};
  (buy ? p.boughtQty : p.soldQty) += qty;

  std::int64_t opening = signedQty; // the part that grows the position (after any close)
  if (p.qty != 0 && (p.qty > 0) != buy) {
    const std::int64_t held = p.qty > 0 ? p.qty : -p.qty;
    const std::int64_t closing = qty < held ? std::int64_t{qty} : held;
    // The cost this fill takes off: proportional, and all of it when it closes the position,
    // so a round trip realizes exactly what it made whatever the rounding on the way.
    const auto removed =
        closing == held ? p.openCost : static_cast<std::int64_t>(Wide{p.openCost} * closing / held);
    const std::int64_t closingSigned = buy ? closing : -closing;
    // Selling q bought at cost C realizes q x price - C; buying back q sold short at -C
    // realizes C' - q x price with C' = -C: both are -(price x signed q + removed).
    const std::int64_t realized = -(price * closingSigned + removed);
    p.realized += realized;
    totalRealized_ += realized;
    p.openCost -= removed;
    p.qty += closingSigned;
    opening = signedQty - closingSigned;
  }
  // What is left opens or grows a position on the fill's side, at the fill's price.
  p.qty += opening;
  p.openCost += price * opening;
  return true;
}

std::int64_t PositionBook::averageEntryPrice(std::uint32_t symbolId) const noexcept {
  if (!book::isTradableSymbol(symbolId))
    return 0;
  const Position& p = slots_[symbolId];
  if (p.qty == 0)
    return 0;
  // openCost and qty share a sign, so the quotient is positive; round half up.
  const std::int64_t q = p.qty > 0 ? p.qty : -p.qty;
  const std::int64_t c = p.openCost > 0 ? p.openCost : -p.openCost;
  return (c + q / 2) / q;
}

} // namespace hft::order

// SPDX-License-Identifier: MIT
// Per-symbol positions, average entry prices and PnL, in integer 1e-4 price units.
#pragma once

#include <array>
#include <cstdint>

#include "daemon/book/order_book.h"
#include "libhft/protocol/wire.h"

namespace hft::order {

// Conventions (docs/strategy.md): position > 0 long, < 0 short. Money is kept as i64 "raw"
// values in 1e-4 currency units (price units x qty) and reported as double currency units
// (raw / 10000). The open position carries its cost (sum of price x signed qty of the fills
// that opened it); a reducing fill realizes the difference between its price and the cost it
// removes in proportion, and a fill larger than the position closes it and opens the rest on
// the other side at the fill price.
class PositionBook {
public:
  struct Position {
    std::int64_t qty = 0;        // signed
    std::int64_t openCost = 0;   // sum of price x signed qty of the open position (raw)
    std::int64_t realized = 0;   // raw
    std::uint64_t boughtQty = 0; // volume, for status
    std::uint64_t soldQty = 0;
  };

  // Applies one fill; false (and no change) for a symbol id without a slot or a zero qty.
  [[nodiscard]] bool onFill(std::uint32_t symbolId, protocol::Side side, std::int64_t price,
                            std::uint32_t qty) noexcept;

  [[nodiscard]] std::int64_t position(std::uint32_t symbolId) const noexcept {
    return book::isTradableSymbol(symbolId) ? slots_[symbolId].qty : 0;
  }
  // Average entry price of the open position, 1e-4 units rounded to nearest; 0 when flat.
  [[nodiscard]] std::int64_t averageEntryPrice(std::uint32_t symbolId) const noexcept;
  [[nodiscard]] std::int64_t realizedRaw(std::uint32_t symbolId) const noexcept {
    return book::isTradableSymbol(symbolId) ? slots_[symbolId].realized : 0;
  }
  // What closing the position at `mark` (usually the mid) would realize, raw.
  [[nodiscard]] std::int64_t unrealizedRaw(std::uint32_t symbolId,
                                           std::int64_t mark) const noexcept {
    if (!book::isTradableSymbol(symbolId))
      return 0;
    const Position& p = slots_[symbolId];
    return p.qty * mark - p.openCost;
  }
  [[nodiscard]] double realizedPnl(std::uint32_t symbolId) const noexcept {
    return toCurrency(realizedRaw(symbolId));
  }
  [[nodiscard]] double unrealizedPnl(std::uint32_t symbolId, std::int64_t mark) const noexcept {
    return toCurrency(unrealizedRaw(symbolId, mark));
  }
  [[nodiscard]] std::int64_t totalRealizedRaw() const noexcept { return totalRealized_; }
  [[nodiscard]] double totalRealizedPnl() const noexcept { return toCurrency(totalRealized_); }
  [[nodiscard]] const Position& at(std::uint32_t symbolId) const noexcept {
    return book::isTradableSymbol(symbolId) ? slots_[symbolId] : slots_[0];
  }

  [[nodiscard]] static constexpr double toCurrency(std::int64_t raw) noexcept {
    return static_cast<double>(raw) / static_cast<double>(protocol::kPriceScale);
  }

private:
  std::array<Position, book::kMaxSymbols> slots_{}; // slot 0 stays empty
  std::int64_t totalRealized_ = 0;
};

} // namespace hft::order

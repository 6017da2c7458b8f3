// SPDX-License-Identifier: MIT
// Random-walk market: per symbol a mid price and a ladder of `depth` levels a side, one step
// per tick, reproducible from a seed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "exchange-sim/market/rng.h"
#include "libhft/protocol/wire.h"

namespace hft::market {

// A MARKET_DATA frame holds 64 entries: both sides of 32 levels.
inline constexpr std::uint32_t kMaxDepth = protocol::kMaxMdEntries / 2;

struct MarketParams {
  std::uint32_t symbols = 4;           // ids 1..symbols
  std::uint32_t depth = 5;             // levels per side
  std::int64_t tickSize = 100;         // 0.01 in 1e-4 units
  std::int64_t startPrice = 1'000'000; // 100.00; rounded to a whole tick
  double volatilityTicks = 1.0;        // standard deviation of the mid's step per tick, in ticks
  std::uint32_t minSpreadTicks = 1;
  std::uint32_t maxSpreadTicks = 3;
  std::uint32_t minLevelQty = 1;
  std::uint32_t maxLevelQty = 1000;
  std::uint64_t seed = 1;
};

struct Level {
  std::int64_t price = 0;
  std::uint32_t qty = 0;
};

// One symbol's displayed book: bids[0] is the best bid, asks[0] the best ask.
struct Ladder {
  std::array<Level, kMaxDepth> bids{};
  std::array<Level, kMaxDepth> asks{};
  std::uint32_t depth = 0;

  [[nodiscard]] std::int64_t bestBid() const noexcept { return bids[0].price; }
  [[nodiscard]] std::int64_t bestAsk() const noexcept { return asks[0].price; }
  [[nodiscard]] std::int64_t mid() const noexcept { return (bestBid() + bestAsk()) / 2; }
};

class MarketModel {
public:
  // Builds the first ladders (tick 0). `params` must be valid (see validate()).
  explicit MarketModel(const MarketParams& params);

  // Why a parameter set cannot run, or "" when it can.
  [[nodiscard]] static const char* validate(const MarketParams& params) noexcept;

  // One random-walk step for every symbol, in symbol order.
  void tick() noexcept;

  // Replay: the symbol's ladder becomes the one in these snapshot entries (depth() levels a
  // side, as checked when the recording was opened); the walk is not used.
  void load(std::uint32_t symbolId, std::span<const protocol::MdEntry> entries) noexcept;

  [[nodiscard]] bool validSymbol(std::uint32_t symbolId) const noexcept {
    return symbolId >= 1 && symbolId <= params_.symbols;
  }
  [[nodiscard]] std::uint32_t symbolCount() const noexcept { return params_.symbols; }
  [[nodiscard]] std::uint32_t depth() const noexcept { return params_.depth; }
  // symbolId must be valid.
  [[nodiscard]] const Ladder& ladder(std::uint32_t symbolId) const noexcept {
    return ladders_[symbolId - 1];
  }
  [[nodiscard]] std::uint64_t ticks() const noexcept { return ticks_; }
  [[nodiscard]] const MarketParams& params() const noexcept { return params_; }

  // The snapshot entries of one symbol, bids then asks, best first. Returns how many were
  // written (2 * depth); `out` holds at least that many.
  std::size_t snapshot(std::uint32_t symbolId, std::span<protocol::MdEntry> out) const noexcept;

private:
  struct Walk {
    std::int64_t midTicks; // the walk's state: the best bid sits at or just below it
  };

  void build(std::size_t index) noexcept;

  MarketParams params_;
  Rng rng_;
  std::vector<Walk> walks_;
  std::vector<Ladder> ladders_;
  std::int64_t minMidTicks_;
  std::uint64_t ticks_ = 0;
};

} // namespace hft::market

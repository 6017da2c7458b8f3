// SPDX-License-Identifier: MIT
// Random-walk market: mids, spreads and level quantities drawn from one seeded generator.
#include "exchange-sim/market/market_model.h"

#include <algorithm>
#include <cmath>

namespace hft::market {

const char* MarketModel::validate(const MarketParams& p) noexcept {
  if (p.symbols == 0)
    return "symbols must be at least 1";
  if (p.depth == 0 || p.depth > kMaxDepth)
    return "depth must be from 1 to 32 (a MARKET_DATA frame holds 64 entries)";
  if (p.tickSize <= 0)
    return "tick_size must be positive";
  if (p.startPrice <= 0)
    return "start_price must be positive";
  if (!(p.volatilityTicks >= 0.0) || p.volatilityTicks > 1000.0)
    return "volatility_ticks must be from 0 to 1000";
  if (p.minSpreadTicks == 0)
    return "min_spread_ticks must be at least 1 (best bid < best ask)";
  if (p.maxSpreadTicks < p.minSpreadTicks)
    return "max_spread_ticks must be at least min_spread_ticks";
  if (p.minLevelQty == 0)
    return "min_level_qty must be at least 1 (displayed quantities are > 0)";
  if (p.maxLevelQty < p.minLevelQty)
    return "max_level_qty must be at least min_level_qty";
  return "";
}

MarketModel::MarketModel(const MarketParams& params)
    : params_(params), rng_(params.seed), walks_(params.symbols), ladders_(params.symbols) {
  // The deepest bid must stay at one tick or above: prices are > 0.
  minMidTicks_ = static_cast<std::int64_t>(params_.depth + params_.maxSpreadTicks);
  const std::int64_t start = std::max<std::int64_t>(
      (params_.startPrice + params_.tickSize / 2) / params_.tickSize, minMidTicks_);
  for (std::size_t i = 0; i < walks_.size(); ++i) {
    walks_[i].midTicks = start;
    build(i);
  }
}

void MarketModel::build(std::size_t index) noexcept {
  Ladder& ladder = ladders_[index];
  const auto spread =
      static_cast<std::int64_t>(rng_.between(params_.minSpreadTicks, params_.maxSpreadTicks));
  const std::int64_t bidTicks = walks_[index].midTicks - spread / 2;
  const std::int64_t askTicks = bidTicks + spread;
  ladder.depth = params_.depth;
  for (std::uint32_t level = 0; level < params_.depth; ++level) {
    ladder.bids[level].price = (bidTicks - level) * params_.tickSize;
    ladder.bids[level].qty =
        static_cast<std::uint32_t>(rng_.between(params_.minLevelQty, params_.maxLevelQty));
    ladder.asks[level].price = (askTicks + level) * params_.tickSize;
    ladder.asks[level].qty =
        static_cast<std::uint32_t>(rng_.between(params_.minLevelQty, params_.maxLevelQty));
  }
}

void MarketModel::tick() noexcept {
  ++ticks_;
  for (std::size_t i = 0; i < walks_.size(); ++i) {
    const auto step =
        static_cast<std::int64_t>(std::llround(params_.volatilityTicks * rng_.gaussian()));
    walks_[i].midTicks = std::max(walks_[i].midTicks + step, minMidTicks_);
    build(i);
  }
}

std::size_t MarketModel::snapshot(std::uint32_t symbolId,
                                  std::span<protocol::MdEntry> out) const noexcept {
  const Ladder& l = ladder(symbolId);
  std::size_t n = 0;
  for (std::uint32_t level = 0; level < l.depth; ++level)
    out[n++] = {l.bids[level].price, l.bids[level].qty,
                static_cast<std::uint8_t>(protocol::MdSide::Bid), static_cast<std::uint8_t>(level),
                0};
  for (std::uint32_t level = 0; level < l.depth; ++level)
    out[n++] = {l.asks[level].price, l.asks[level].qty,
                static_cast<std::uint8_t>(protocol::MdSide::Ask), static_cast<std::uint8_t>(level),
                0};
  return n;
}

void MarketModel::load(std::uint32_t symbolId,
                       std::span<const protocol::MdEntry> entries) noexcept {
  Ladder& l = ladders_[symbolId - 1];
  for (const protocol::MdEntry& e : entries) {
    if (e.level >= l.depth)
      continue;
    Level& level = e.side == static_cast<std::uint8_t>(protocol::MdSide::Bid) ? l.bids[e.level]
                                                                              : l.asks[e.level];
    level.price = e.price;
    level.qty = e.qty;
  }
  ++ticks_;
}

} // namespace hft::market

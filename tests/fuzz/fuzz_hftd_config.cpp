// SPDX-License-Identifier: MIT
// Fuzz target: hftd's TOML configuration loader, hft::config::parseConfig.
// Never crashes; only ConfigError escapes; what it accepts passes validate() and its ranges.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/book/order_book.h"
#include "daemon/config/hftd_config.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/market_maker.h"
#include "daemon/strategy/momentum_strategy.h"
#include "libhft/protocol/codec.h"
#include "tests/fuzz/fuzz_check.h"

using namespace hft::config;
using hft::protocol::encodeMarketData;
using hft::protocol::marketDataSize;
using hft::protocol::MdEntry;

namespace {
// Takes every quote the market maker sends and acknowledges nothing: its placements alone.
struct CountingGateway {
  std::uint64_t sent = 0;
  std::uint64_t send(const hft::risk::OrderIntent&) noexcept { return ++sent; }
  bool cancel(std::uint64_t) noexcept { return true; }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  HftdConfig c;
  try {
    c = parseConfig(text, "fuzz.toml");
  } catch (const ConfigError& e) {
    // A refusal names the file; any other exception escapes and is a finding.
    FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz.toml"));
    return 0;
  }
  try {
    validate(c);
  } catch (const ConfigError&) {
    FUZZ_CHECK(!"parseConfig accepted a configuration that validate() refuses");
  }
  // The documented ranges (conf/hftd.toml) hold for whatever was accepted.
  FUZZ_CHECK(c.path == "fuzz.toml");
  FUZZ_CHECK(c.exchange.port >= 1);
  FUZZ_CHECK(!c.exchange.host.empty() && !c.exchange.interface.empty() &&
             !c.exchange.account.empty());
  FUZZ_CHECK(c.exchange.heartbeatMs >= 50 && c.exchange.heartbeatMs <= 60000);
  FUZZ_CHECK(c.exchange.reconnectInitialMs <= c.exchange.reconnectMaxMs);
  FUZZ_CHECK(c.cpu.networkCore >= 0 && c.cpu.networkCore <= 4095);
  FUZZ_CHECK(c.cpu.strategyCore >= 0 && c.cpu.strategyCore <= 4095);
  FUZZ_CHECK(c.cpu.networkCore != c.cpu.strategyCore);
  FUZZ_CHECK(c.cpu.fifoPriority >= 0 && c.cpu.fifoPriority <= 99);
  FUZZ_CHECK(c.session.directory.starts_with('/') && c.control.socket.starts_with('/'));
  FUZZ_CHECK(c.control.maxConnections >= 1 && c.control.maxConnections <= 1024);
  FUZZ_CHECK(c.log.level == "trace" || c.log.level == "debug" || c.log.level == "info" ||
             c.log.level == "warn" || c.log.level == "error");
  FUZZ_CHECK(c.risk.maxOrderQty >= 1 && c.risk.maxPosition >= 0 && c.risk.maxOpenOrders >= 1);
  FUZZ_CHECK(c.strategy.lookback >= 2 && c.strategy.lookback <= 64);
  FUZZ_CHECK(c.strategy.orderQty >= 1 && c.strategy.orderQty <= c.risk.maxOrderQty);
  FUZZ_CHECK(c.strategy.tickSize >= 1 && c.strategy.maxPosition >= 0);
  FUZZ_CHECK(c.strategy.cooldownNs % 1'000'000 == 0);
  FUZZ_CHECK(c.marketMaker.orderQty >= 1 && c.marketMaker.orderQty <= c.risk.maxOrderQty);
  FUZZ_CHECK(c.marketMaker.tickSize == c.strategy.tickSize);
  FUZZ_CHECK(c.marketMaker.minRequoteNs >= 1'000'000 && c.marketMaker.maxPosition >= 0);
  FUZZ_CHECK(c.marketMaker.requoteTicks >= 1 && c.marketMaker.halfSpreadTicks >= 1);

  // Parsing is a function of the text; a reload to the same text changes nothing.
  const HftdConfig again = parseConfig(text, "fuzz.toml");
  const ReloadPlan same = planReload(c, again);
  FUZZ_CHECK(same.applied.empty() && same.needsRestart.empty());
  [[maybe_unused]] const ReloadPlan fromDefaults = planReload(HftdConfig{}, c);

  // The components the settings feed work with them: a rising market through the strategy and
  // risk (UBSan reports any overflow a setting causes there).
  hft::risk::RiskChecker risk(c.risk);
  hft::strategy::MomentumStrategy strategy(c.strategy);
  strategy.setParams(c.strategy);
  hft::book::OrderBook book(1);
  std::uint64_t now = 1'000'000'000;
  // Each update moves the mid by the threshold (capped so the prices stay far from overflow).
  const std::int64_t step = std::min<std::int64_t>(
      c.strategy.tickSize * std::int64_t{c.strategy.thresholdTicks}, 10'000'000'000'000);
  for (std::int64_t k = 0; k < 70; ++k) {
    const std::int64_t bid = 1'000'000 + step * k;
    const MdEntry entries[2] = {{bid, 10, 0, 0, 0}, {bid + 100, 10, 1, 0, 0}};
    std::array<std::byte, marketDataSize(2)> frame{};
    const std::size_t n = encodeMarketData(frame.data(), 1, now, 1, entries);
    FUZZ_CHECK(book.applySnapshot({frame.data(), static_cast<std::uint16_t>(n), 1}));
    hft::risk::OrderIntent intent{};
    if (strategy.onBookUpdate(book, 1, 0, now, now, intent)) {
      FUZZ_CHECK(intent.qty >= 1 && intent.qty <= c.strategy.orderQty && intent.price > 0);
      if (risk.check(intent, 0, 0, 0, 0, book.mid(), now) == hft::risk::RiskResult::Accepted)
        risk.onOrderSent(now);
    }
    now += 1'000'000;
  }

  // The market maker through the same kind of market, at the extremes of its position.
  hft::strategy::MarketMaker maker(c.marketMaker);
  maker.setParams(c.marketMaker);
  CountingGateway gateway;
  for (std::int64_t k = 0; k < 70; ++k) {
    const std::int64_t bid = 1'000'000 + step * k;
    const MdEntry entries[2] = {{bid, 10, 0, 0, 0}, {bid + 100, 10, 1, 0, 0}};
    std::array<std::byte, marketDataSize(2)> frame{};
    const std::size_t n = encodeMarketData(frame.data(), 1, now, 1, entries);
    FUZZ_CHECK(book.applySnapshot({frame.data(), static_cast<std::uint16_t>(n), 1}));
    const std::int64_t position = (k % 3 - 1) * c.marketMaker.maxPosition;
    maker.onBookUpdate({book, 1, position, now, now}, gateway);
    const hft::strategy::Quotes q =
        hft::strategy::computeQuotes(c.marketMaker, bid, bid + 100, position);
    FUZZ_CHECK(!q.bid || (q.bidPrice > 0 && q.bidPrice < bid + 100 && q.bidQty >= 1));
    FUZZ_CHECK(!q.ask || (q.askPrice > bid && q.askQty >= 1));
    now += 1'000'000;
  }
  return 0;
}

// SPDX-License-Identifier: MIT
// Fuzz target: exchange-sim's TOML loader, hft::options::applyConfig.
// Never crashes; only ConfigError escapes, and then the options are untouched; what it accepts
// passes crossCheck() and makes market data the protocol accepts.
#include <array>
#include <string>
#include <string_view>

#include "exchange-sim/market/market_model.h"
#include "exchange-sim/options/sim_options.h"
#include "libhft/protocol/codec.h"
#include "tests/fuzz/fuzz_check.h"

using namespace hft;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  options::SimOptions o;
  o.statsFile = "untouched";
  try {
    options::applyConfig(o, text, "fuzz.toml");
  } catch (const options::ConfigError& e) {
    FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz.toml"));
    FUZZ_CHECK(o.statsFile == "untouched"); // a refused file changes nothing
    return 0;
  }
  FUZZ_CHECK(options::crossCheck(o).empty());
  FUZZ_CHECK(*market::MarketModel::validate(o.market) == '\0');

  // A few ticks of the market it configures: every snapshot is a frame the spec accepts.
  market::MarketParams p = o.market;
  p.symbols = std::min<std::uint32_t>(p.symbols, 4); // each symbol walks alike; keep it fast
  market::MarketModel model(p);
  std::array<protocol::MdEntry, protocol::kMaxMdEntries> entries{};
  std::array<std::byte, sizeof(protocol::MarketData)> frame{};
  for (int tick = 0; tick < 3; ++tick) {
    for (std::uint32_t id = 1; id <= p.symbols; ++id) {
      const std::size_t n = model.snapshot(id, entries);
      FUZZ_CHECK(n == 2 * p.depth);
      const std::size_t len =
          protocol::encodeMarketData(frame.data(), 1, 1, id, std::span(entries.data(), n));
      FUZZ_CHECK(protocol::checkFrame({frame.data(), len}) == protocol::FrameError::None);
      const protocol::FrameView view{frame.data(), static_cast<std::uint16_t>(len), 1};
      FUZZ_CHECK(protocol::checkMarketDataContent(view) == protocol::FrameError::None);
      for (std::size_t i = 0; i < n; ++i)
        FUZZ_CHECK(entries[i].price > 0);
    }
    model.tick();
  }
  return 0;
}

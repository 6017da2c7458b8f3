// SPDX-License-Identifier: MIT
// hftd's configuration: the TOML file (conf/hftd.toml documents every key) and its checks.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/market_maker.h"
#include "daemon/strategy/momentum_strategy.h"

namespace hft::config {

enum class PollMode : std::uint8_t { Busy, Yield };
enum class Autostart : std::uint8_t { Never, Always, Interactive };
// Where market data comes from: the TCP session, the UDP feed through a kernel socket, or the
// UDP feed through an AF_XDP socket (docs/af_xdp.md). Orders always go over TCP.
enum class MdTransport : std::uint8_t { Tcp, Udp, AfXdp };
// Where the XDP program hooks in: the driver's own hook when it has one, else the generic
// (SKB) hook; or one of the two, forced.
enum class XdpMode : std::uint8_t { Auto, Native, Skb };
// What a session does when its directory's filesystem is full (docs/session-data.md): stop
// sending new orders, or keep trading and lose only latency samples while the journal has room.
enum class OnDiskFull : std::uint8_t { StopTrading, KeepTrading };
// How the tick-to-trade path uses the two worker cores (docs/hftd.md, "Engine layout"): one
// thread reads, decides and writes in the same pass, the strategy core keeps the off-path
// work; or the network and strategy threads pass frames and orders through rings.
enum class EngineLayout : std::uint8_t { RunToCompletion, Pipeline };

// Which strategy the engine runs ([strategy] kind, docs/strategy.md); fixed at start-up.
enum class StrategyKind : std::uint8_t { Momentum, MarketMaker };

[[nodiscard]] std::string_view describe(PollMode mode) noexcept;
[[nodiscard]] std::string_view describe(StrategyKind kind) noexcept;
[[nodiscard]] std::string_view describe(Autostart autostart) noexcept;
[[nodiscard]] std::string_view describe(MdTransport transport) noexcept;
[[nodiscard]] std::string_view describe(OnDiskFull policy) noexcept;
[[nodiscard]] std::string_view describe(EngineLayout layout) noexcept;
// "tcp", "udp" or "af_xdp"; false for anything else.
[[nodiscard]] bool parseMdTransport(std::string_view text, MdTransport& out) noexcept;

struct ExchangeConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9000;
  std::string interface = "lo";
  std::string account = "hft";
  std::uint32_t heartbeatMs = 1000;
  std::uint32_t connectTimeoutMs = 2000;
  std::uint32_t reconnectInitialMs = 100;
  std::uint32_t reconnectMaxMs = 5000;
  MdTransport mdTransport = MdTransport::Tcp;
  std::string udpFeedAddress = "0.0.0.0"; // udp_feed: unicast address or group to listen on
  std::uint16_t udpFeedPort = 9001;
  std::uint32_t udpBusyPollUs = 0; // SO_BUSY_POLL on the feed socket; 0 = off
  std::uint32_t xdpQueue = 0;      // the receive queue of `interface` the feed arrives on
  XdpMode xdpMode = XdpMode::Auto;
  bool xdpFallbackUdp = false; // af_xdp impossible (capability, driver): use udp
};

struct CpuConfig {
  int networkCore = 6;
  int strategyCore = 7;
  PollMode pollMode = PollMode::Busy;
  int fifoPriority = 0; // 0 = normal scheduling; 1..99 = SCHED_FIFO for the two workers
  bool lockMemory = true;
  bool hugePages = true;
};

struct EngineConfig {
  EngineLayout layout = EngineLayout::RunToCompletion;
  // Between frames, at most this often, the order path runs without sending so that an order
  // finds its code and data in cache (docs/hftd.md, "Keeping the order path warm"); 0 = off.
  std::uint32_t warmIntervalUs = 100;
};

struct NetworkConfig {
  // SO_TIMESTAMPING on the order session and the UDP feed (docs/performance.md).
  bool kernelTimestamps = true;
};

struct SessionConfig {
  Autostart autostart = Autostart::Interactive;
  std::uint32_t durationSec = 0; // 0 = until stop-session or shutdown
  std::string directory = "/var/lib/hft/sessions";
  OnDiskFull onDiskFull = OnDiskFull::StopTrading;
  // Disk space claimed (fallocate) for journal.bin when a session opens, so the journal still
  // has room once the filesystem fills: the execution reports of orders already out.
  std::uint32_t journalReserveMib = 16;
  // Slots of the ring that carries journal records off the network thread (a power of two);
  // new orders stop while fewer than an eighth are free.
  std::uint32_t journalRing = 65536;
  // Write the MARKET_DATA frames received to market_data.rec (docs/session-data.md).
  bool recordMarketData = true;
};

struct ControlConfig {
  std::string socket = "/run/hftd/control.sock";
  std::uint32_t maxConnections = 16;
  std::uint32_t idleTimeoutMs = 5000;
};

struct LogConfig {
  std::string level = "info"; // trace, debug, info, warn, error
};

struct HftdConfig {
  ExchangeConfig exchange;
  CpuConfig cpu;
  EngineConfig engine;
  NetworkConfig network;
  SessionConfig session;
  ControlConfig control;
  LogConfig log;
  risk::RiskLimits risk;
  StrategyKind strategyKind = StrategyKind::Momentum;
  strategy::StrategyParams strategy;       // [strategy]: the momentum taker's keys
  strategy::MarketMakerParams marketMaker; // [strategy.market_maker] (tick_size: [strategy])
  std::string path;                        // the file it came from; "" for built-in defaults
};

// A refused configuration: the message names the file, line, column and key, and the fix.
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Parses and validates a whole file. Throws ConfigError.
[[nodiscard]] HftdConfig loadConfig(const std::string& path);
// Same for text already read (`path` is only for messages).
[[nodiscard]] HftdConfig parseConfig(std::string_view text, const std::string& path);
// Cross-field checks (also run after command-line overrides). Throws ConfigError.
void validate(const HftdConfig& config);

// What a reload may change while running; everything else needs a restart.
struct ReloadPlan {
  std::vector<std::string> applied;
  std::vector<std::string> needsRestart;
};
[[nodiscard]] ReloadPlan planReload(const HftdConfig& running, const HftdConfig& next);

} // namespace hft::config

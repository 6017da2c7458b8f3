// SPDX-License-Identifier: MIT
// Reads hftd.toml with toml++: every key known, every type and range checked, errors located.
#include "daemon/config/hftd_config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "libhft/core/endpoint.h"

namespace hft::config {
namespace {

std::string where(const std::string& path, const toml::source_region& src) {
  return path + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
}

// Reads the keys of one table, remembering which it knows so the rest can be refused.
class Section {
public:
  Section(const toml::table& root, std::string name, const std::string& path)
      : Section(root, name, std::string(name), path) {}
  // A table `key` of `parent`, named `name` in messages (a sub-table: "strategy.market_maker").
  Section(const toml::table& parent, const std::string& key, std::string name,
          const std::string& path)
      : name_(std::move(name)), path_(path) {
    if (const toml::node* node = parent.get(key)) {
      table_ = node->as_table();
      if (!table_)
        throw ConfigError(where(path_, node->source()) + ": [" + name_ +
                          "] must be a table, e.g. '[" + name_ + "]' on a line of its own");
    }
  }

  template <typename Int> void integer(const char* key, Int& out, long long min, long long max) {
    const toml::node* node = find(key);
    if (!node)
      return;
    const auto* v = node->as_integer();
    if (!v)
      fail(*node, key, std::string("expected an integer, found ") + typeName(*node));
    const long long x = v->get();
    if (x < min || x > max)
      fail(*node, key,
           "value " + std::to_string(x) + " is out of range " + std::to_string(min) + ".." +
               std::to_string(max));
    out = static_cast<Int>(x);
  }

  void boolean(const char* key, bool& out) {
    const toml::node* node = find(key);
    if (!node)
      return;
    const auto* v = node->as_boolean();
    if (!v)
      fail(*node, key, std::string("expected true or false, found ") + typeName(*node));
    out = v->get();
  }

  void string(const char* key, std::string& out, bool allowEmpty = false) {
    const toml::node* node = find(key);
    if (!node)
      return;
    const auto* v = node->as_string();
    if (!v)
      fail(*node, key, std::string("expected a string, found ") + typeName(*node));
    if (!allowEmpty && v->get().empty())
      fail(*node, key, "must not be empty");
    out = v->get();
  }

  template <typename E>
  void choice(const char* key, E& out, std::initializer_list<std::pair<const char*, E>> options) {
    std::string text;
    const toml::node* node = find(key);
    if (!node)
      return;
    string(key, text);
    std::string allowed;
    for (const auto& [name, value] : options) {
      if (text == name) {
        out = value;
        return;
      }
      allowed += (allowed.empty() ? "" : ", ") + std::string("\"") + name + "\"";
    }
    fail(*node, key, "\"" + text + "\" is not one of " + allowed);
  }

  // "A.B.C.D:PORT": the UDP feed's address (a local address, 0.0.0.0 or a multicast group).
  void udpFeed(const char* key, std::string& address, std::uint16_t& port) {
    std::string text;
    const toml::node* node = find(key);
    if (!node)
      return;
    string(key, text);
    if (!core::parseIpv4Endpoint(text, address, port))
      fail(*node, key,
           "\"" + text +
               "\" is not IPV4-ADDRESS:PORT, e.g. \"0.0.0.0:9001\" or \"239.1.1.1:9001\"");
  }

  // The sub-table `key` is read by a Section of its own: not an unknown key here.
  void subTable(const char* key) { known_.insert(key); }
  [[nodiscard]] const toml::table* table() const { return table_; }

  // Refuses every key this section did not ask for.
  void finish() const {
    if (!table_)
      return;
    for (auto&& [k, v] : *table_) {
      if (!known_.count(std::string(k.str())))
        throw ConfigError(where(path_, k.source()) + ": [" + name_ + "] " + std::string(k.str()) +
                          ": unknown key; see conf/hftd.toml for the keys of [" + name_ + "]");
    }
  }

private:
  const toml::node* find(const char* key) {
    known_.insert(key);
    return table_ ? table_->get(key) : nullptr;
  }
  static const char* typeName(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
    }
  }
  [[noreturn]] void fail(const toml::node& node, const char* key, const std::string& what) const {
    throw ConfigError(where(path_, node.source()) + ": [" + name_ + "] " + key + ": " + what);
  }

  std::string name_;
  const std::string& path_;
  const toml::table* table_ = nullptr;
  std::set<std::string> known_;
};

constexpr long long kU32 = std::numeric_limits<std::uint32_t>::max();
constexpr long long kI64 = std::numeric_limits<std::int64_t>::max();

} // namespace

std::string_view describe(PollMode mode) noexcept {
  return mode == PollMode::Busy ? "busy" : "yield";
}

std::string_view describe(StrategyKind kind) noexcept {
  return kind == StrategyKind::Momentum ? "momentum" : "market_maker";
}

std::string_view describe(Autostart autostart) noexcept {
  switch (autostart) {
  case Autostart::Never: return "never";
  case Autostart::Always: return "always";
  case Autostart::Interactive: return "interactive";
  }
  return "?";
}

std::string_view describe(OnDiskFull policy) noexcept {
  return policy == OnDiskFull::StopTrading ? "stop_trading" : "keep_trading";
}

std::string_view describe(EngineLayout layout) noexcept {
  return layout == EngineLayout::RunToCompletion ? "run_to_completion" : "pipeline";
}

std::string_view describe(MdTransport transport) noexcept {
  switch (transport) {
  case MdTransport::Tcp: return "tcp";
  case MdTransport::Udp: return "udp";
  case MdTransport::AfXdp: return "af_xdp";
  }
  return "?";
}

bool parseMdTransport(std::string_view text, MdTransport& out) noexcept {
  for (const MdTransport t : {MdTransport::Tcp, MdTransport::Udp, MdTransport::AfXdp})
    if (text == describe(t)) {
      out = t;
      return true;
    }
  return false;
}

HftdConfig parseConfig(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(where(path, e.source()) + ": " + std::string(e.description()) +
                      " (TOML syntax error)");
  }
  static const std::set<std::string> kSections = {"exchange", "cpu", "engine", "network", "session",
                                                  "control",  "log", "risk",   "strategy"};
  for (auto&& [k, v] : root)
    if (!kSections.count(std::string(k.str())))
      throw ConfigError(where(path, k.source()) + ": " + std::string(k.str()) +
                        ": unknown section or key; the file has the sections [exchange], "
                        "[cpu], [engine], [network], [session], [control], [log], [risk] and "
                        "[strategy]");

  HftdConfig c;
  c.path = path;
  {
    Section s(root, "exchange", path);
    s.string("host", c.exchange.host);
    s.integer("port", c.exchange.port, 1, 65535);
    s.string("interface", c.exchange.interface);
    s.string("account", c.exchange.account);
    s.integer("heartbeat_ms", c.exchange.heartbeatMs, 50, 60000);
    s.integer("connect_timeout_ms", c.exchange.connectTimeoutMs, 10, 60000);
    s.integer("reconnect_initial_ms", c.exchange.reconnectInitialMs, 1, 60000);
    s.integer("reconnect_max_ms", c.exchange.reconnectMaxMs, 1, 600000);
    s.choice(
        "md_transport", c.exchange.mdTransport,
        {{"tcp", MdTransport::Tcp}, {"udp", MdTransport::Udp}, {"af_xdp", MdTransport::AfXdp}});
    s.udpFeed("udp_feed", c.exchange.udpFeedAddress, c.exchange.udpFeedPort);
    s.integer("udp_busy_poll_us", c.exchange.udpBusyPollUs, 0, 100000);
    s.integer("xdp_queue", c.exchange.xdpQueue, 0, 63);
    s.choice("xdp_mode", c.exchange.xdpMode,
             {{"auto", XdpMode::Auto}, {"native", XdpMode::Native}, {"skb", XdpMode::Skb}});
    s.boolean("xdp_fallback_udp", c.exchange.xdpFallbackUdp);
    s.finish();
  }
  {
    Section s(root, "cpu", path);
    s.integer("network_core", c.cpu.networkCore, 0, 4095);
    s.integer("strategy_core", c.cpu.strategyCore, 0, 4095);
    s.choice("poll_mode", c.cpu.pollMode, {{"busy", PollMode::Busy}, {"yield", PollMode::Yield}});
    s.integer("fifo_priority", c.cpu.fifoPriority, 0, 99);
    s.boolean("lock_memory", c.cpu.lockMemory);
    s.boolean("huge_pages", c.cpu.hugePages);
    s.finish();
  }
  {
    Section s(root, "engine", path);
    s.choice("layout", c.engine.layout,
             {{"run_to_completion", EngineLayout::RunToCompletion},
              {"pipeline", EngineLayout::Pipeline}});
    s.integer("warm_interval_us", c.engine.warmIntervalUs, 0, 1'000'000);
    s.finish();
  }
  {
    Section s(root, "network", path);
    s.boolean("kernel_timestamps", c.network.kernelTimestamps);
    s.finish();
  }
  {
    Section s(root, "session", path);
    s.choice("autostart", c.session.autostart,
             {{"never", Autostart::Never},
              {"always", Autostart::Always},
              {"interactive", Autostart::Interactive}});
    s.integer("duration_sec", c.session.durationSec, 0, kU32);
    s.string("directory", c.session.directory);
    s.choice(
        "on_disk_full", c.session.onDiskFull,
        {{"stop_trading", OnDiskFull::StopTrading}, {"keep_trading", OnDiskFull::KeepTrading}});
    s.integer("journal_reserve_mib", c.session.journalReserveMib, 0, 65536);
    s.integer("journal_ring", c.session.journalRing, 1024, 1 << 22);
    s.boolean("record_market_data", c.session.recordMarketData);
    s.finish();
  }
  {
    Section s(root, "control", path);
    s.string("socket", c.control.socket);
    s.integer("max_connections", c.control.maxConnections, 1, 1024);
    s.integer("idle_timeout_ms", c.control.idleTimeoutMs, 100, 3600000);
    s.finish();
  }
  {
    Section s(root, "log", path);
    s.choice("level", c.log.level,
             {{"trace", std::string("trace")},
              {"debug", std::string("debug")},
              {"info", std::string("info")},
              {"warn", std::string("warn")},
              {"error", std::string("error")}});
    s.finish();
  }
  {
    Section s(root, "risk", path);
    s.integer("max_order_qty", c.risk.maxOrderQty, 1, kU32);
    s.integer("max_position", c.risk.maxPosition, 0, kI64);
    s.integer("max_open_orders", c.risk.maxOpenOrders, 1, 4096);
    s.integer("max_orders_per_second", c.risk.maxOrdersPerSecond, 1,
              risk::kMaxOrdersPerSecondLimit);
    s.integer("price_band_bps", c.risk.priceBandBps, 1, 100000);
    s.finish();
  }
  {
    Section s(root, "strategy", path);
    s.choice("kind", c.strategyKind,
             {{"momentum", StrategyKind::Momentum}, {"market_maker", StrategyKind::MarketMaker}});
    s.subTable("market_maker");
    s.integer("lookback", c.strategy.lookback, 2, 64);
    s.integer("threshold_ticks", c.strategy.thresholdTicks, 1, 1000000);
    s.integer("order_qty", c.strategy.orderQty, 1, kU32);
    long long cooldownMs = static_cast<long long>(c.strategy.cooldownNs / 1'000'000);
    s.integer("cooldown_ms", cooldownMs, 0, 3600000);
    c.strategy.cooldownNs = static_cast<std::uint64_t>(cooldownMs) * 1'000'000ULL;
    // threshold_ticks (<= 1e6) and aggress_ticks times tick_size must fit an i64.
    s.integer("tick_size", c.strategy.tickSize, 1, 1'000'000'000'000);
    s.integer("max_position", c.strategy.maxPosition, 0, kI64);
    s.boolean("ioc", c.strategy.ioc);
    s.integer("aggress_ticks", c.strategy.aggressTicks, 0, 1000);
    s.finish();
    c.marketMaker.tickSize = c.strategy.tickSize;
    if (const toml::table* strategy = s.table()) {
      Section m(*strategy, "market_maker", "strategy.market_maker", path);
      auto& mm = c.marketMaker;
      m.integer("order_qty", mm.orderQty, 1, kU32);
      m.integer("half_spread_ticks", mm.halfSpreadTicks, 1, 1000);
      m.integer("skew_ticks", mm.skewTicks, 0, 1000);
      m.integer("requote_ticks", mm.requoteTicks, 1, 1000000);
      long long requoteMs = static_cast<long long>(mm.minRequoteNs / 1'000'000);
      m.integer("min_requote_ms", requoteMs, 1, 3600000);
      mm.minRequoteNs = static_cast<std::uint64_t>(requoteMs) * 1'000'000ULL;
      // Positions stay far inside i64 so the skew arithmetic has room.
      m.integer("max_position", mm.maxPosition, 0, 1'000'000'000);
      m.finish();
    }
  }
  validate(c);
  return c;
}

void validate(const HftdConfig& c) {
  const std::string file = c.path.empty() ? "configuration" : c.path;
  if (c.cpu.networkCore == c.cpu.strategyCore)
    throw ConfigError(file + ": [cpu] network_core and strategy_core are both " +
                      std::to_string(c.cpu.networkCore) +
                      ": the two workers each need a core of their own");
  if (c.exchange.reconnectMaxMs < c.exchange.reconnectInitialMs)
    throw ConfigError(
        file + ": [exchange] reconnect_max_ms (" + std::to_string(c.exchange.reconnectMaxMs) +
        ") is below reconnect_initial_ms (" + std::to_string(c.exchange.reconnectInitialMs) + ")");
  if (c.strategy.orderQty > c.risk.maxOrderQty)
    throw ConfigError(file + ": [strategy] order_qty (" + std::to_string(c.strategy.orderQty) +
                      ") exceeds [risk] max_order_qty (" + std::to_string(c.risk.maxOrderQty) +
                      "): every order would be refused");
  if (c.marketMaker.orderQty > c.risk.maxOrderQty)
    throw ConfigError(file + ": [strategy.market_maker] order_qty (" +
                      std::to_string(c.marketMaker.orderQty) + ") exceeds [risk] max_order_qty (" +
                      std::to_string(c.risk.maxOrderQty) +
                      "): every quote would be refused; lower order_qty or raise max_order_qty");
  if (c.session.directory.empty() || c.session.directory.front() != '/')
    throw ConfigError(file + ": [session] directory must be an absolute path");
  if ((c.session.journalRing & (c.session.journalRing - 1)) != 0)
    throw ConfigError(file + ": [session] journal_ring (" + std::to_string(c.session.journalRing) +
                      ") must be a power of two, such as 65536");
  if (c.control.socket.empty() || c.control.socket.front() != '/')
    throw ConfigError(file + ": [control] socket must be an absolute path");
}

HftdConfig loadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw ConfigError(path + ": cannot read the configuration file (" +
                      std::string(std::strerror(errno)) +
                      "); pass --config FILE or install conf/hftd.toml to /etc/hft/hftd.toml");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parseConfig(buffer.str(), path);
}

ReloadPlan planReload(const HftdConfig& a, const HftdConfig& b) {
  ReloadPlan plan;
  auto note = [](std::vector<std::string>& list, bool changed, const char* name) {
    if (changed)
      list.emplace_back(name);
  };
  // Applied at run time: the strategy thread picks these up between events.
  note(plan.applied, a.risk.maxOrderQty != b.risk.maxOrderQty, "risk.max_order_qty");
  note(plan.applied, a.risk.maxPosition != b.risk.maxPosition, "risk.max_position");
  note(plan.applied, a.risk.maxOpenOrders != b.risk.maxOpenOrders, "risk.max_open_orders");
  note(plan.applied, a.risk.maxOrdersPerSecond != b.risk.maxOrdersPerSecond,
       "risk.max_orders_per_second");
  note(plan.applied, a.risk.priceBandBps != b.risk.priceBandBps, "risk.price_band_bps");
  note(plan.applied, a.strategy.lookback != b.strategy.lookback, "strategy.lookback");
  note(plan.applied, a.strategy.thresholdTicks != b.strategy.thresholdTicks,
       "strategy.threshold_ticks");
  note(plan.applied, a.strategy.orderQty != b.strategy.orderQty, "strategy.order_qty");
  note(plan.applied, a.strategy.cooldownNs != b.strategy.cooldownNs, "strategy.cooldown_ms");
  note(plan.applied, a.strategy.tickSize != b.strategy.tickSize, "strategy.tick_size");
  note(plan.applied, a.strategy.maxPosition != b.strategy.maxPosition, "strategy.max_position");
  note(plan.applied, a.strategy.ioc != b.strategy.ioc, "strategy.ioc");
  note(plan.applied, a.strategy.aggressTicks != b.strategy.aggressTicks, "strategy.aggress_ticks");
  {
    const auto& x = a.marketMaker;
    const auto& y = b.marketMaker;
    note(plan.applied, x.orderQty != y.orderQty, "strategy.market_maker.order_qty");
    note(plan.applied, x.halfSpreadTicks != y.halfSpreadTicks,
         "strategy.market_maker.half_spread_ticks");
    note(plan.applied, x.skewTicks != y.skewTicks, "strategy.market_maker.skew_ticks");
    note(plan.applied, x.requoteTicks != y.requoteTicks, "strategy.market_maker.requote_ticks");
    note(plan.applied, x.minRequoteNs != y.minRequoteNs, "strategy.market_maker.min_requote_ms");
    note(plan.applied, x.maxPosition != y.maxPosition, "strategy.market_maker.max_position");
  }
  note(plan.applied, a.log.level != b.log.level, "log.level");
  note(plan.applied, a.session.durationSec != b.session.durationSec, "session.duration_sec");
  note(plan.applied, a.session.directory != b.session.directory, "session.directory");
  note(plan.applied, a.session.onDiskFull != b.session.onDiskFull,
       "session.on_disk_full (next session)");
  note(plan.applied, a.session.journalReserveMib != b.session.journalReserveMib,
       "session.journal_reserve_mib (next session)");
  note(plan.applied, a.session.recordMarketData != b.session.recordMarketData,
       "session.record_market_data (next session)");
  note(plan.applied, a.exchange.host != b.exchange.host || a.exchange.port != b.exchange.port,
       "exchange.host/port (next session)");
  note(plan.applied, a.exchange.account != b.exchange.account, "exchange.account (next session)");
  note(plan.applied, a.exchange.heartbeatMs != b.exchange.heartbeatMs,
       "exchange.heartbeat_ms (next session)");
  note(plan.applied, a.exchange.mdTransport != b.exchange.mdTransport,
       "exchange.md_transport (next session)");
  note(plan.applied,
       a.exchange.udpFeedAddress != b.exchange.udpFeedAddress ||
           a.exchange.udpFeedPort != b.exchange.udpFeedPort,
       "exchange.udp_feed (next session)");
  note(plan.applied, a.exchange.udpBusyPollUs != b.exchange.udpBusyPollUs,
       "exchange.udp_busy_poll_us (next session)");
  note(plan.applied, a.exchange.xdpQueue != b.exchange.xdpQueue,
       "exchange.xdp_queue (next session)");
  note(plan.applied, a.exchange.xdpMode != b.exchange.xdpMode, "exchange.xdp_mode (next session)");
  note(plan.applied, a.exchange.xdpFallbackUdp != b.exchange.xdpFallbackUdp,
       "exchange.xdp_fallback_udp (next session)");
  // Fixed at start-up: threads, pinning, memory and the control socket.
  note(plan.needsRestart, a.cpu.networkCore != b.cpu.networkCore, "cpu.network_core");
  note(plan.needsRestart, a.cpu.strategyCore != b.cpu.strategyCore, "cpu.strategy_core");
  note(plan.needsRestart, a.cpu.pollMode != b.cpu.pollMode, "cpu.poll_mode");
  note(plan.needsRestart, a.cpu.fifoPriority != b.cpu.fifoPriority, "cpu.fifo_priority");
  note(plan.needsRestart, a.cpu.lockMemory != b.cpu.lockMemory, "cpu.lock_memory");
  note(plan.needsRestart, a.cpu.hugePages != b.cpu.hugePages, "cpu.huge_pages");
  note(plan.needsRestart, a.engine.layout != b.engine.layout, "engine.layout");
  note(plan.needsRestart, a.engine.warmIntervalUs != b.engine.warmIntervalUs,
       "engine.warm_interval_us");
  // The strategy's state (quotes, windows) belongs to its kind: the running one stays.
  note(plan.needsRestart, a.strategyKind != b.strategyKind, "strategy.kind");
  note(plan.needsRestart, a.network.kernelTimestamps != b.network.kernelTimestamps,
       "network.kernel_timestamps");
  note(plan.needsRestart, a.control.socket != b.control.socket, "control.socket");
  note(plan.needsRestart, a.control.maxConnections != b.control.maxConnections,
       "control.max_connections");
  note(plan.needsRestart, a.control.idleTimeoutMs != b.control.idleTimeoutMs,
       "control.idle_timeout_ms");
  note(plan.needsRestart, a.exchange.interface != b.exchange.interface, "exchange.interface");
  note(plan.needsRestart, a.session.autostart != b.session.autostart, "session.autostart");
  note(plan.needsRestart, a.session.journalRing != b.session.journalRing, "session.journal_ring");
  return plan;
}

} // namespace hft::config

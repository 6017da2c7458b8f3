// SPDX-License-Identifier: MIT
// exchange-sim's settings: one table of every key, read from TOML and from the flags alike.
#include "exchange-sim/options/sim_options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "libhft/core/endpoint.h"
#include "libhft/core/options.h"

namespace hft::options {

namespace {

enum class Kind : std::uint8_t {
  Integer,
  Number,
  String,
  Boolean,
  StringList,
  Address,
  Endpoint,
  Jitter, // a string: none, uniform or exponential
};

using Value = std::variant<std::uint64_t, double, std::string, bool, std::vector<std::string>>;

// One setting: where it lives in the TOML file, its flag (if any), its type and range.
struct Setting {
  std::string_view section;
  std::string_view key;
  std::string_view flag; // "" when only the file sets it
  Kind kind;
  double min;
  double max;
  std::string_view help;
  void (*apply)(SimOptions&, const Value&);
};

template <typename T> T as(const Value& v) {
  if constexpr (std::is_same_v<T, double>)
    return std::holds_alternative<double>(v) ? std::get<double>(v)
                                             : static_cast<double>(std::get<std::uint64_t>(v));
  else
    return static_cast<T>(std::get<std::uint64_t>(v));
}

constexpr double kU32Max = 4294967295.0;
constexpr double kMaxDelayUs = 10'000'000; // 10 s: market::LatencyModel::kMaxDelayNs

std::optional<market::Jitter> parseJitter(std::string_view text) {
  if (text == "none")
    return market::Jitter::None;
  if (text == "uniform")
    return market::Jitter::Uniform;
  if (text == "exponential")
    return market::Jitter::Exponential;
  return std::nullopt;
}

// Every key of conf/exchange-sim.toml; keep the two (and docs/exchange-sim.md) in step.
const std::array kSettings = {
    Setting{"server", "bind", "--bind", Kind::Address, 0, 0, "IPv4 or IPv6 address to listen on",
            [](SimOptions& o, const Value& v) { o.server.bind = std::get<std::string>(v); }},
    Setting{"server", "port", "--port", Kind::Integer, 0, 65535,
            "TCP port; 0 picks a free one (the log says which)",
            [](SimOptions& o, const Value& v) { o.server.port = as<std::uint16_t>(v); }},
    Setting{"server", "max_sessions", "", Kind::Integer, 1, 4096, "concurrent connections",
            [](SimOptions& o, const Value& v) { o.server.maxSessions = as<std::uint32_t>(v); }},
    Setting{"server", "output_buffer_bytes", "", Kind::Integer, 16384, 1 << 30,
            "per-session send buffer; a client that lets it fill is disconnected",
            [](SimOptions& o, const Value& v) { o.server.outputBufferBytes = as<std::size_t>(v); }},
    Setting{
        "server", "heartbeat_ms", "", Kind::Integer, 1, 3'600'000,
        "heartbeat interval given to a LOGON that asks for 0",
        [](SimOptions& o, const Value& v) { o.server.defaultHeartbeatMs = as<std::uint32_t>(v); }},
    Setting{"server", "min_heartbeat_ms", "", Kind::Integer, 1, 3'600'000,
            "smallest heartbeat interval granted",
            [](SimOptions& o, const Value& v) { o.server.minHeartbeatMs = as<std::uint32_t>(v); }},
    Setting{"server", "max_heartbeat_ms", "", Kind::Integer, 1, 3'600'000,
            "largest heartbeat interval granted",
            [](SimOptions& o, const Value& v) { o.server.maxHeartbeatMs = as<std::uint32_t>(v); }},
    Setting{"server", "accounts", "", Kind::StringList, 0, 0,
            "accounts allowed to log on; empty = any",
            [](SimOptions& o, const Value& v) {
              o.server.accounts = std::get<std::vector<std::string>>(v);
            }},
    Setting{"server", "shutdown_grace_ms", "", Kind::Integer, 0, 60'000,
            "time to deliver LOGOUT before closing a connection anyway",
            [](SimOptions& o, const Value& v) { o.server.shutdownGraceMs = as<std::uint32_t>(v); }},
    Setting{"server", "udp_feed", "--udp-feed", Kind::Endpoint, 0, 0,
            "market data also as UDP datagrams to this IPv4 host or group; \"\" = none",
            [](SimOptions& o, const Value& v) { o.server.udpFeed = std::get<std::string>(v); }},
    Setting{"server", "udp_feed_only", "--udp-feed-only", Kind::Boolean, 0, 0,
            "market data on the UDP feed only, none on TCP (orders stay on TCP)",
            [](SimOptions& o, const Value& v) { o.server.udpFeedOnly = std::get<bool>(v); }},
    Setting{
        "server", "udp_interface", "--udp-interface", Kind::String, 0, 0,
        "multicast: the interface the feed leaves by; \"\" = the routes' choice",
        [](SimOptions& o, const Value& v) { o.server.udpInterface = std::get<std::string>(v); }},
    Setting{"server", "udp_max_payload", "", Kind::Integer, 1048, 65507,
            "largest datagram payload: frames are packed up to it (1472 fills a 1500 MTU)",
            [](SimOptions& o, const Value& v) { o.server.udpMaxPayload = as<std::size_t>(v); }},
    Setting{"server", "udp_ttl", "", Kind::Integer, 0, 255,
            "multicast TTL (1 stays on the local network)",
            [](SimOptions& o, const Value& v) { o.server.udpTtl = as<std::uint32_t>(v); }},
    Setting{"market", "symbols", "--symbols", Kind::Integer, 1, 10'000,
            "number of symbols (ids 1..N)",
            [](SimOptions& o, const Value& v) { o.market.symbols = as<std::uint32_t>(v); }},
    Setting{"market", "depth", "--depth", Kind::Integer, 1, market::kMaxDepth,
            "ladder levels per side",
            [](SimOptions& o, const Value& v) { o.market.depth = as<std::uint32_t>(v); }},
    Setting{"market", "tick_rate_ms", "--tick-rate", Kind::Integer, 0, 3'600'000,
            "milliseconds between ticks; 0 = as fast as the clients read",
            [](SimOptions& o, const Value& v) { o.server.tickIntervalMs = as<std::uint32_t>(v); }},
    Setting{"market", "tick_size", "", Kind::Integer, 1, 1e12,
            "price increment in 1e-4 units (100 = 0.01)",
            [](SimOptions& o, const Value& v) { o.market.tickSize = as<std::int64_t>(v); }},
    Setting{"market", "start_price", "", Kind::Integer, 1, 1e15,
            "every symbol's first mid, in 1e-4 units (1000000 = 100.00)",
            [](SimOptions& o, const Value& v) { o.market.startPrice = as<std::int64_t>(v); }},
    Setting{"market", "volatility_ticks", "", Kind::Number, 0, 1000,
            "standard deviation of the mid's move per tick, in ticks",
            [](SimOptions& o, const Value& v) { o.market.volatilityTicks = as<double>(v); }},
    Setting{"market", "min_spread_ticks", "", Kind::Integer, 1, 1'000'000,
            "narrowest spread, in ticks",
            [](SimOptions& o, const Value& v) { o.market.minSpreadTicks = as<std::uint32_t>(v); }},
    Setting{"market", "max_spread_ticks", "", Kind::Integer, 1, 1'000'000,
            "widest spread, in ticks",
            [](SimOptions& o, const Value& v) { o.market.maxSpreadTicks = as<std::uint32_t>(v); }},
    Setting{"market", "min_level_qty", "", Kind::Integer, 1, kU32Max,
            "smallest displayed quantity of a level",
            [](SimOptions& o, const Value& v) { o.market.minLevelQty = as<std::uint32_t>(v); }},
    Setting{"market", "max_level_qty", "", Kind::Integer, 1, kU32Max,
            "largest displayed quantity of a level",
            [](SimOptions& o, const Value& v) { o.market.maxLevelQty = as<std::uint32_t>(v); }},
    Setting{"market", "seed", "--seed", Kind::Integer, 0, 1.8446744073709552e19,
            "PRNG seed: the same seed gives the same market and fill decisions",
            [](SimOptions& o, const Value& v) {
              o.market.seed = as<std::uint64_t>(v);
              o.matching.seed = as<std::uint64_t>(v);
              o.server.latencySeed = as<std::uint64_t>(v);
            }},
    Setting{"market", "replay_file", "--replay", Kind::String, 0, 0,
            "play this market-data recording instead of the random walk; \"\" = the walk",
            [](SimOptions& o, const Value& v) { o.replayFile = std::get<std::string>(v); }},
    Setting{
        "market", "replay_speed", "--speed", Kind::Number, 0, 1e6,
        "replay pacing: 1 = as recorded, N = N times faster, 0 or max = as fast as clients read",
        [](SimOptions& o, const Value& v) { o.replaySpeed = as<double>(v); }},
    Setting{"orders", "fill_prob", "--fill-prob", Kind::Number, 0, 100,
            "percent chance that a marketable order fills",
            [](SimOptions& o, const Value& v) { o.matching.fillProbPercent = as<double>(v); }},
    Setting{"orders", "max_order_qty", "", Kind::Integer, 1, kU32Max,
            "larger orders are rejected (reason 3)",
            [](SimOptions& o, const Value& v) { o.matching.maxOrderQty = as<std::uint32_t>(v); }},
    Setting{
        "orders", "max_orders_per_sec", "", Kind::Integer, 0, kU32Max,
        "per session, beyond it orders are rejected (reason 8); 0 = no limit",
        [](SimOptions& o, const Value& v) { o.matching.maxOrdersPerSec = as<std::uint32_t>(v); }},
    Setting{"orders", "max_open_orders", "", Kind::Integer, 1, 10'000'000,
            "resting orders per session; a DAY order beyond it is rejected (reason 99)",
            [](SimOptions& o, const Value& v) { o.matching.maxOpenOrders = as<std::uint32_t>(v); }},
    Setting{"latency", "order_delay_us", "--order-delay-us", Kind::Integer, 0, kMaxDelayUs,
            "constant delay before an order or cancel is acted on, in microseconds",
            [](SimOptions& o, const Value& v) {
              o.server.orderLatency.constantNs = as<std::uint64_t>(v) * 1000;
            }},
    Setting{"latency", "order_jitter", "--order-jitter", Kind::Jitter, 0, 0,
            "order-entry jitter: none, uniform (0..jitter_us) or exponential (mean jitter_us)",
            [](SimOptions& o, const Value& v) {
              o.server.orderLatency.jitter = *parseJitter(std::get<std::string>(v));
            }},
    Setting{"latency", "order_jitter_us", "--order-jitter-us", Kind::Integer, 0, kMaxDelayUs,
            "order-entry jitter size in microseconds (uniform: the maximum; exponential: the mean)",
            [](SimOptions& o, const Value& v) {
              o.server.orderLatency.jitterNs = as<std::uint64_t>(v) * 1000;
            }},
    Setting{
        "latency", "order_spike_prob", "--order-spike-prob", Kind::Number, 0, 100,
        "percent chance that an order's delay also gets a spike",
        [](SimOptions& o, const Value& v) { o.server.orderLatency.spikePercent = as<double>(v); }},
    Setting{"latency", "order_spike_us", "--order-spike-us", Kind::Integer, 0, kMaxDelayUs,
            "size of an order-entry spike in microseconds",
            [](SimOptions& o,
               const Value& v) { o.server.orderLatency.spikeNs = as<std::uint64_t>(v) * 1000; }},
    Setting{"latency", "md_delay_us", "--md-delay-us", Kind::Integer, 0, kMaxDelayUs,
            "constant delay before a tick's market data is published, in microseconds",
            [](SimOptions& o, const Value& v) {
              o.server.mdLatency.constantNs = as<std::uint64_t>(v) * 1000;
            }},
    Setting{"latency", "md_jitter", "--md-jitter", Kind::Jitter, 0, 0,
            "market-data jitter: none, uniform (0..jitter_us) or exponential (mean jitter_us)",
            [](SimOptions& o, const Value& v) {
              o.server.mdLatency.jitter = *parseJitter(std::get<std::string>(v));
            }},
    Setting{"latency", "md_jitter_us", "--md-jitter-us", Kind::Integer, 0, kMaxDelayUs,
            "market-data jitter size in microseconds (uniform: the maximum; exponential: the mean)",
            [](SimOptions& o, const Value& v) {
              o.server.mdLatency.jitterNs = as<std::uint64_t>(v) * 1000;
            }},
    Setting{"latency", "md_spike_prob", "--md-spike-prob", Kind::Number, 0, 100,
            "percent chance that a tick's publication delay also gets a spike",
            [](SimOptions& o, const Value& v) { o.server.mdLatency.spikePercent = as<double>(v); }},
    Setting{"latency", "md_spike_us", "--md-spike-us", Kind::Integer, 0, kMaxDelayUs,
            "size of a market-data spike in microseconds",
            [](SimOptions& o,
               const Value& v) { o.server.mdLatency.spikeNs = as<std::uint64_t>(v) * 1000; }},
    Setting{"output", "stats_file", "--stats-file", Kind::String, 0, 0,
            "JSON file of every counter, written at exit",
            [](SimOptions& o, const Value& v) { o.statsFile = std::get<std::string>(v); }},
    Setting{"output", "record_file", "--record", Kind::String, 0, 0,
            "write every published MARKET_DATA frame to this recording (for --replay)",
            [](SimOptions& o, const Value& v) { o.server.recordFile = std::get<std::string>(v); }},
    Setting{"output", "samples_file", "--samples-file", Kind::String, 0, 0,
            "CSV of one row per NEW_ORDER: recv_ns,cl_ord_id,symbol_id,tick_to_trade_ns",
            [](SimOptions& o, const Value& v) { o.server.samplesFile = std::get<std::string>(v); }},
    Setting{"output", "samples_capacity", "", Kind::Integer, 1, 100'000'000,
            "samples buffered in memory between writes",
            [](SimOptions& o, const Value& v) { o.server.samplesCapacity = as<std::size_t>(v); }},
    Setting{"log", "verbose", "--verbose", Kind::Boolean, 0, 0,
            "log every order and execution (debug level)",
            [](SimOptions& o, const Value& v) { o.verbose = std::get<bool>(v); }},
};

constexpr std::array<std::string_view, 6> kSections = {"server",  "market", "orders",
                                                       "latency", "output", "log"};

std::string rangeText(const Setting& s) {
  if (s.kind == Kind::Number)
    return fmt::format("a number from {} to {}", s.min, s.max);
  // The seed's bound is 2^64 as a double, one past what a u64 holds: it means u64 max.
  const std::uint64_t max = s.max < 1.8e19 ? static_cast<std::uint64_t>(s.max)
                                           : std::numeric_limits<std::uint64_t>::max();
  return fmt::format("an integer from {} to {}", static_cast<std::uint64_t>(s.min), max);
}

std::string expected(const Setting& s) {
  switch (s.kind) {
  case Kind::Integer:
  case Kind::Number: return rangeText(s);
  case Kind::String: return "a string";
  case Kind::Boolean: return "true or false";
  case Kind::StringList: return "an array of strings, e.g. [\"hft\"]";
  case Kind::Address: return "a numeric IPv4 or IPv6 address, e.g. \"127.0.0.1\"";
  case Kind::Endpoint: return "\"IPV4-ADDRESS:PORT\", e.g. \"239.1.1.1:9001\", or \"\"";
  case Kind::Jitter: return "one of \"none\", \"uniform\", \"exponential\"";
  }
  return "";
}

bool validAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// Checks a value against the setting's range; returns the problem or "".
std::string checkRange(const Setting& s, const Value& v) {
  if (s.kind == Kind::Integer) {
    const auto n = std::get<std::uint64_t>(v);
    // Compare as doubles only where the bound is exact; u64 max needs no check.
    if (static_cast<double>(n) < s.min || (s.max < 1.8e19 && static_cast<double>(n) > s.max))
      return "must be " + rangeText(s);
  } else if (s.kind == Kind::Number) {
    const double d = as<double>(v);
    if (!(d >= s.min && d <= s.max))
      return "must be " + rangeText(s);
  } else if (s.kind == Kind::Address && !validAddress(std::get<std::string>(v))) {
    return "must be " + expected(s);
  } else if (s.kind == Kind::Endpoint && !std::get<std::string>(v).empty()) {
    std::string address;
    std::uint16_t port = 0;
    if (!core::parseIpv4Endpoint(std::get<std::string>(v), address, port))
      return "must be " + expected(s);
  } else if (s.kind == Kind::Jitter && !parseJitter(std::get<std::string>(v))) {
    return "must be " + expected(s);
  }
  return "";
}

const Setting* findSetting(std::string_view section, std::string_view key) {
  for (const auto& s : kSettings)
    if (s.section == section && s.key == key)
      return &s;
  return nullptr;
}

std::string knownKeys(std::string_view section) {
  std::string out;
  for (const auto& s : kSettings)
    if (s.section == section)
      out += (out.empty() ? "" : ", ") + std::string(s.key);
  return out;
}

std::string where(const std::string& path, const toml::source_region& src) {
  return fmt::format("{}:{}:{}", path, src.begin.line, src.begin.column);
}

std::string_view typeName(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::string: return "a string";
  case toml::node_type::integer: return "an integer";
  case toml::node_type::floating_point: return "a floating-point number";
  case toml::node_type::boolean: return "a boolean";
  case toml::node_type::array: return "an array";
  case toml::node_type::table: return "a table";
  case toml::node_type::date: return "a date";
  case toml::node_type::time: return "a time";
  case toml::node_type::date_time: return "a date-time";
  case toml::node_type::none: break;
  }
  return "nothing";
}

// The TOML node as the setting's type, or nullopt when the type is wrong.
std::optional<Value> fromToml(const Setting& s, const toml::node& node) {
  switch (s.kind) {
  case Kind::Integer:
    if (const auto* i = node.as_integer(); i != nullptr && i->get() >= 0)
      return Value{static_cast<std::uint64_t>(i->get())};
    return std::nullopt;
  case Kind::Number:
    if (const auto* i = node.as_integer())
      return Value{static_cast<double>(i->get())};
    if (const auto* f = node.as_floating_point())
      return Value{f->get()};
    return std::nullopt;
  case Kind::String:
  case Kind::Address:
  case Kind::Endpoint:
  case Kind::Jitter:
    if (const auto* str = node.as_string())
      return Value{str->get()};
    return std::nullopt;
  case Kind::Boolean:
    if (const auto* b = node.as_boolean())
      return Value{b->get()};
    return std::nullopt;
  case Kind::StringList:
    if (const auto* arr = node.as_array()) {
      std::vector<std::string> out;
      for (const auto& el : *arr) {
        const auto* str = el.as_string();
        if (str == nullptr)
          return std::nullopt;
        out.push_back(str->get());
      }
      return Value{std::move(out)};
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// How --help names a flag's value, and a value that would work.
struct FlagHint {
  std::string_view flag, metavar, example;
};
constexpr std::array<FlagHint, 24> kFlagHints = {{
    {"--md-delay-us", "US", "1000"},
    {"--md-jitter", "KIND", "uniform"},
    {"--md-jitter-us", "US", "200"},
    {"--md-spike-prob", "PERCENT", "1"},
    {"--md-spike-us", "US", "5000"},
    {"--replay", "FILE", "/tmp/md.rec"},
    {"--speed", "N|max", "1"},
    {"--record", "FILE", "/tmp/md.rec"},
    {"--order-delay-us", "US", "10000"},
    {"--order-jitter", "KIND", "exponential"},
    {"--order-jitter-us", "US", "500"},
    {"--order-spike-prob", "PERCENT", "1"},
    {"--order-spike-us", "US", "5000"},
    {"--udp-feed", "ADDR:PORT", "239.1.1.1:9001"},
    {"--udp-interface", "NAME", "eth0"},
    {"--bind", "ADDR", "127.0.0.1"},
    {"--port", "PORT", "9000"},
    {"--symbols", "N", "4"},
    {"--depth", "LEVELS", "5"},
    {"--tick-rate", "MS", "10"},
    {"--seed", "N", "1"},
    {"--fill-prob", "PERCENT", "80"},
    {"--stats-file", "PATH", "/tmp/exchange-sim-stats.json"},
    {"--samples-file", "PATH", "/tmp/exchange-sim-samples.csv"},
}};

FlagHint hintFor(std::string_view flag) {
  for (const auto& h : kFlagHints)
    if (h.flag == flag)
      return h;
  return {flag, "VALUE", "..."};
}

// A flag's text as the setting's type; throws UsageError.
Value fromFlag(const Setting& s, std::string_view flag, std::string_view text) {
  auto bad = [&](const std::string& why) {
    return UsageError(fmt::format("invalid value '{}' for {}: {}, e.g. {} {}", text, flag, why,
                                  flag, hintFor(flag).example));
  };
  const char* end = text.data() + text.size();
  switch (s.kind) {
  case Kind::Integer: {
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(text.data(), end, n);
    if (text.empty() || ec != std::errc() || p != end)
      throw bad("expected " + rangeText(s));
    return Value{n};
  }
  case Kind::Number: {
    if (flag == "--speed" && text == "max")
      return Value{0.0};
    double d = 0;
    const auto [p, ec] = std::from_chars(text.data(), end, d);
    if (text.empty() || ec != std::errc() || p != end)
      throw bad("expected " + rangeText(s));
    return Value{d};
  }
  case Kind::String:
    if (text.empty())
      throw bad("expected a file path");
    return Value{std::string(text)};
  case Kind::Address:
  case Kind::Jitter: return Value{std::string(text)}; // checkRange names the kinds
  case Kind::Endpoint:
    if (text.empty())
      throw bad("expected " + expected(s));
    return Value{std::string(text)};
  case Kind::Boolean: return Value{true};
  case Kind::StringList: return Value{std::vector<std::string>{std::string(text)}};
  }
  return Value{std::string(text)};
}

// A contradiction between settings, and the key to point at.
struct Problem {
  std::string_view section;
  std::string key;
  std::string text; // "" when there is none
};

Problem findProblem(const SimOptions& o) {
  if (const std::string why = market::MarketModel::validate(o.market); !why.empty())
    return {"market", why.substr(0, why.find(' ')), why}; // each reason starts with its key
  if (!o.server.mdLatency.zero() && o.server.tickIntervalMs == 0)
    return {"latency", "md_delay_us",
            "a market-data delay needs ticks on a timer: set tick_rate_ms (--tick-rate) above 0 "
            "or the md_* delays to 0"};
  if (o.server.udpFeedOnly && o.server.udpFeed.empty())
    return {"server", "udp_feed_only",
            "udp_feed_only is set but udp_feed is empty: give the feed an address "
            "(udp_feed = \"ADDRESS:PORT\" or --udp-feed) or clients get no market data"};
  if (!o.server.udpFeed.empty() &&
      o.server.udpMaxPayload <
          protocol::marketDataSize(2 * static_cast<std::size_t>(o.market.depth)))
    return {"server", "udp_max_payload",
            fmt::format("udp_max_payload ({}) is below one snapshot of depth {} ({} bytes)",
                        o.server.udpMaxPayload, o.market.depth,
                        protocol::marketDataSize(2 * static_cast<std::size_t>(o.market.depth)))};
  if (o.server.minHeartbeatMs > o.server.maxHeartbeatMs)
    return {"server", "min_heartbeat_ms", "min_heartbeat_ms must not exceed max_heartbeat_ms"};
  // One tick's snapshots must fit twice over, or every client is a slow consumer.
  const std::size_t tickBytes =
      static_cast<std::size_t>(o.market.symbols) * protocol::marketDataSize(2 * o.market.depth);
  if (o.server.outputBufferBytes < 2 * tickBytes + protocol::kMaxFrameSize)
    return {"server", "output_buffer_bytes",
            fmt::format("output_buffer_bytes ({}) is too small for {} symbols of depth {}: raise "
                        "it to at least {} or lower symbols/depth",
                        o.server.outputBufferBytes, o.market.symbols, o.market.depth,
                        2 * tickBytes + protocol::kMaxFrameSize)};
  return {};
}

} // namespace

void applyConfig(SimOptions& options, std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(where(path, e.source()) + ": " + std::string(e.description()));
  }
  SimOptions next = options;
  for (const auto& [sectionKey, sectionNode] : root) {
    const std::string_view section = sectionKey.str();
    if (std::find(kSections.begin(), kSections.end(), section) == kSections.end())
      throw ConfigError(fmt::format("{}: unknown section '{}' (known sections: server, market, "
                                    "orders, latency, output, log)",
                                    where(path, sectionKey.source()), section));
    const toml::table* table = sectionNode.as_table();
    if (table == nullptr)
      throw ConfigError(fmt::format("{}: {} must be a table: write [{}] on a line of its own and "
                                    "its keys below it",
                                    where(path, sectionKey.source()), section, section));
    for (const auto& [key, node] : *table) {
      const Setting* s = findSetting(section, key.str());
      if (s == nullptr)
        throw ConfigError(fmt::format("{}: [{}] {}: unknown key (known keys of [{}]: {})",
                                      where(path, key.source()), section, key.str(), section,
                                      knownKeys(section)));
      const std::optional<Value> value = fromToml(*s, node);
      if (!value)
        throw ConfigError(fmt::format("{}: [{}] {}: expected {}, got {}",
                                      where(path, node.source()), section, key.str(), expected(*s),
                                      node.is_integer() ? "a negative integer" : typeName(node)));
      if (const std::string problem = checkRange(*s, *value); !problem.empty())
        throw ConfigError(fmt::format("{}: [{}] {}: {}", where(path, node.source()), section,
                                      key.str(), problem));
      s->apply(next, *value);
    }
  }
  if (const Problem p = findProblem(next); !p.text.empty()) {
    const toml::node* node = root[p.section][p.key].node();
    throw ConfigError(
        fmt::format("{}: [{}] {}", node ? where(path, node->source()) : path, p.section, p.text));
  }
  options = std::move(next);
}

void applyConfigFile(SimOptions& options, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(
        fmt::format("{}: cannot read the configuration file: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  applyConfig(options, text.str(), path);
}

std::string crossCheck(const SimOptions& o) {
  const Problem p = findProblem(o);
  return p.text.empty() ? "" : fmt::format("[{}] {}", p.section, p.text);
}

std::string usage() {
  std::string out =
      "Usage: exchange-sim [options]\n"
      "Mock exchange speaking HFT wire protocol v1 over TCP (and a UDP market data feed with\n"
      "--udp-feed): random-walk market data, orders, fills, heartbeats. Settings come from\n"
      "the defaults, then --config FILE, then the flags.\n\n"
      "Options:\n";
  for (const auto& s : kSettings) {
    if (s.flag.empty())
      continue;
    const std::string name =
        s.kind == Kind::Boolean
            ? (s.flag == "--verbose" ? std::string("-v, --verbose") : std::string(s.flag))
            : std::string(s.flag) + " " + std::string(hintFor(s.flag).metavar);
    out += fmt::format("  {:<22} {}\n  {:<22} ([{}] {})\n", name, s.help, "", s.section, s.key);
  }
  out += "  --config FILE          TOML settings (conf/exchange-sim.toml documents every key)\n"
         "  -h, --help             this help\n"
         "  --version              print the version\n\n"
         "Options are parsed by getopt_long(3): --name=VALUE works too, and a long name may be\n"
         "shortened to any prefix that names one option only.\n\n"
         "Exit codes: 0 stopped by SIGINT/SIGTERM, 1 failure at run time, 2 bad command line,\n"
         "78 bad configuration file.\n";
  return out;
}

CommandLine parseCommandLine(int argc, const char* const* argv) {
  CommandLine result;
  struct FlagValue {
    const Setting* setting;
    std::string flag;
    std::string value;
  };
  std::vector<FlagValue> given;
  bool help = false, version = false;
  try {
    // Every flag of kSettings (its index + kFirstSetting as id), then the three of our own.
    enum : int { OptHelp = 1, OptVersion, OptConfig, kFirstSetting };
    std::vector<core::OptionSpec> specs = {{"help", 'h', false, OptHelp},
                                           {"version", '\0', false, OptVersion},
                                           {"config", '\0', true, OptConfig}};
    for (std::size_t i = 0; i < kSettings.size(); ++i) {
      const Setting& s = kSettings[i];
      if (s.flag.empty())
        continue;
      specs.push_back({s.flag.substr(2), s.flag == "--verbose" ? 'v' : '\0',
                       s.kind != Kind::Boolean, kFirstSetting + static_cast<int>(i)});
    }
    core::ParsedArgs parsed;
    try {
      parsed = core::parseOptions(std::vector<std::string>(argv + 1, argv + argc), specs);
    } catch (const core::OptionError& e) {
      using ErrorKind = core::OptionError::Kind;
      const std::string& name = e.argument();
      switch (e.kind()) {
      case ErrorKind::MissingValue:
        throw UsageError(
            fmt::format("option '{}' needs a value, e.g. {} {}", name, name,
                        name == "--config" ? "conf/exchange-sim.toml" : hintFor(name).example));
      case ErrorKind::UnexpectedValue:
        throw UsageError(fmt::format("option '{}' is a switch and takes no value", name));
      case ErrorKind::Ambiguous:
        throw UsageError(fmt::format("option '{}' is ambiguous: it begins several options; run "
                                     "exchange-sim --help for the list",
                                     name));
      case ErrorKind::Unknown: break;
      }
      throw UsageError(fmt::format("unknown option '{}'; run exchange-sim --help for the list "
                                   "(other settings go in the --config file)",
                                   name));
    }
    if (!parsed.operands.empty())
      throw UsageError(fmt::format("unexpected argument '{}': every option is a --flag; see "
                                   "exchange-sim --help",
                                   parsed.operands.front()));
    for (core::ParsedOption& option : parsed.options) {
      if (option.id == OptHelp) {
        help = true;
      } else if (option.id == OptVersion) {
        version = true;
      } else if (option.id == OptConfig) {
        if (option.value->empty())
          throw UsageError(
              "option '--config' needs a file path, e.g. --config conf/exchange-sim.toml");
        result.options.configFile = *option.value;
      } else {
        const Setting& setting = kSettings[static_cast<std::size_t>(option.id - kFirstSetting)];
        // A switch: present means true. Messages name the flag as the table spells it.
        given.push_back({&setting, std::string(setting.flag),
                         setting.kind == Kind::Boolean ? "true" : std::move(*option.value)});
      }
    }
    if (help || version) {
      result.exit = true;
      result.output = help ? usage() : std::string("exchange-sim ") + HFT_VERSION + "\n";
      return result;
    }
    // Values are checked before the file is read: a typo on the command line is reported first.
    std::vector<Value> values;
    for (const auto& g : given) {
      Value v = fromFlag(*g.setting, g.flag, g.value);
      if (const std::string problem = checkRange(*g.setting, v); !problem.empty())
        throw UsageError(fmt::format("invalid value '{}' for {}: {}, e.g. {} {}", g.value, g.flag,
                                     problem, g.flag, hintFor(g.flag).example));
      values.push_back(std::move(v));
    }
    if (!result.options.configFile.empty()) {
      try {
        applyConfigFile(result.options, result.options.configFile);
      } catch (const ConfigError& e) {
        result.exit = true;
        result.exitCode = kExitConfig;
        result.error = fmt::format("exchange-sim: configuration refused: {}\n", e.what());
        return result;
      }
    }
    for (std::size_t i = 0; i < given.size(); ++i)
      given[i].setting->apply(result.options, values[i]);
    if (const std::string problem = crossCheck(result.options); !problem.empty())
      throw UsageError(problem + " (after the command-line flags)");
  } catch (const UsageError& e) {
    result.exit = true;
    result.exitCode = kExitUsage;
    result.error = fmt::format("exchange-sim: {}\n", e.what());
  }
  return result;
}

} // namespace hft::options

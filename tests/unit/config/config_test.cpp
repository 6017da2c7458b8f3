// SPDX-License-Identifier: MIT
// hftd configuration: every error path names file, line, column and key; defaults match
// the shipped conf/hftd.toml; reload planning; the command line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/config/command_line.h"
#include "daemon/config/hftd_config.h"

using namespace hft::config;

namespace {

std::string errorOf(const std::string& text) {
  try {
    (void)parseConfig(text, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("config: the shipped conf/hftd.toml is valid and equals the built-in defaults") {
  const HftdConfig shipped = loadConfig(HFT_SOURCE_ROOT "/conf/hftd.toml");
  const HftdConfig defaults;
  const auto plan = planReload(defaults, shipped);
  CHECK(plan.applied.empty());
  CHECK(plan.needsRestart.empty());
  CHECK(shipped.cpu.networkCore == 6);
  CHECK(shipped.cpu.strategyCore == 7);
  CHECK(shipped.risk.maxOrderQty == defaults.risk.maxOrderQty);
  CHECK(shipped.strategy.cooldownNs == defaults.strategy.cooldownNs);
  CHECK(shipped.session.autostart == Autostart::Interactive);
}

TEST_CASE("config: [engine] layout chooses run to completion or the pipeline") {
  CHECK(HftdConfig{}.engine.layout == EngineLayout::RunToCompletion);
  CHECK(parseConfig("[engine]\nlayout = \"pipeline\"\n", "test.toml").engine.layout ==
        EngineLayout::Pipeline);
  CHECK(parseConfig("[engine]\nlayout = \"run_to_completion\"\n", "test.toml").engine.layout ==
        EngineLayout::RunToCompletion);
  const std::string e = errorOf("[engine]\nlayout = \"threads\"\n");
  CHECK(contains(e, "test.toml:2:"));
  CHECK(contains(e, "\"threads\" is not one of"));
  HftdConfig pipeline;
  pipeline.engine.layout = EngineLayout::Pipeline;
  const auto plan = planReload(HftdConfig{}, pipeline);
  REQUIRE(plan.needsRestart.size() == 1);
  CHECK(plan.needsRestart[0] == "engine.layout");
}

TEST_CASE("config: [engine] warm_interval_us keeps the order path warm, 0 turns it off") {
  CHECK(HftdConfig{}.engine.warmIntervalUs == 100);
  CHECK(parseConfig("[engine]\nwarm_interval_us = 250\n", "test.toml").engine.warmIntervalUs ==
        250);
  CHECK(parseConfig("[engine]\nwarm_interval_us = 0\n", "test.toml").engine.warmIntervalUs == 0);
  const std::string e = errorOf("[engine]\nwarm_interval_us = 2000000\n");
  CHECK(contains(e, "test.toml:2:"));
  CHECK(contains(e, "out of range 0..1000000"));
  CHECK(contains(errorOf("[engine]\nwarm_interval_us = -1\n"), "out of range"));
  HftdConfig other;
  other.engine.warmIntervalUs = 0;
  const auto plan = planReload(HftdConfig{}, other);
  REQUIRE(plan.needsRestart.size() == 1);
  CHECK(plan.needsRestart[0] == "engine.warm_interval_us");
}

TEST_CASE("config: an unknown key is refused with file, line, column and key") {
  const std::string e = errorOf("[cpu]\nnetwork_core = 1\nnetwrk_core = 2\n");
  CHECK(contains(e, "test.toml:3:1"));
  CHECK(contains(e, "netwrk_core"));
  CHECK(contains(e, "unknown key"));
}

TEST_CASE("config: an unknown section is refused") {
  const std::string e = errorOf("[cpus]\nnetwork_core = 1\n");
  CHECK(contains(e, "test.toml:1:"));
  CHECK(contains(e, "cpus"));
}

TEST_CASE("config: a wrong type is refused with its location") {
  const std::string e = errorOf("[exchange]\nport = \"9000\"\n");
  CHECK(contains(e, "test.toml:2:"));
  CHECK(contains(e, "port"));
  CHECK(contains(e, "expected an integer, found a string"));
  CHECK(contains(errorOf("[cpu]\nlock_memory = 1\n"), "expected true or false"));
  CHECK(contains(errorOf("[exchange]\nhost = 127\n"), "expected a string"));
  CHECK(contains(errorOf("cpu = 3\n"), "must be a table"));
}

TEST_CASE("config: out-of-range values and bad choices are refused") {
  CHECK(contains(errorOf("[exchange]\nport = 70000\n"), "out of range 1..65535"));
  CHECK(contains(errorOf("[cpu]\nfifo_priority = 100\n"), "fifo_priority"));
  CHECK(contains(errorOf("[cpu]\npoll_mode = \"spin\"\n"), "\"spin\" is not one of"));
  CHECK(contains(errorOf("[session]\nautostart = \"maybe\"\n"), "autostart"));
  CHECK(contains(errorOf("[log]\nlevel = \"loud\"\n"), "level"));
  CHECK(contains(errorOf("[risk]\nmax_orders_per_second = 100000\n"), "max_orders_per_second"));
  CHECK(contains(errorOf("[exchange]\nhost = \"\"\n"), "must not be empty"));
  CHECK(contains(errorOf("[session]\non_disk_full = \"panic\"\n"), "\"panic\" is not one of"));
  CHECK(contains(errorOf("[session]\njournal_ring = 512\n"), "journal_ring"));
  CHECK(contains(errorOf("[session]\njournal_ring = 3000\n"), "must be a power of two"));
}

TEST_CASE("config: the disk-full policy, the journal reserve and ring are read") {
  const HftdConfig c = parseConfig("[session]\non_disk_full = \"keep_trading\"\n"
                                   "journal_reserve_mib = 2\njournal_ring = 1024\n",
                                   "test.toml");
  CHECK(c.session.onDiskFull == OnDiskFull::KeepTrading);
  CHECK(c.session.journalReserveMib == 2);
  CHECK(c.session.journalRing == 1024);
  CHECK(HftdConfig{}.session.onDiskFull == OnDiskFull::StopTrading);
  const auto plan = planReload(HftdConfig{}, c);
  CHECK(std::find(plan.needsRestart.begin(), plan.needsRestart.end(), "session.journal_ring") !=
        plan.needsRestart.end());
  CHECK(std::find(plan.applied.begin(), plan.applied.end(),
                  "session.on_disk_full (next session)") != plan.applied.end());
}

TEST_CASE("config: [network] kernel_timestamps defaults to true, is read, needs a restart") {
  CHECK(HftdConfig{}.network.kernelTimestamps);
  const HftdConfig c = parseConfig("[network]\nkernel_timestamps = false\n", "test.toml");
  CHECK_FALSE(c.network.kernelTimestamps);
  const std::string e = errorOf("[network]\nkernel_timestamps = 1\n");
  CHECK(contains(e, "kernel_timestamps"));
  CHECK(contains(e, "expected true or false"));
  CHECK(contains(errorOf("[network]\nkernel_stamps = true\n"), "kernel_stamps"));
  const auto plan = planReload(HftdConfig{}, c);
  CHECK(std::find(plan.needsRestart.begin(), plan.needsRestart.end(),
                  "network.kernel_timestamps") != plan.needsRestart.end());
}

TEST_CASE("config: record_market_data defaults to true, is read, and must be a boolean") {
  CHECK(HftdConfig{}.session.recordMarketData);
  const HftdConfig c = parseConfig("[session]\nrecord_market_data = false\n", "test.toml");
  CHECK_FALSE(c.session.recordMarketData);
  const std::string e = errorOf("[session]\nrecord_market_data = \"yes\"\n");
  CHECK(contains(e, "record_market_data"));
  CHECK(contains(e, "expected true or false"));
  const auto plan = planReload(HftdConfig{}, c);
  CHECK(std::find(plan.applied.begin(), plan.applied.end(),
                  "session.record_market_data (next session)") != plan.applied.end());
}

// Found by tests/fuzz (fuzz_hftd_config, UBSan): tick_size up to INT64_MAX was accepted, and
// the strategy's threshold_ticks * tick_size then overflowed.
TEST_CASE("config: tick_size is bounded so the strategy's prices fit an i64") {
  CHECK(contains(errorOf("[strategy]\ntick_size = 9223372036854775807\n"),
                 "out of range 1..1000000000000"));
  CHECK(errorOf("[strategy]\ntick_size = 1000000000000\nthreshold_ticks = 1000000\n"
                "aggress_ticks = 1000\n")
            .empty());
}

TEST_CASE("config: a TOML syntax error is located") {
  const std::string e = errorOf("[cpu]\nnetwork_core = = 1\n");
  CHECK(contains(e, "test.toml:2:"));
  CHECK(contains(e, "syntax"));
}

TEST_CASE("config: cross-field checks") {
  CHECK(contains(errorOf("[cpu]\nnetwork_core = 3\nstrategy_core = 3\n"), "both 3"));
  CHECK(contains(errorOf("[strategy]\norder_qty = 500\n"), "exceeds [risk] max_order_qty"));
  CHECK(contains(errorOf("[session]\ndirectory = \"relative\"\n"), "absolute"));
  CHECK(contains(errorOf("[exchange]\nreconnect_initial_ms = 900\nreconnect_max_ms = 800\n"),
                 "reconnect_max_ms"));
}

TEST_CASE("config: a missing file says how to fix it") {
  try {
    (void)loadConfig("/nonexistent/hftd.toml");
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(contains(e.what(), "/nonexistent/hftd.toml"));
    CHECK(contains(e.what(), "--config"));
  }
}

TEST_CASE("config: a reload applies risk and strategy, and names what needs a restart") {
  const HftdConfig a;
  HftdConfig b = a;
  b.risk.maxOrderQty = 50;
  b.strategy.thresholdTicks = 5;
  b.cpu.networkCore = 2;
  const auto plan = planReload(a, b);
  CHECK(plan.applied.size() == 2);
  CHECK(plan.applied[0] == "risk.max_order_qty");
  REQUIRE(plan.needsRestart.size() == 1);
  CHECK(plan.needsRestart[0] == "cpu.network_core");
}

TEST_CASE("command line: the seed's flags override the file") {
  const auto cmd =
      parseCommandLine({"--interface", "lo", "--network-core", "0", "--strategy-core", "1", "-v",
                        "--exchange", "127.0.0.1:9100", "--poll-mode", "yield", "--idle",
                        "--config", HFT_SOURCE_ROOT "/conf/hftd.toml"});
  const HftdConfig c = resolveConfig(cmd);
  CHECK(c.cpu.networkCore == 0);
  CHECK(c.cpu.strategyCore == 1);
  CHECK(c.exchange.port == 9100);
  CHECK(c.cpu.pollMode == PollMode::Yield);
  CHECK(c.session.autostart == Autostart::Never);
  CHECK(c.log.level == "debug");
}

TEST_CASE("command line: bad flags are usage errors that name the flag") {
  auto usage = [](std::vector<std::string> args) {
    try {
      (void)parseCommandLine(args);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(usage({"--bogus"}), "--bogus"));
  CHECK(contains(usage({"--network-core", "x"}), "--network-core"));
  CHECK(contains(usage({"--network-core"}), "needs a value"));
  CHECK(contains(usage({"--exchange", "nohostport"}), "HOST:PORT"));
  CHECK(contains(usage({"--poll-mode", "fast"}), "busy nor yield"));
}

TEST_CASE("command line: flags that break the configuration are config errors") {
  const auto cmd = parseCommandLine({"--network-core", "1", "--strategy-core", "1", "--config",
                                     HFT_SOURCE_ROOT "/conf/hftd.toml"});
  CHECK_THROWS_AS((void)resolveConfig(cmd), ConfigError);
}

TEST_CASE("config: md_transport, udp_feed and the AF_XDP keys are read and checked") {
  const HftdConfig c = parseConfig("[exchange]\nmd_transport = \"af_xdp\"\nudp_feed = "
                                   "\"239.1.2.3:9100\"\nxdp_queue = 3\nxdp_fallback_udp = true\n"
                                   "udp_busy_poll_us = 50\nxdp_mode = \"skb\"\n",
                                   "test.toml");
  CHECK(c.exchange.mdTransport == MdTransport::AfXdp);
  CHECK(c.exchange.udpFeedAddress == "239.1.2.3");
  CHECK(c.exchange.udpFeedPort == 9100);
  CHECK(c.exchange.xdpQueue == 3);
  CHECK(c.exchange.xdpFallbackUdp);
  CHECK(c.exchange.udpBusyPollUs == 50);
  CHECK(c.exchange.xdpMode == XdpMode::Skb);
  const HftdConfig defaults;
  CHECK(defaults.exchange.mdTransport == MdTransport::Tcp);
  CHECK(!defaults.exchange.xdpFallbackUdp);
  CHECK(defaults.exchange.xdpMode == XdpMode::Auto);
  CHECK(contains(errorOf("[exchange]\nxdp_mode = \"drv\"\n"), "\"auto\", \"native\", \"skb\""));

  CHECK(contains(errorOf("[exchange]\nmd_transport = \"dpdk\"\n"),
                 "not one of \"tcp\", \"udp\", \"af_xdp\""));
  CHECK(contains(errorOf("[exchange]\nudp_feed = \"9001\"\n"), "test.toml:2:"));
  CHECK(contains(errorOf("[exchange]\nudp_feed = \"host:9001\"\n"), "IPV4-ADDRESS:PORT"));
  CHECK(contains(errorOf("[exchange]\nudp_feed = \"::1:9001\"\n"), "udp_feed"));
  CHECK(contains(errorOf("[exchange]\nudp_feed = \"10.0.0.1:0\"\n"), "udp_feed"));
  CHECK(contains(errorOf("[exchange]\nudp_feed = \"10.0.0.1:65536\"\n"), "udp_feed"));
  CHECK(contains(errorOf("[exchange]\nxdp_queue = 64\n"), "out of range"));
  CHECK(contains(errorOf("[exchange]\nxdp_fallback_udp = 1\n"), "expected true or false"));
}

TEST_CASE("config: a reload takes a new md_transport and udp_feed at the next session") {
  const HftdConfig a;
  HftdConfig b = a;
  b.exchange.mdTransport = MdTransport::Udp;
  b.exchange.udpFeedPort = 9200;
  const auto plan = planReload(a, b);
  REQUIRE(plan.applied.size() == 2);
  CHECK(plan.applied[0] == "exchange.md_transport (next session)");
  CHECK(plan.applied[1] == "exchange.udp_feed (next session)");
  CHECK(plan.needsRestart.empty());
}

TEST_CASE("command line: --md-transport and --udp-feed override the file") {
  const auto cmd = parseCommandLine({"--md-transport", "udp", "--udp-feed=10.1.2.3:9300",
                                     "--config", HFT_SOURCE_ROOT "/conf/hftd.toml"});
  const HftdConfig c = resolveConfig(cmd);
  CHECK(c.exchange.mdTransport == MdTransport::Udp);
  CHECK(c.exchange.udpFeedAddress == "10.1.2.3");
  CHECK(c.exchange.udpFeedPort == 9300);
  CHECK(resolveConfig(parseCommandLine({"--md-transport", "af_xdp"})).exchange.mdTransport ==
        MdTransport::AfXdp);
  auto usage = [](std::vector<std::string> args) {
    try {
      (void)parseCommandLine(args);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(usage({"--md-transport", "xdp"}), "not tcp, udp or af_xdp"));
  CHECK(contains(usage({"--md-transport"}), "needs a value"));
  CHECK(contains(usage({"--udp-feed", "localhost:9001"}), "--udp-feed"));
  CHECK(contains(usageText(), "--md-transport"));
  CHECK(resolveConfig(parseCommandLine({"--xdp-queue", "5"})).exchange.xdpQueue == 5);
  CHECK(resolveConfig(parseCommandLine({})).exchange.xdpQueue == 0);
  CHECK(contains(usage({"--xdp-queue", "64"}), "--xdp-queue"));
  CHECK(contains(usageText(), "--xdp-queue"));
}

namespace {

// The shipped file, written where a test may change it.
struct TempConf {
  std::string path;
  explicit TempConf(const std::string& text) {
    char dir[] = "/tmp/hft-config-test-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    path = std::string(dir) + "/hftd.toml";
    write(text);
  }
  ~TempConf() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
  TempConf(const TempConf&) = delete;
  TempConf& operator=(const TempConf&) = delete;
  void write(const std::string& text) const { std::ofstream(path) << text; }
};

std::string shippedConf() {
  // Read through a stringstream: GCC 12 at -O2/-O3 misreports istreambuf_iterator's
  // constructor as a "potential null pointer dereference" (-Werror=null-dereference).
  std::ifstream in(HFT_SOURCE_ROOT "/conf/hftd.toml");
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST_CASE("reload: every flag keeps its precedence over the file, and only a real change is "
          "reported") {
  struct Flag {
    std::vector<std::string> args;
    bool (*holds)(const HftdConfig&);
  };
  // Each value differs from conf/hftd.toml's, so a reload that forgot the flag would show.
  const Flag flags[] = {
      {{"--interface", "veth-test"},
       [](const HftdConfig& c) { return c.exchange.interface == "veth-test"; }},
      {{"--network-core", "0", "--strategy-core", "1"},
       [](const HftdConfig& c) { return c.cpu.networkCore == 0 && c.cpu.strategyCore == 1; }},
      {{"--exchange", "127.0.0.1:19420"},
       [](const HftdConfig& c) {
         return c.exchange.host == "127.0.0.1" && c.exchange.port == 19420;
       }},
      {{"--socket", "/tmp/hft-test.sock"},
       [](const HftdConfig& c) { return c.control.socket == "/tmp/hft-test.sock"; }},
      {{"--sessions-dir", "/tmp/s"},
       [](const HftdConfig& c) { return c.session.directory == "/tmp/s"; }},
      {{"--poll-mode", "yield"},
       [](const HftdConfig& c) { return c.cpu.pollMode == PollMode::Yield; }},
      {{"--md-transport", "udp"},
       [](const HftdConfig& c) { return c.exchange.mdTransport == MdTransport::Udp; }},
      {{"--udp-feed", "127.0.0.1:19421"},
       [](const HftdConfig& c) { return c.exchange.udpFeedPort == 19421; }},
      {{"--xdp-queue", "3"}, [](const HftdConfig& c) { return c.exchange.xdpQueue == 3; }},
      {{"--idle"}, [](const HftdConfig& c) { return c.session.autostart == Autostart::Never; }},
      {{"--start-session"},
       [](const HftdConfig& c) { return c.session.autostart == Autostart::Always; }},
      {{"--duration", "42"}, [](const HftdConfig& c) { return c.session.durationSec == 42; }},
      {{"-v"}, [](const HftdConfig& c) { return c.log.level == "debug"; }},
  };
  const std::string shipped = shippedConf();
  REQUIRE(contains(shipped, "max_order_qty = 100"));
  for (const Flag& flag : flags) {
    CAPTURE(flag.args[0]);
    TempConf conf(shipped);
    std::vector<std::string> args = flag.args;
    args.insert(args.end(), {"--config", conf.path});
    const CommandLine cmd = parseCommandLine(args);
    const HftdConfig running = resolveConfig(cmd);
    REQUIRE(flag.holds(running));
    REQUIRE_FALSE(flag.holds(loadConfig(conf.path))); // the file alone says otherwise

    // The file unchanged: the flag still holds and nothing is reported.
    const HftdConfig same = reloadConfig(cmd, conf.path);
    CHECK(flag.holds(same));
    const auto unchanged = planReload(running, same);
    CHECK(unchanged.applied.empty());
    CHECK(unchanged.needsRestart.empty());

    // One key changed in the file: that key alone is reported, and the flag still holds.
    std::string edited = shipped;
    edited.replace(edited.find("max_order_qty = 100"), 19, "max_order_qty = 80");
    conf.write(edited);
    const HftdConfig next = reloadConfig(cmd, conf.path);
    CHECK(flag.holds(next));
    const auto plan = planReload(running, next);
    REQUIRE(plan.applied.size() == 1);
    CHECK(plan.applied[0] == "risk.max_order_qty");
    CHECK(plan.needsRestart.empty());
  }
}

TEST_CASE("reload: a bad file is refused as a ConfigError, the flags do not hide it") {
  TempConf conf("[risk]\nmax_order_qty = \"lots\"\n");
  const CommandLine cmd = parseCommandLine({"--exchange", "127.0.0.1:19420"});
  CHECK_THROWS_AS((void)reloadConfig(cmd, conf.path), ConfigError);
}

TEST_CASE("config: [strategy] kind chooses the strategy; momentum by default") {
  CHECK(HftdConfig{}.strategyKind == StrategyKind::Momentum);
  CHECK(parseConfig("", "test.toml").strategyKind == StrategyKind::Momentum);
  CHECK(parseConfig("[strategy]\nkind = \"market_maker\"\n", "test.toml").strategyKind ==
        StrategyKind::MarketMaker);
  const std::string e = errorOf("[strategy]\nkind = \"arbitrage\"\n");
  CHECK(contains(e, "test.toml:2:"));
  CHECK(contains(e, "[strategy] kind"));
  CHECK(contains(e, "\"momentum\", \"market_maker\""));
}

TEST_CASE("config: [strategy.market_maker] keys are read, with [strategy] tick_size") {
  const HftdConfig c = parseConfig("[strategy]\nkind = \"market_maker\"\ntick_size = 50\n"
                                   "[strategy.market_maker]\norder_qty = 5\nhalf_spread_ticks = 3\n"
                                   "skew_ticks = 0\nrequote_ticks = 4\nmin_requote_ms = 40\n"
                                   "max_position = 60\n",
                                   "test.toml");
  CHECK(c.marketMaker.orderQty == 5);
  CHECK(c.marketMaker.halfSpreadTicks == 3);
  CHECK(c.marketMaker.skewTicks == 0);
  CHECK(c.marketMaker.requoteTicks == 4);
  CHECK(c.marketMaker.minRequoteNs == 40'000'000);
  CHECK(c.marketMaker.maxPosition == 60);
  CHECK(c.marketMaker.tickSize == 50);
  // Defaults without the table.
  const HftdConfig d = parseConfig("[strategy]\nkind = \"market_maker\"\n", "test.toml");
  CHECK(d.marketMaker.orderQty == 10);
  CHECK(d.marketMaker.minRequoteNs == 250'000'000);
  CHECK(d.marketMaker.tickSize == 100);
}

TEST_CASE("config: bad [strategy.market_maker] keys are refused with where and why") {
  std::string e = errorOf("[strategy.market_maker]\nmin_requote_ms = 0\n");
  CHECK(contains(e, "test.toml:2:"));
  CHECK(contains(e, "[strategy.market_maker] min_requote_ms"));
  CHECK(contains(e, "out of range 1..3600000"));
  e = errorOf("[strategy.market_maker]\nhalf_spread_tick = 1\n");
  CHECK(contains(e, "[strategy.market_maker] half_spread_tick: unknown key"));
  e = errorOf("[strategy]\nmarket_maker = 1\n");
  CHECK(contains(e, "[strategy.market_maker] must be a table"));
  e = errorOf("[strategy.market_maker]\nmax_position = \"big\"\n");
  CHECK(contains(e, "expected an integer"));
  e = errorOf("[strategy.market_maker]\norder_qty = 101\n");
  CHECK(contains(e, "[strategy.market_maker] order_qty (101) exceeds [risk] max_order_qty (100)"));
}

TEST_CASE("config: a reload applies market-maker keys; a changed kind needs a restart") {
  const HftdConfig running = parseConfig("[strategy]\nkind = \"market_maker\"\n", "test.toml");
  const HftdConfig next = parseConfig(
      "[strategy]\nkind = \"market_maker\"\n[strategy.market_maker]\nrequote_ticks = 3\n",
      "test.toml");
  auto plan = planReload(running, next);
  REQUIRE(plan.applied.size() == 1);
  CHECK(plan.applied[0] == "strategy.market_maker.requote_ticks");
  CHECK(plan.needsRestart.empty());
  plan = planReload(running, HftdConfig{});
  REQUIRE(plan.needsRestart.size() == 1);
  CHECK(plan.needsRestart[0] == "strategy.kind");
}

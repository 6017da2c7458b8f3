// SPDX-License-Identifier: MIT
// exchange-sim's settings: flags, the TOML file, their precedence and every refusal's message.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "exchange-sim/options/sim_options.h"

using namespace hft::options;

namespace {

CommandLine parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"exchange-sim"};
  argv.insert(argv.end(), args);
  return parseCommandLine(static_cast<int>(argv.size()), argv.data());
}

// A TOML file that lives for one test.
struct TempConfig {
  explicit TempConfig(const std::string& text)
      : path((std::filesystem::temp_directory_path() / ("xsim-test-" + std::to_string(::getpid()) +
                                                        "-" + std::to_string(++counter) + ".toml"))
                 .string()) {
    std::ofstream(path) << text;
  }
  ~TempConfig() { std::filesystem::remove(path); }
  std::string path;
  static inline int counter = 0;
};

std::string configError(const std::string& text, const std::string& path = "x.toml") {
  SimOptions o;
  try {
    applyConfig(o, text, path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("options: the defaults are the documented ones") {
  const auto cmd = parse({});
  REQUIRE(!cmd.exit);
  const SimOptions& o = cmd.options;
  CHECK(o.server.bind == "127.0.0.1");
  CHECK(o.server.port == 9000);
  CHECK(o.server.tickIntervalMs == 10);
  CHECK(o.matching.fillProbPercent == 80.0);
  CHECK(o.market.symbols == 4);
  CHECK(o.market.depth == 5);
  CHECK(o.market.tickSize == 100);
  CHECK(o.market.startPrice == 1'000'000);
  CHECK(o.matching.maxOrdersPerSec == 0);
  CHECK(o.statsFile.empty());
  CHECK(o.server.samplesFile.empty());
  CHECK(!o.verbose);
}

TEST_CASE("options: conf/exchange-sim.toml is accepted and matches the built-in defaults") {
  SimOptions fromFile;
  applyConfigFile(fromFile, XSIM_CONF_FILE);
  const SimOptions defaults;
  CHECK(fromFile.server.bind == defaults.server.bind);
  CHECK(fromFile.server.port == defaults.server.port);
  CHECK(fromFile.server.maxSessions == defaults.server.maxSessions);
  CHECK(fromFile.server.outputBufferBytes == defaults.server.outputBufferBytes);
  CHECK(fromFile.server.defaultHeartbeatMs == defaults.server.defaultHeartbeatMs);
  CHECK(fromFile.server.minHeartbeatMs == defaults.server.minHeartbeatMs);
  CHECK(fromFile.server.maxHeartbeatMs == defaults.server.maxHeartbeatMs);
  CHECK(fromFile.server.accounts == defaults.server.accounts);
  CHECK(fromFile.server.shutdownGraceMs == defaults.server.shutdownGraceMs);
  CHECK(fromFile.server.tickIntervalMs == defaults.server.tickIntervalMs);
  CHECK(fromFile.server.samplesFile == defaults.server.samplesFile);
  CHECK(fromFile.server.samplesCapacity == defaults.server.samplesCapacity);
  CHECK(fromFile.market.symbols == defaults.market.symbols);
  CHECK(fromFile.market.depth == defaults.market.depth);
  CHECK(fromFile.market.tickSize == defaults.market.tickSize);
  CHECK(fromFile.market.startPrice == defaults.market.startPrice);
  CHECK(fromFile.market.volatilityTicks == defaults.market.volatilityTicks);
  CHECK(fromFile.market.minSpreadTicks == defaults.market.minSpreadTicks);
  CHECK(fromFile.market.maxSpreadTicks == defaults.market.maxSpreadTicks);
  CHECK(fromFile.market.minLevelQty == defaults.market.minLevelQty);
  CHECK(fromFile.market.maxLevelQty == defaults.market.maxLevelQty);
  CHECK(fromFile.market.seed == defaults.market.seed);
  CHECK(fromFile.matching.seed == defaults.matching.seed);
  CHECK(fromFile.matching.fillProbPercent == defaults.matching.fillProbPercent);
  CHECK(fromFile.matching.maxOrderQty == defaults.matching.maxOrderQty);
  CHECK(fromFile.matching.maxOrdersPerSec == defaults.matching.maxOrdersPerSec);
  CHECK(fromFile.matching.maxOpenOrders == defaults.matching.maxOpenOrders);
  CHECK(fromFile.statsFile == defaults.statsFile);
  CHECK(fromFile.verbose == defaults.verbose);
}

TEST_CASE("options: every flag sets its setting, in both --flag value and --flag=value forms") {
  const auto cmd = parse({"--port", "9100", "--tick-rate=5", "--fill-prob", "62.5", "--symbols",
                          "8", "--depth", "10", "--seed", "18446744073709551615", "--bind", "::1",
                          "--stats-file", "/tmp/s.json", "--samples-file", "/tmp/s.csv", "-v"});
  REQUIRE(!cmd.exit);
  const SimOptions& o = cmd.options;
  CHECK(o.server.port == 9100);
  CHECK(o.server.tickIntervalMs == 5);
  CHECK(o.matching.fillProbPercent == 62.5);
  CHECK(o.market.symbols == 8);
  CHECK(o.market.depth == 10);
  CHECK(o.market.seed == 18446744073709551615ULL);
  CHECK(o.matching.seed == 18446744073709551615ULL);
  CHECK(o.server.bind == "::1");
  CHECK(o.statsFile == "/tmp/s.json");
  CHECK(o.server.samplesFile == "/tmp/s.csv");
  CHECK(o.verbose);
  CHECK(parse({"--port", "0", "--tick-rate", "0"}).options.server.port == 0);
}

TEST_CASE("options: --help and --version print and exit 0") {
  const auto help = parse({"--help"});
  CHECK(help.exit);
  CHECK(help.exitCode == 0);
  CHECK(contains(help.output, "--tick-rate"));
  CHECK(contains(help.output, "--samples-file"));
  const auto version = parse({"--version"});
  CHECK(version.exit);
  CHECK(version.exitCode == 0);
  CHECK(contains(version.output, "exchange-sim"));
}

TEST_CASE("options: a bad command line exits 2 naming the flag and the fix") {
  struct Case {
    std::vector<const char*> args;
    const char* mention;
  };
  const Case cases[] = {
      {{"--bogus"}, "--bogus"},
      {{"--port"}, "needs a value"},
      {{"--port", "abc"}, "--port"},
      {{"--port", "65536"}, "0 to 65535"},
      {{"--port", "-1"}, "--port"},
      {{"--fill-prob", "101"}, "--fill-prob"},
      {{"--fill-prob", "x"}, "--fill-prob"},
      {{"--tick-rate", "1.5"}, "--tick-rate"},
      {{"--depth", "0"}, "--depth"},
      {{"--depth", "33"}, "1 to 32"},
      {{"--symbols", "0"}, "--symbols"},
      {{"--bind", "localhost"}, "--bind"},
      {{"stray"}, "stray"},
      {{"--symbols", "10000", "--depth", "32"}, "output_buffer_bytes"},
  };
  for (const auto& c : cases) {
    std::vector<const char*> argv = {"exchange-sim"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const auto cmd = parseCommandLine(static_cast<int>(argv.size()), argv.data());
    CAPTURE(c.mention);
    CHECK(cmd.exit);
    CHECK(cmd.exitCode == kExitUsage);
    CHECK(contains(cmd.error, c.mention));
  }
}

// Found by tests/fuzz (fuzz_xsim_args, UBSan): the seed's range was printed by converting 2^64
// (a double) to u64, which is undefined; the message showed a wrong bound.
TEST_CASE("options: a bad seed names the whole u64 range") {
  const auto cmd = parse({"--seed", "x"});
  CHECK(cmd.exitCode == kExitUsage);
  CHECK(contains(cmd.error, "0 to 18446744073709551615"));
  CHECK(contains(configError("[market]\nseed = \"1\"\n"), "0 to 18446744073709551615"));
}

TEST_CASE("options: an unknown key is refused with file, line, column and key") {
  const auto e = configError("[market]\nsymbols = 3\ndept = 5\n", "conf/a.toml");
  CHECK(contains(e, "conf/a.toml:3:1"));
  CHECK(contains(e, "[market] dept"));
  CHECK(contains(e, "unknown key"));
  CHECK(contains(e, "depth")); // the known keys are listed
}

TEST_CASE("options: a value of the wrong type is refused with file, line and key") {
  const auto e = configError("[market]\n\ndepth = \"five\"\n");
  CHECK(contains(e, "x.toml:3:"));
  CHECK(contains(e, "[market] depth"));
  CHECK(contains(e, "expected an integer"));
  CHECK(contains(e, "got a string"));
  CHECK(contains(configError("[orders]\nfill_prob = true\n"), "[orders] fill_prob"));
  CHECK(contains(configError("[server]\naccounts = [1, 2]\n"), "[server] accounts"));
  CHECK(contains(configError("[log]\nverbose = 1\n"), "true or false"));
  CHECK(contains(configError("[market]\nseed = -4\n"), "negative"));
}

TEST_CASE("options: out-of-range values, unknown sections and syntax errors are refused") {
  CHECK(contains(configError("[market]\ndepth = 40\n"), "x.toml:2:"));
  CHECK(contains(configError("[market]\ndepth = 40\n"), "1 to 32"));
  CHECK(contains(configError("[orders]\nfill_prob = 100.5\n"), "[orders] fill_prob"));
  CHECK(contains(configError("[server]\nbind = \"example.com\"\n"), "[server] bind"));
  CHECK(contains(configError("[markets]\ndepth = 4\n"), "unknown section 'markets'"));
  CHECK(contains(configError("port = 4\n"), "x.toml:1:1"));
  CHECK(contains(configError("[market]\ndepth = 4\n[market\n"), "x.toml:3:"));
  // Contradictions point at the line of the key to change.
  CHECK(contains(configError("[market]\nmin_spread_ticks = 4\nmax_spread_ticks = 2\n"),
                 "x.toml:3:20: [market] max_spread_ticks"));
  CHECK(contains(configError("[server]\nmin_heartbeat_ms = 500\nmax_heartbeat_ms = 100\n"),
                 "x.toml:2:20: [server] min_heartbeat_ms"));
  CHECK(contains(configError("[market]\nmax_spread_ticks = 0\n"), "x.toml:2:"));
}

TEST_CASE("options: a refused file is reported and leaves the settings untouched") {
  SimOptions o;
  CHECK_THROWS_AS(applyConfig(o, "[market]\nsymbols = 9\ndepth = 99\n", "y.toml"), ConfigError);
  CHECK(o.market.symbols == 4);
  CHECK_THROWS_WITH_AS(applyConfigFile(o, "/nonexistent/xsim.toml"),
                       doctest::Contains("/nonexistent/xsim.toml"), ConfigError);
}

TEST_CASE("options: flags override the file; a bad file exits 78 with its location") {
  TempConfig good("[market]\nsymbols = 6\ndepth = 7\n[orders]\nfill_prob = 55\n");
  const auto cmd = parse({"--config", good.path.c_str(), "--depth", "3"});
  REQUIRE(!cmd.exit);
  CHECK(cmd.options.market.symbols == 6); // from the file
  CHECK(cmd.options.market.depth == 3);   // the flag wins
  CHECK(cmd.options.matching.fillProbPercent == 55.0);
  CHECK(cmd.options.configFile == good.path);

  TempConfig bad("# comment\n[orders]\nmax_order_qty = \"lots\"\n");
  const auto refused = parse({"--config", bad.path.c_str()});
  CHECK(refused.exit);
  CHECK(refused.exitCode == kExitConfig);
  CHECK(contains(refused.error, bad.path + ":3:"));
  CHECK(contains(refused.error, "[orders] max_order_qty"));

  const auto missing = parse({"--config", "/nonexistent/xsim.toml"});
  CHECK(missing.exitCode == kExitConfig);
}

TEST_CASE("options: --udp-feed, --udp-feed-only and the [server] udp keys") {
  const auto cmd =
      parse({"--udp-feed", "239.1.1.1:9001", "--udp-feed-only", "--udp-interface", "veth0"});
  REQUIRE(!cmd.exit);
  CHECK(cmd.options.server.udpFeed == "239.1.1.1:9001");
  CHECK(cmd.options.server.udpFeedOnly);
  CHECK(cmd.options.server.udpInterface == "veth0");
  const SimOptions defaults;
  CHECK(defaults.server.udpFeed.empty());
  CHECK(!defaults.server.udpFeedOnly);
  CHECK(defaults.server.udpMaxPayload == 1472);

  SimOptions fromFile;
  applyConfig(fromFile,
              "[server]\nudp_feed = \"10.0.0.2:9100\"\nudp_max_payload = 9000\n"
              "udp_ttl = 4\n",
              "a.toml");
  CHECK(fromFile.server.udpFeed == "10.0.0.2:9100");
  CHECK(fromFile.server.udpMaxPayload == 9000);
  CHECK(fromFile.server.udpTtl == 4);
  CHECK(contains(parse({"--help"}).output, "--udp-feed-only"));
}

TEST_CASE("options: a bad UDP feed setting is refused, naming it") {
  for (const char* bad : {"localhost:9001", "10.0.0.1", "10.0.0.1:0", "[::1]:9001"}) {
    const auto cmd = parse({"--udp-feed", bad});
    CAPTURE(bad);
    CHECK(cmd.exit);
    CHECK(cmd.exitCode == kExitUsage);
    CHECK(contains(cmd.error, "--udp-feed"));
  }
  const auto only = parse({"--udp-feed-only"});
  CHECK(only.exitCode == kExitUsage);
  CHECK(contains(only.error, "udp_feed"));
  CHECK(contains(configError("[server]\nudp_feed = \"x:1\"\n", "a.toml"), "a.toml:2:"));
  CHECK(contains(configError("[server]\nudp_max_payload = 100\n", "a.toml"), "udp_max_payload"));
}

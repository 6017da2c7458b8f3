// SPDX-License-Identifier: MIT
// hftctl's output: aligned tables for people, JSON with a fixed schema for programs.
#include <doctest/doctest.h>

#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "ctl/output.h"
#include "libhft/control/control_protocol.h"
#include "tests/unit/control/fake_target.h"
#include "tests/unit/ctl/json_check.h"

using hft::control::testing::FakeTarget;
using hft::testing::JsonValue;
using hft::testing::parseJson;

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// The block of `text` that starts with the line beginning with `header`, up to a blank line.
std::vector<std::string> block(const std::string& text, const std::string& header) {
  std::vector<std::string> out;
  bool inBlock = false;
  for (const std::string& line : lines(text)) {
    if (!inBlock && line.rfind(header, 0) == 0)
      inBlock = true;
    if (inBlock) {
      if (line.empty())
        break;
      out.push_back(line);
    }
  }
  return out;
}

void checkStatsSchema(const JsonValue& j, const hft::control::EngineStats& expected) {
  REQUIRE(j.type == JsonValue::Type::Object);
  for (const char* key : {"state",       "session_id",
                          "kill_switch", "rx_packets",
                          "rx_messages", "md_messages",
                          "md_gaps",     "malformed_frames",
                          "orders_sent", "acks",
                          "fills",       "partial_fills",
                          "rejects",     "risk_rejects",
                          "cancels",     "expired",
                          "reconnects",  "session_started_ns",
                          "uptime_ns",   "symbols",
                          "latency"})
    CHECK_MESSAGE(j.has(key), key);
  CHECK(j.at("state").text == expected.state);
  CHECK(j.at("session_id").text == expected.sessionId);
  CHECK(j.at("kill_switch").type == JsonValue::Type::Bool);
  for (const auto& field : hft::control::kCounterFields) {
    CHECK(j.at(field.key).type == JsonValue::Type::Number);
    CHECK_MESSAGE(j.at(field.key).text == std::to_string(expected.*field.member), field.key);
  }
  const JsonValue& symbols = j.at("symbols");
  REQUIRE(symbols.type == JsonValue::Type::Array);
  REQUIRE(symbols.items.size() == expected.symbols.size());
  for (std::size_t i = 0; i < symbols.items.size(); ++i) {
    const JsonValue& s = symbols.items[i];
    CHECK(s.at("symbol_id").number == expected.symbols[i].symbolId);
    CHECK(s.at("position").text == std::to_string(expected.symbols[i].position));
    CHECK(s.at("realized_pnl").number == expected.symbols[i].realizedPnl);
    CHECK(s.at("unrealized_pnl").number == expected.symbols[i].unrealizedPnl);
    CHECK(s.at("mid").number == expected.symbols[i].midPrice);
  }
  const JsonValue& latency = j.at("latency");
  REQUIRE(latency.type == JsonValue::Type::Object);
  REQUIRE(latency.members.size() == expected.latency.size());
  for (const auto& stage : expected.latency) {
    const JsonValue& l = latency.at(stage.stage);
    for (const char* key : {"count", "min", "mean", "p50", "p90", "p99", "p99_9", "max"})
      CHECK_MESSAGE(l.has(key), key);
    CHECK(l.at("count").text == std::to_string(stage.count));
    CHECK(l.at("p99_9").text == std::to_string(stage.p999));
    CHECK(l.at("mean").number == stage.mean);
  }
}

} // namespace

TEST_CASE("hftctl output: stats JSON has every schema key with exact values") {
  const auto stats = FakeTarget::sampleStats();
  checkStatsSchema(parseJson(hft::ctl::statsJson(stats)), stats);
}

TEST_CASE("hftctl output: stats JSON of an idle engine has empty symbols and latency") {
  hft::control::EngineStats idle;
  idle.state = "idle";
  const JsonValue j = parseJson(hft::ctl::statsJson(idle));
  checkStatsSchema(j, idle);
  CHECK(j.at("symbols").items.empty());
  CHECK(j.at("latency").members.empty());
}

TEST_CASE("hftctl output: JSON strings are escaped and read back unchanged") {
  const std::string nasty = "a\"b\\c\nd\te\x01"
                            "f/\xc3\xa9";
  hft::control::EngineStats stats;
  stats.sessionId = nasty;
  stats.latency.push_back({nasty, 1, 1, 1, 1, 1, 1, 1, 1.0});
  const JsonValue j = parseJson(hft::ctl::statsJson(stats));
  CHECK(j.at("session_id").text == nasty);
  CHECK(j.at("latency").members.at(0).first == nasty);
  CHECK(hft::ctl::jsonString("\x1f") == "\"\\u001f\"");
}

TEST_CASE("hftctl output: non-finite doubles become null, not invalid JSON") {
  hft::control::EngineStats stats;
  stats.symbols.push_back({7, 0, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity(), 0.0});
  const JsonValue j = parseJson(hft::ctl::statsJson(stats));
  CHECK(j.at("symbols").items.at(0).at("realized_pnl").type == JsonValue::Type::Null);
  CHECK(j.at("symbols").items.at(0).at("unrealized_pnl").type == JsonValue::Type::Null);
}

TEST_CASE("hftctl output: summary, status, reload, session and version JSON schemas") {
  hft::control::SessionSummary summary{"s1", "/var/lib/hftd/sessions/s1",
                                       FakeTarget::sampleStats()};
  const JsonValue js = parseJson(hft::ctl::summaryJson(summary));
  CHECK(js.at("session_id").text == "s1");
  CHECK(js.at("directory").text == "/var/lib/hftd/sessions/s1");
  checkStatsSchema(js.at("stats"), summary.stats);

  FakeTarget target;
  const JsonValue status = parseJson(hft::ctl::statusJson(target.status()));
  for (const char* key : {"state", "session_id", "version", "network_core", "strategy_core",
                          "poll_mode", "exchange", "kill_switch", "uptime_ns"})
    CHECK_MESSAGE(status.has(key), key);
  CHECK(status.at("exchange").text == "127.0.0.1:9000");

  const JsonValue reload = parseJson(hft::ctl::reloadJson({{"a.b", "c"}, {"d"}}));
  CHECK(reload.at("applied").items.size() == 2);
  CHECK(reload.at("needs_restart").items.at(0).text == "d");
  CHECK(parseJson(hft::ctl::reloadJson({})).at("applied").items.empty());

  CHECK(parseJson(hft::ctl::sessionIdJson("x")).at("session_id").text == "x");
  CHECK(parseJson(hft::ctl::killSwitchJson(true)).at("kill_switch").boolean);
  const JsonValue version = parseJson(hft::ctl::versionJson("1", "2"));
  CHECK(version.at("hftctl").text == "1");
  CHECK(version.at("hftd").text == "2");
}

TEST_CASE("hftctl output: TextTable pads columns; numbers right-aligned, text left-aligned") {
  using A = hft::ctl::TextTable::Align;
  hft::ctl::TextTable t({{"Name"}, {"Value", A::Right}});
  t.addRow({"a", "1"});
  t.addRow({"longer", "12345"});
  CHECK(t.render() == "Name    Value\n"
                      "a           1\n"
                      "longer  12345\n");
  hft::ctl::TextTable kv({{"k"}, {"v"}}, false);
  kv.addRow({"State", "idle"});
  CHECK(kv.render() == "State  idle\n");
}

TEST_CASE("hftctl output: the stats table shows counters, symbols and latency percentiles") {
  const auto stats = FakeTarget::sampleStats();
  const std::string text = hft::ctl::formatStats(stats);
  CHECK(text.find("20261124-120000-fake1") != std::string::npos);
  for (const auto& field : hft::control::kCounterFields) {
    const std::string key = field.key;
    if (key == "session_started_ns" || key == "uptime_ns")
      continue;
    CHECK_MESSAGE(text.find(key) != std::string::npos, key);
  }

  const auto latency = block(text, "Latency (ns)");
  REQUIRE(latency.size() == 1 + stats.latency.size());
  for (const char* column : {"Count", "Min", "Mean", "p50", "p90", "p99", "p99.9", "Max"})
    CHECK_MESSAGE(latency[0].find(column) != std::string::npos, column);
  // Right-aligned: every row of the table ends in the same column.
  for (const std::string& line : latency)
    CHECK(line.size() == latency[0].size());
  CHECK(latency[2].find("rx_to_sent") == 0);
  CHECK(latency[2].find("12000") == latency[2].size() - 5);

  const auto symbols = block(text, "Symbol");
  REQUIRE(symbols.size() == 1 + stats.symbols.size());
  for (const std::string& line : symbols)
    CHECK(line.size() == symbols[0].size());
  CHECK(symbols[1].find("12.50") != std::string::npos);
  CHECK(symbols[2].find("99999.0001") != std::string::npos);

  const auto counters = block(text, "Counter");
  REQUIRE(counters.size() == 1 + hft::control::kCounterFields.size() - 2);
  for (const std::string& line : counters)
    CHECK(line.size() == counters[0].size());
}

TEST_CASE("hftctl output: empty stats say so instead of printing empty tables") {
  const std::string text = hft::ctl::formatStats({});
  CHECK(text.find("Symbols: none") != std::string::npos);
  CHECK(text.find("Latency: no samples") != std::string::npos);
}

TEST_CASE("hftctl output: status, summary and reload read as sentences and tables") {
  FakeTarget target;
  const std::string status = hft::ctl::formatStatus(target.status());
  CHECK(status.find("State          idle\n") != std::string::npos);
  CHECK(status.find("Exchange       127.0.0.1:9000\n") != std::string::npos);
  CHECK(status.find("Uptime         1h 02m 03s\n") != std::string::npos);

  const std::string summary =
      hft::ctl::formatSummary({"s9", "/var/lib/hftd/sessions/s9", FakeTarget::sampleStats()});
  CHECK(summary.rfind("Session s9 stopped.\nRecorded in /var/lib/hftd/sessions/s9\n", 0) == 0);
  CHECK(summary.find("Latency (ns)") != std::string::npos);

  CHECK(hft::ctl::formatReload({}) == "Configuration reloaded: nothing changed.\n");
  const std::string reload = hft::ctl::formatReload({{"a"}, {"b", "c"}});
  CHECK(reload.find("Applied now:    a\n") != std::string::npos);
  CHECK(reload.find("Needs restart:  b, c\n") != std::string::npos);
}

TEST_CASE("hftctl output: durations and timestamps for people") {
  CHECK(hft::ctl::formatDuration(0) == "-");
  CHECK(hft::ctl::formatDuration(1'500'000'000ULL) == "1.500s");
  CHECK(hft::ctl::formatDuration(61'000'000'000ULL) == "1m 01s");
  CHECK(hft::ctl::formatDuration(3'723'000'000'000ULL) == "1h 02m 03s");
  CHECK(hft::ctl::formatDuration(90'061'000'000'000ULL) == "1d 01h 01m 01s");
  CHECK(hft::ctl::formatTimestamp(0) == "-");
  CHECK(hft::ctl::formatTimestamp(1'700'000'000'000'000'000ULL) == "2023-11-14 22:13:20 UTC");
}

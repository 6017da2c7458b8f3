// SPDX-License-Identifier: MIT
// What hftctl prints: aligned human tables by default, JSON with --json.
#include "ctl/output.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "libhft/control/control_protocol.h"
#include "libhft/control/stats_json.h"
#include "libhft/core/json.h"

namespace hft::ctl {
namespace {

std::string orDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string joinOrNone(const std::vector<std::string>& items) {
  if (items.empty())
    return "none";
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty())
      out += ", ";
    out += item;
  }
  return out;
}

// Display width: counts UTF-8 code points, not bytes, so names with accents still line up.
std::size_t displayWidth(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

} // namespace

std::string jsonString(std::string_view text) { return core::dumpJson(core::Json(text)); }

std::string TextTable::render() const {
  std::vector<std::size_t> widths(columns_.size(), 0);
  if (showHeader_)
    for (std::size_t c = 0; c < columns_.size(); ++c)
      widths[c] = displayWidth(columns_[c].header);
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], displayWidth(row[c]));

  std::string out;
  auto line = [&](auto cellOf) {
    std::string text;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cellOf(c);
      const std::size_t pad = widths[c] - displayWidth(cell);
      if (c > 0)
        text += "  ";
      if (columns_[c].align == Align::Right)
        text.append(pad, ' ').append(cell);
      else if (c + 1 < columns_.size())
        text.append(cell).append(pad, ' ');
      else
        text.append(cell); // no trailing blanks
    }
    out += text;
    out += '\n';
  };
  static const std::string kEmpty;
  if (showHeader_)
    line([&](std::size_t c) -> const std::string& { return columns_[c].header; });
  for (const auto& row : rows_)
    line([&](std::size_t c) -> const std::string& { return c < row.size() ? row[c] : kEmpty; });
  return out;
}

std::string formatDuration(std::uint64_t ns) {
  if (ns == 0)
    return "-";
  std::uint64_t s = ns / 1'000'000'000ULL;
  const std::uint64_t days = s / 86400;
  s %= 86400;
  const std::uint64_t hours = s / 3600;
  const std::uint64_t minutes = (s % 3600) / 60;
  const std::uint64_t seconds = s % 60;
  if (days > 0)
    return fmt::format("{}d {:02}h {:02}m {:02}s", days, hours, minutes, seconds);
  if (hours > 0)
    return fmt::format("{}h {:02}m {:02}s", hours, minutes, seconds);
  if (minutes > 0)
    return fmt::format("{}m {:02}s", minutes, seconds);
  return fmt::format("{}.{:03}s", seconds, (ns / 1'000'000ULL) % 1000);
}

std::string formatTimestamp(std::uint64_t realtimeNs) {
  if (realtimeNs == 0)
    return "-";
  const auto secs = static_cast<std::time_t>(realtimeNs / 1'000'000'000ULL);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string formatStatus(const control::EngineStatus& s) {
  TextTable t({{"Field"}, {"Value"}}, false);
  t.addRow({"State", orDash(s.state)});
  t.addRow({"Session", orDash(s.sessionId)});
  t.addRow({"Kill switch", s.killSwitch ? "ON (no orders are sent)" : "off"});
  t.addRow({"Exchange", orDash(s.exchange)});
  t.addRow({"Network core", std::to_string(s.networkCore)});
  t.addRow({"Strategy core", std::to_string(s.strategyCore)});
  t.addRow({"Poll mode", orDash(s.pollMode)});
  t.addRow({"Uptime", formatDuration(s.uptimeNs)});
  t.addRow({"Version", orDash(s.version)});
  return t.render();
}

std::string formatStats(const control::EngineStats& s) {
  std::string out;
  TextTable head({{"Field"}, {"Value"}}, false);
  head.addRow({"State", orDash(s.state)});
  head.addRow({"Session", orDash(s.sessionId)});
  head.addRow({"Kill switch", s.killSwitch ? "ON" : "off"});
  head.addRow({"Session started", formatTimestamp(s.sessionStartedNs)});
  head.addRow({"Uptime", formatDuration(s.uptimeNs)});
  out += head.render();

  TextTable counters({{"Counter"}, {"Value", TextTable::Align::Right}});
  for (const control::CounterField& f : control::kCounterFields) {
    const std::string_view key = f.key;
    if (key == "session_started_ns" || key == "uptime_ns")
      continue; // shown above in human form
    counters.addRow({f.key, std::to_string(s.*f.member)});
  }
  out += '\n';
  out += counters.render();

  out += '\n';
  if (s.symbols.empty()) {
    out += "Symbols: none\n";
  } else {
    using A = TextTable::Align;
    TextTable symbols({{"Symbol", A::Right},
                       {"Position", A::Right},
                       {"Realized PnL", A::Right},
                       {"Unrealized PnL", A::Right},
                       {"Mid", A::Right}});
    for (const control::SymbolStats& sym : s.symbols)
      symbols.addRow({std::to_string(sym.symbolId), std::to_string(sym.position),
                      fmt::format("{:.2f}", sym.realizedPnl),
                      fmt::format("{:.2f}", sym.unrealizedPnl),
                      fmt::format("{:.4f}", sym.midPrice)});
    out += symbols.render();
  }

  out += '\n';
  if (s.latency.empty()) {
    out += "Latency: no samples\n";
  } else {
    using A = TextTable::Align;
    TextTable latency({{"Latency (ns)"},
                       {"Count", A::Right},
                       {"Min", A::Right},
                       {"Mean", A::Right},
                       {"p50", A::Right},
                       {"p90", A::Right},
                       {"p99", A::Right},
                       {"p99.9", A::Right},
                       {"Max", A::Right}});
    for (const control::StageLatency& l : s.latency)
      latency.addRow({l.stage, std::to_string(l.count), std::to_string(l.min),
                      fmt::format("{:.1f}", l.mean), std::to_string(l.p50), std::to_string(l.p90),
                      std::to_string(l.p99), std::to_string(l.p999), std::to_string(l.max)});
    out += latency.render();
  }
  return out;
}

std::string formatSummary(const control::SessionSummary& summary) {
  std::string out = fmt::format("Session {} stopped.\nRecorded in {}\n\n",
                                orDash(summary.sessionId), orDash(summary.directory));
  out += formatStats(summary.stats);
  return out;
}

std::string formatReload(const control::ReloadResult& result) {
  if (result.applied.empty() && result.needsRestart.empty())
    return "Configuration reloaded: nothing changed.\n";
  std::string out =
      fmt::format("Configuration reloaded.\nApplied now:    {}\n", joinOrNone(result.applied));
  out += fmt::format("Needs restart:  {}\n", joinOrNone(result.needsRestart));
  if (!result.needsRestart.empty())
    out += "Restart hftd (`systemctl restart hftd`, between sessions) to apply those.\n";
  return out;
}

std::string statusJson(const control::EngineStatus& s) {
  return core::dumpJson(core::Json{{"state", s.state},
                                   {"session_id", s.sessionId},
                                   {"version", s.version},
                                   {"network_core", s.networkCore},
                                   {"strategy_core", s.strategyCore},
                                   {"poll_mode", s.pollMode},
                                   {"exchange", s.exchange},
                                   {"kill_switch", s.killSwitch},
                                   {"uptime_ns", s.uptimeNs}});
}

std::string statsJson(const control::EngineStats& stats) { return control::statsJson(stats); }

std::string summaryJson(const control::SessionSummary& summary) {
  return core::dumpJson(core::Json{{"session_id", summary.sessionId},
                                   {"directory", summary.directory},
                                   {"stats", control::statsJsonValue(summary.stats)}});
}

std::string reloadJson(const control::ReloadResult& result) {
  return core::dumpJson(
      core::Json{{"applied", result.applied}, {"needs_restart", result.needsRestart}});
}

std::string sessionIdJson(std::string_view sessionId) {
  return core::dumpJson(core::Json{{"session_id", sessionId}});
}

std::string killSwitchJson(bool on) { return core::dumpJson(core::Json{{"kill_switch", on}}); }

std::string versionJson(std::string_view client, std::string_view daemon) {
  return core::dumpJson(core::Json{{"hftctl", client}, {"hftd", daemon}});
}

} // namespace hft::ctl

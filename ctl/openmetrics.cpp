// SPDX-License-Identifier: MIT
// hftctl stats as metrics: the families an operator watches, in Prometheus naming.
#include "ctl/openmetrics.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "libhft/control/control_protocol.h"

namespace hft::ctl {
namespace {

using control::EngineStats;

enum class Type { Gauge, Counter, Info, Summary };

// Writes families in one dialect; a family's metadata goes before its samples.
class Exposition {
public:
  explicit Exposition(MetricsDialect dialect) : dialect_(dialect) {}

  // `name` is the family name: no `_total` (counter) or `_info` (info) suffix.
  void family(std::string_view name, Type type, std::string_view help, std::string_view unit = {}) {
    const bool om = dialect_ == MetricsDialect::OpenMetrics;
    std::string described(name);
    std::string_view typeName = "gauge";
    switch (type) {
    case Type::Gauge: break;
    case Type::Counter:
      typeName = "counter";
      if (!om)
        described += "_total"; // the 0.0.4 parser matches TYPE to the sample name
      break;
    case Type::Info:
      typeName = om ? "info" : "gauge";
      if (!om)
        described += "_info";
      break;
    case Type::Summary: typeName = "summary"; break;
    }
    if (om) {
      out_ += fmt::format("# TYPE {} {}\n", described, typeName);
      if (!unit.empty())
        out_ += fmt::format("# UNIT {} {}\n", described, unit);
      out_ += fmt::format("# HELP {} {}\n", described, escapeHelp(help));
    } else {
      out_ += fmt::format("# HELP {} {}\n", described, escapeHelp(help));
      out_ += fmt::format("# TYPE {} {}\n", described, typeName);
    }
  }

  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void sample(std::string_view name, Labels labels, std::string_view value) {
    out_ += name;
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, text] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += fmt::format("{}=\"{}\"", label, escapeLabelValue(text));
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  std::string take() {
    if (dialect_ == MetricsDialect::OpenMetrics)
      out_ += "# EOF\n";
    return std::move(out_);
  }

private:
  // OpenMetrics escapes the double quote in HELP too; the 0.0.4 format only \ and newline.
  std::string escapeHelp(std::string_view help) const {
    std::string out;
    for (const char c : help) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '"' && dialect_ == MetricsDialect::OpenMetrics)
        out += "\\\"";
      else
        out += c;
    }
    return out;
  }

  MetricsDialect dialect_;
  std::string out_;
};

struct CounterMetric {
  std::string_view name; // family name, without _total
  std::uint64_t EngineStats::*member;
  std::string_view help;
};

// Every monotonic counter of the stats JSON (docs/control.md), in its order. They restart from
// 0 with hftd; Prometheus' rate() and increase() handle that.
constexpr std::array<CounterMetric, 23> kCounters{{
    {"hft_rx_packets", &EngineStats::rxPackets,
     "Socket reads from the exchange that returned data."},
    {"hft_rx_messages", &EngineStats::rxMessages, "Frames decoded from the exchange."},
    {"hft_md_messages", &EngineStats::mdMessages, "Market-data messages received."},
    {"hft_md_gaps", &EngineStats::mdGaps, "Sequence gaps seen on the market-data feed."},
    {"hft_malformed_frames", &EngineStats::malformedFrames, "Frames rejected as malformed."},
    {"hft_orders_sent", &EngineStats::ordersSent, "Orders sent to the exchange."},
    {"hft_order_acks", &EngineStats::acks, "Orders acknowledged by the exchange."},
    {"hft_fills", &EngineStats::fills, "Fills, full and partial."},
    {"hft_partial_fills", &EngineStats::partialFills,
     "Partial fills (also counted in hft_fills_total)."},
    {"hft_order_rejects", &EngineStats::rejects,
     "Orders rejected by the exchange, by the reject_reason of its execution report."},
    {"hft_risk_rejects", &EngineStats::riskRejects, "Orders stopped by the local risk checks."},
    {"hft_cancels", &EngineStats::cancels, "Orders cancelled."},
    {"hft_orders_expired", &EngineStats::expired, "Orders expired."},
    {"hft_reconnects", &EngineStats::reconnects, "Reconnections to the exchange."},
    {"hft_cancel_rejects", &EngineStats::cancelRejects,
     "Cancels the exchange refused because the order was already done."},
    {"hft_unsent_orders", &EngineStats::unsentOrders,
     "Orders decided while the exchange link was down, never sent."},
    {"hft_dropped_records", &EngineStats::droppedRecords,
     "Journal or latency records lost to a full ring; should stay 0."},
    {"hft_write_errors", &EngineStats::writeErrors,
     "Failed writes to the session directory; should stay 0."},
    {"hft_journal_records", &EngineStats::journalRecords,
     "Records accepted into the session journal (orders sent, execution reports)."},
    {"hft_journal_lost", &EngineStats::journalLost,
     "Journal records that never reached journal.bin; must stay 0."},
    {"hft_latency_samples_lost", &EngineStats::latencySamplesLost,
     "latency.csv rows lost to a full session disk."},
    {"hft_md_recording_lost", &EngineStats::mdRecordingLost,
     "Received market-data frames missing from market_data.rec (full ring or failed write)."},
    {"hft_orders_held", &EngineStats::ordersHeld,
     "New orders not sent because the journal could not take their records."},
}};

struct GaugeMetric {
  std::string_view name;
  std::uint64_t EngineStats::*member;
  std::string_view help;
};

constexpr std::array<GaugeMetric, 5> kRiskLimits{{
    {"hft_risk_max_order_qty", &EngineStats::riskMaxOrderQty,
     "Risk limit: largest order quantity."},
    {"hft_risk_max_position", &EngineStats::riskMaxPosition,
     "Risk limit: largest absolute position per symbol."},
    {"hft_risk_max_open_orders", &EngineStats::riskMaxOpenOrders, "Risk limit: open orders."},
    {"hft_risk_max_orders_per_second", &EngineStats::riskMaxOrdersPerSecond,
     "Risk limit: orders sent per second."},
    {"hft_risk_price_band_bps", &EngineStats::riskPriceBandBps,
     "Risk limit: price band around the mid, in basis points."},
}};

constexpr std::array<GaugeMetric, 3> kJournalGauges{{
    {"hft_journal_unwritten", &EngineStats::journalUnwritten,
     "Journal records held in memory because the disk had no room."},
    {"hft_journal_complete", &EngineStats::journalComplete,
     "1 while the session journal holds every record, else 0."},
    {"hft_disk_full", &EngineStats::diskFull,
     "1 once a write to the session directory failed this session."},
}};

constexpr std::array<std::string_view, 5> kStates{"idle", "connecting", "trading", "stopping",
                                                  "disconnected"};

std::string seconds(std::uint64_t ns) { return metricNumber(static_cast<double>(ns) / 1e9); }

} // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string metricNumber(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "+Inf" : "-Inf";
  // Plain digits while they stay short (1795000000, not 1.795e+09), else the exponent form;
  // both the shortest text that reads back to the same double.
  char buf[64];
  const auto fixed = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (fixed.ec == std::errc() && fixed.ptr - buf <= 20)
    return std::string(buf, fixed.ptr);
  const auto shortest = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, shortest.ptr);
}

std::string statsMetrics(const EngineStats& s, MetricsDialect dialect) {
  Exposition e(dialect);
  const auto flag = [](bool on) { return on ? "1" : "0"; };

  e.family("hft_link_up", Type::Gauge,
           "1 while hftd is connected to the exchange and trading (state trading), else 0.");
  e.sample("hft_link_up", {}, flag(s.state == "trading"));
  e.family("hft_engine_state", Type::Gauge,
           "1 for the engine's current state (label state), 0 for the others.");
  bool known = false;
  for (const std::string_view state : kStates) {
    known = known || s.state == state;
    e.sample("hft_engine_state", {{"state", state}}, flag(s.state == state));
  }
  if (!known) // a state this hftctl does not know yet still shows
    e.sample("hft_engine_state", {{"state", s.state}}, "1");
  e.family("hft_kill_switch", Type::Gauge, "1 while the kill switch is on: no orders are sent.");
  e.sample("hft_kill_switch", {}, flag(s.killSwitch));
  e.family("hft_session", Type::Info, "The current or last session (empty: none has run).");
  e.sample("hft_session_info", {{"session_id", s.sessionId}}, "1");
  e.family("hft_session_start_time_seconds", Type::Gauge,
           "Start of the current or last session, Unix time (0: none).", "seconds");
  e.sample("hft_session_start_time_seconds", {}, seconds(s.sessionStartedNs));
  e.family("hft_session_end_time_seconds", Type::Gauge,
           "End of the last session, Unix time (0 while one runs).", "seconds");
  e.sample("hft_session_end_time_seconds", {}, seconds(s.sessionEndedNs));
  e.family("hft_uptime_seconds", Type::Gauge, "Time since hftd started.", "seconds");
  e.sample("hft_uptime_seconds", {}, seconds(s.uptimeNs));

  for (const CounterMetric& c : kCounters) {
    e.family(c.name, Type::Counter, c.help);
    if (c.member == &EngineStats::rejects) {
      // One series per reason of the protocol, all of them always: they add up to `rejects`.
      // An hftd that does not report reasons (older than this hftctl) leaves a remainder,
      // shown as reason "unreported" rather than lost from sum().
      std::uint64_t byReason = 0;
      for (std::size_t i = 0; i < protocol::kRejectReasons.size(); ++i) {
        const std::uint64_t n = s.*control::kRejectReasonMembers[i];
        byReason += n;
        e.sample("hft_order_rejects_total", {{"reason", protocol::kRejectReasons[i].name}},
                 std::to_string(n));
      }
      if (s.rejects > byReason)
        e.sample("hft_order_rejects_total", {{"reason", "unreported"}},
                 std::to_string(s.rejects - byReason));
      continue;
    }
    e.sample(std::string(c.name) + "_total", {}, std::to_string(s.*c.member));
  }

  for (const GaugeMetric& g : kJournalGauges) {
    e.family(g.name, Type::Gauge, g.help);
    e.sample(g.name, {}, std::to_string(s.*g.member));
  }

  for (const GaugeMetric& g : kRiskLimits) {
    e.family(g.name, Type::Gauge, g.help);
    e.sample(g.name, {}, std::to_string(s.*g.member));
  }

  // One family at a time, each with every symbol: a family's samples must be contiguous.
  std::vector<std::string> ids;
  for (const control::SymbolStats& sym : s.symbols)
    ids.push_back(std::to_string(sym.symbolId));
  e.family("hft_position", Type::Gauge, "Signed position per symbol, + long.");
  for (std::size_t i = 0; i < ids.size(); ++i)
    e.sample("hft_position", {{"symbol_id", ids[i]}}, std::to_string(s.symbols[i].position));
  e.family("hft_realized_pnl", Type::Gauge, "Realized PnL per symbol.");
  for (std::size_t i = 0; i < ids.size(); ++i)
    e.sample("hft_realized_pnl", {{"symbol_id", ids[i]}}, metricNumber(s.symbols[i].realizedPnl));
  e.family("hft_unrealized_pnl", Type::Gauge, "Unrealized PnL per symbol, marked at the mid.");
  for (std::size_t i = 0; i < ids.size(); ++i)
    e.sample("hft_unrealized_pnl", {{"symbol_id", ids[i]}},
             metricNumber(s.symbols[i].unrealizedPnl));
  e.family("hft_mid_price", Type::Gauge, "Current mid price per symbol.");
  for (std::size_t i = 0; i < ids.size(); ++i)
    e.sample("hft_mid_price", {{"symbol_id", ids[i]}}, metricNumber(s.symbols[i].midPrice));

  // Quantile 0 and 1 are the exact min and max; the others as hftd's latency histogram gives.
  e.family("hft_latency_seconds", Type::Summary,
           "Latency per pipeline stage since the session started (label stage).", "seconds");
  for (const control::StageLatency& l : s.latency) {
    const std::array<std::pair<std::string_view, std::uint64_t>, 6> quantiles{{{"0", l.min},
                                                                               {"0.5", l.p50},
                                                                               {"0.9", l.p90},
                                                                               {"0.99", l.p99},
                                                                               {"0.999", l.p999},
                                                                               {"1", l.max}}};
    for (const auto& [quantile, ns] : quantiles)
      e.sample("hft_latency_seconds", {{"stage", l.stage}, {"quantile", quantile}}, seconds(ns));
    e.sample("hft_latency_seconds_sum", {{"stage", l.stage}},
             metricNumber(l.mean * static_cast<double>(l.count) / 1e9));
    e.sample("hft_latency_seconds_count", {{"stage", l.stage}}, std::to_string(l.count));
  }
  return e.take();
}

} // namespace hft::ctl

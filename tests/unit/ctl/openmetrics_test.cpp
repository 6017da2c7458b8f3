// SPDX-License-Identifier: MIT
// hftctl stats as metrics: the exact OpenMetrics text, escaping, and the Prometheus dialect.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "ctl/openmetrics.h"

using hft::ctl::escapeLabelValue;
using hft::ctl::metricNumber;
using hft::ctl::MetricsDialect;
using hft::ctl::statsMetrics;

namespace {

hft::control::EngineStats knownStats() {
  hft::control::EngineStats s;
  s.state = "trading";
  s.sessionId = "run \"A\"\\path\ntwo"; // every character a label value must escape
  s.killSwitch = true;
  s.rxPackets = 1;
  s.rxMessages = 2;
  s.mdMessages = 3;
  s.mdGaps = 4;
  s.malformedFrames = 5;
  s.ordersSent = 6;
  s.acks = 7;
  s.fills = 8;
  s.partialFills = 9;
  s.rejects = 10;
  s.rejectsInvalidPrice = 3;
  s.rejectsThrottled = 6;
  s.rejectsOther = 1;
  s.riskRejects = 11;
  s.cancels = 12;
  s.expired = 13;
  s.reconnects = 14;
  s.cancelRejects = 15;
  s.unsentOrders = 16;
  s.droppedRecords = 17;
  s.writeErrors = 18;
  s.journalRecords = 24;
  s.journalUnwritten = 25;
  s.journalLost = 26;
  s.journalComplete = 0;
  s.latencySamplesLost = 27;
  s.ordersHeld = 28;
  s.diskFull = 1;
  s.riskMaxOrderQty = 19;
  s.riskMaxPosition = 20;
  s.riskMaxOpenOrders = 21;
  s.riskMaxOrdersPerSecond = 22;
  s.riskPriceBandBps = 23;
  s.sessionStartedNs = 1'795'000'000'000'000'000ULL;
  s.sessionEndedNs = 0;
  s.uptimeNs = 61'500'000'000ULL;
  s.symbols = {{7, -3, 12.5, -0.25, 101.125}};
  s.latency = {{"rx_to_sent", 4, 1000, 2000, 3000, 4000, 5000, 6000, 2500.0},
               {"odd\"stage\\", 0, 0, 0, 0, 0, 0, 0, 0.0}};
  return s;
}

constexpr const char* kKnownOpenMetrics = R"(# TYPE hft_link_up gauge
# HELP hft_link_up 1 while hftd is connected to the exchange and trading (state trading), else 0.
hft_link_up 1
# TYPE hft_engine_state gauge
# HELP hft_engine_state 1 for the engine's current state (label state), 0 for the others.
hft_engine_state{state="idle"} 0
hft_engine_state{state="connecting"} 0
hft_engine_state{state="trading"} 1
hft_engine_state{state="stopping"} 0
hft_engine_state{state="disconnected"} 0
# TYPE hft_kill_switch gauge
# HELP hft_kill_switch 1 while the kill switch is on: no orders are sent.
hft_kill_switch 1
# TYPE hft_session info
# HELP hft_session The current or last session (empty: none has run).
hft_session_info{session_id="run \"A\"\\path\ntwo"} 1
# TYPE hft_session_start_time_seconds gauge
# UNIT hft_session_start_time_seconds seconds
# HELP hft_session_start_time_seconds Start of the current or last session, Unix time (0: none).
hft_session_start_time_seconds 1795000000
# TYPE hft_session_end_time_seconds gauge
# UNIT hft_session_end_time_seconds seconds
# HELP hft_session_end_time_seconds End of the last session, Unix time (0 while one runs).
hft_session_end_time_seconds 0
# TYPE hft_uptime_seconds gauge
# UNIT hft_uptime_seconds seconds
# HELP hft_uptime_seconds Time since hftd started.
hft_uptime_seconds 61.5
# TYPE hft_rx_packets counter
# HELP hft_rx_packets Socket reads from the exchange that returned data.
hft_rx_packets_total 1
# TYPE hft_rx_messages counter
# HELP hft_rx_messages Frames decoded from the exchange.
hft_rx_messages_total 2
# TYPE hft_md_messages counter
# HELP hft_md_messages Market-data messages received.
hft_md_messages_total 3
# TYPE hft_md_gaps counter
# HELP hft_md_gaps Sequence gaps seen on the market-data feed.
hft_md_gaps_total 4
# TYPE hft_malformed_frames counter
# HELP hft_malformed_frames Frames rejected as malformed.
hft_malformed_frames_total 5
# TYPE hft_orders_sent counter
# HELP hft_orders_sent Orders sent to the exchange.
hft_orders_sent_total 6
# TYPE hft_order_acks counter
# HELP hft_order_acks Orders acknowledged by the exchange.
hft_order_acks_total 7
# TYPE hft_fills counter
# HELP hft_fills Fills, full and partial.
hft_fills_total 8
# TYPE hft_partial_fills counter
# HELP hft_partial_fills Partial fills (also counted in hft_fills_total).
hft_partial_fills_total 9
# TYPE hft_order_rejects counter
# HELP hft_order_rejects Orders rejected by the exchange, by the reject_reason of its execution report.
hft_order_rejects_total{reason="unknown_symbol"} 0
hft_order_rejects_total{reason="invalid_price"} 3
hft_order_rejects_total{reason="invalid_quantity"} 0
hft_order_rejects_total{reason="duplicate_cl_ord_id"} 0
hft_order_rejects_total{reason="unknown_order"} 0
hft_order_rejects_total{reason="not_logged_on"} 0
hft_order_rejects_total{reason="invalid_side_or_tif"} 0
hft_order_rejects_total{reason="throttled"} 6
hft_order_rejects_total{reason="other"} 1
# TYPE hft_risk_rejects counter
# HELP hft_risk_rejects Orders stopped by the local risk checks.
hft_risk_rejects_total 11
# TYPE hft_cancels counter
# HELP hft_cancels Orders cancelled.
hft_cancels_total 12
# TYPE hft_orders_expired counter
# HELP hft_orders_expired Orders expired.
hft_orders_expired_total 13
# TYPE hft_reconnects counter
# HELP hft_reconnects Reconnections to the exchange.
hft_reconnects_total 14
# TYPE hft_cancel_rejects counter
# HELP hft_cancel_rejects Cancels the exchange refused because the order was already done.
hft_cancel_rejects_total 15
# TYPE hft_unsent_orders counter
# HELP hft_unsent_orders Orders decided while the exchange link was down, never sent.
hft_unsent_orders_total 16
# TYPE hft_dropped_records counter
# HELP hft_dropped_records Journal or latency records lost to a full ring; should stay 0.
hft_dropped_records_total 17
# TYPE hft_write_errors counter
# HELP hft_write_errors Failed writes to the session directory; should stay 0.
hft_write_errors_total 18
# TYPE hft_journal_records counter
# HELP hft_journal_records Records accepted into the session journal (orders sent, execution reports).
hft_journal_records_total 24
# TYPE hft_journal_lost counter
# HELP hft_journal_lost Journal records that never reached journal.bin; must stay 0.
hft_journal_lost_total 26
# TYPE hft_latency_samples_lost counter
# HELP hft_latency_samples_lost latency.csv rows lost to a full session disk.
hft_latency_samples_lost_total 27
# TYPE hft_md_recording_lost counter
# HELP hft_md_recording_lost Received market-data frames missing from market_data.rec (full ring or failed write).
hft_md_recording_lost_total 0
# TYPE hft_orders_held counter
# HELP hft_orders_held New orders not sent because the journal could not take their records.
hft_orders_held_total 28
# TYPE hft_journal_unwritten gauge
# HELP hft_journal_unwritten Journal records held in memory because the disk had no room.
hft_journal_unwritten 25
# TYPE hft_journal_complete gauge
# HELP hft_journal_complete 1 while the session journal holds every record, else 0.
hft_journal_complete 0
# TYPE hft_disk_full gauge
# HELP hft_disk_full 1 once a write to the session directory failed this session.
hft_disk_full 1
# TYPE hft_risk_max_order_qty gauge
# HELP hft_risk_max_order_qty Risk limit: largest order quantity.
hft_risk_max_order_qty 19
# TYPE hft_risk_max_position gauge
# HELP hft_risk_max_position Risk limit: largest absolute position per symbol.
hft_risk_max_position 20
# TYPE hft_risk_max_open_orders gauge
# HELP hft_risk_max_open_orders Risk limit: open orders.
hft_risk_max_open_orders 21
# TYPE hft_risk_max_orders_per_second gauge
# HELP hft_risk_max_orders_per_second Risk limit: orders sent per second.
hft_risk_max_orders_per_second 22
# TYPE hft_risk_price_band_bps gauge
# HELP hft_risk_price_band_bps Risk limit: price band around the mid, in basis points.
hft_risk_price_band_bps 23
# TYPE hft_position gauge
# HELP hft_position Signed position per symbol, + long.
hft_position{symbol_id="7"} -3
# TYPE hft_realized_pnl gauge
# HELP hft_realized_pnl Realized PnL per symbol.
hft_realized_pnl{symbol_id="7"} 12.5
# TYPE hft_unrealized_pnl gauge
# HELP hft_unrealized_pnl Unrealized PnL per symbol, marked at the mid.
hft_unrealized_pnl{symbol_id="7"} -0.25
# TYPE hft_mid_price gauge
# HELP hft_mid_price Current mid price per symbol.
hft_mid_price{symbol_id="7"} 101.125
# TYPE hft_latency_seconds summary
# UNIT hft_latency_seconds seconds
# HELP hft_latency_seconds Latency per pipeline stage since the session started (label stage).
hft_latency_seconds{stage="rx_to_sent",quantile="0"} 0.000001
hft_latency_seconds{stage="rx_to_sent",quantile="0.5"} 0.000002
hft_latency_seconds{stage="rx_to_sent",quantile="0.9"} 0.000003
hft_latency_seconds{stage="rx_to_sent",quantile="0.99"} 0.000004
hft_latency_seconds{stage="rx_to_sent",quantile="0.999"} 0.000005
hft_latency_seconds{stage="rx_to_sent",quantile="1"} 0.000006
hft_latency_seconds_sum{stage="rx_to_sent"} 0.00001
hft_latency_seconds_count{stage="rx_to_sent"} 4
hft_latency_seconds{stage="odd\"stage\\",quantile="0"} 0
hft_latency_seconds{stage="odd\"stage\\",quantile="0.5"} 0
hft_latency_seconds{stage="odd\"stage\\",quantile="0.9"} 0
hft_latency_seconds{stage="odd\"stage\\",quantile="0.99"} 0
hft_latency_seconds{stage="odd\"stage\\",quantile="0.999"} 0
hft_latency_seconds{stage="odd\"stage\\",quantile="1"} 0
hft_latency_seconds_sum{stage="odd\"stage\\"} 0
hft_latency_seconds_count{stage="odd\"stage\\"} 0
# EOF
)";

} // namespace

TEST_CASE("openmetrics: a known stats object gives exactly this OpenMetrics text") {
  CHECK(statsMetrics(knownStats(), MetricsDialect::OpenMetrics) == kKnownOpenMetrics);
}

TEST_CASE("openmetrics: label values escape backslash, double quote and newline only") {
  CHECK(escapeLabelValue("plain-1.2_x y") == "plain-1.2_x y");
  CHECK(escapeLabelValue("a\\b") == "a\\\\b");
  CHECK(escapeLabelValue("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(escapeLabelValue("one\ntwo") == "one\\ntwo");
  CHECK(escapeLabelValue("tab\tand é") == "tab\tand é"); // UTF-8 and tabs pass as they are
}

TEST_CASE("openmetrics: numbers read back exactly; non-finite values as NaN and +-Inf") {
  CHECK(metricNumber(0.0) == "0");
  CHECK(metricNumber(-0.25) == "-0.25");
  CHECK(metricNumber(0.1) == "0.1");
  CHECK(metricNumber(1795000000.0) == "1795000000");
  CHECK(metricNumber(1e-300) == "1e-300");
  CHECK(metricNumber(1e300) == "1e+300");
  CHECK(metricNumber(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(metricNumber(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(metricNumber(-std::numeric_limits<double>::infinity()) == "-Inf");
  const double awkward = 99999.0001;
  CHECK(std::stod(metricNumber(awkward)) == awkward);
}

TEST_CASE("openmetrics: a state this hftctl does not know is shown, escaped, as the current one") {
  hft::control::EngineStats s = knownStats();
  s.state = "re\"sync";
  const std::string text = statsMetrics(s, MetricsDialect::OpenMetrics);
  CHECK(text.find("hft_link_up 0\n") != std::string::npos);
  CHECK(text.find("hft_engine_state{state=\"trading\"} 0\n") != std::string::npos);
  CHECK(text.find("hft_engine_state{state=\"re\\\"sync\"} 1\n") != std::string::npos);
}

TEST_CASE("openmetrics: rejects an hftd does not report by reason show as reason unreported") {
  hft::control::EngineStats s = knownStats(); // 10 rejects, 3 + 6 + 1 by reason
  CHECK(statsMetrics(s, MetricsDialect::Prometheus).find("unreported") == std::string::npos);
  s.rejects = 14; // as an hftd older than this hftctl sends: no reasons for 4 of them
  const std::string text = statsMetrics(s, MetricsDialect::Prometheus);
  CHECK(text.find("hft_order_rejects_total{reason=\"throttled\"} 6\n"
                  "hft_order_rejects_total{reason=\"other\"} 1\n"
                  "hft_order_rejects_total{reason=\"unreported\"} 4\n") != std::string::npos);
}

TEST_CASE("openmetrics: the Prometheus dialect names counters by their sample, has no UNIT, "
          "info or EOF") {
  const std::string text = statsMetrics(knownStats(), MetricsDialect::Prometheus);
  CHECK(text.find("# HELP hft_orders_sent_total Orders sent to the exchange.\n"
                  "# TYPE hft_orders_sent_total counter\n"
                  "hft_orders_sent_total 6\n") != std::string::npos);
  CHECK(text.find("# HELP hft_session_info The current or last session (empty: none has run).\n"
                  "# TYPE hft_session_info gauge\n"
                  "hft_session_info{session_id=\"run \\\"A\\\"\\\\path\\ntwo\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("# HELP hft_latency_seconds Latency per pipeline stage since the session "
                  "started (label stage).\n# TYPE hft_latency_seconds summary\n") !=
        std::string::npos);
  CHECK(text.find("# UNIT") == std::string::npos);
  CHECK(text.find("# EOF") == std::string::npos);
  CHECK(text.find(" info\n") == std::string::npos);
  // The samples themselves are the same in both dialects.
  const auto samples = [](const std::string& all) {
    std::string out;
    std::size_t start = 0;
    while (start < all.size()) {
      const std::size_t end = all.find('\n', start);
      const std::string line = all.substr(start, end - start);
      if (line.rfind("#", 0) != 0)
        out += line + "\n";
      start = end + 1;
    }
    return out;
  };
  CHECK(samples(text) == samples(statsMetrics(knownStats(), MetricsDialect::OpenMetrics)));
}

TEST_CASE("openmetrics: no symbols and no latency stages still give every family's metadata") {
  hft::control::EngineStats s;
  s.state = "idle";
  const std::string text = statsMetrics(s, MetricsDialect::OpenMetrics);
  CHECK(text.find("# TYPE hft_position gauge\n") != std::string::npos);
  CHECK(text.find("# TYPE hft_latency_seconds summary\n") != std::string::npos);
  CHECK(text.find("hft_position{") == std::string::npos);
  CHECK(text.size() >= 6);
  CHECK(text.substr(text.size() - 6) == "# EOF\n");
}

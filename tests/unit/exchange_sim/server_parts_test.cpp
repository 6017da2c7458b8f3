// SPDX-License-Identifier: MIT
// The server's building blocks that need no socket: the bounded output buffer, the samples
// CSV and the stats JSON.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "exchange-sim/report/stats_report.h"
#include "exchange-sim/server/output_buffer.h"
#include "exchange-sim/server/sample_log.h"

using namespace hft;

namespace {

std::string tempPath(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("xsim-") + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("OutputBuffer: refuses what does not fit, and reuses space once sent") {
  server::OutputBuffer b(100);
  const std::vector<std::byte> sixty(60, std::byte{1});
  CHECK(b.append(sixty.data(), 60));
  CHECK(!b.append(sixty.data(), 60)); // 120 > 100: the caller calls it an overflow
  CHECK(b.size() == 60);
  b.consume(50);
  CHECK(b.append(sixty.data(), 60)); // moves the 10 unsent bytes to the front
  CHECK(b.size() == 70);
  b.consume(70);
  CHECK(b.empty());
  CHECK(b.fits(100));
}

TEST_CASE("SampleLog: one CSV row per order, empty tick-to-trade without md_timestamp") {
  const std::string path = tempPath("samples.csv");
  {
    server::SampleLog log(path, 2);
    log.record(100, 1, 3, 42, true);
    log.record(200, 2, 4, 0, false);
    log.record(300, 3, 1, -5, true); // past capacity: flushes first, never drops
    CHECK(log.rowsWritten() == 2);
  }
  CHECK(slurp(path) == "recv_ns,cl_ord_id,symbol_id,tick_to_trade_ns\n"
                       "100,1,3,42\n200,2,4,\n300,3,1,-5\n");
  std::filesystem::remove(path);
}

TEST_CASE("stats: the JSON holds every required key and the file is replaced atomically") {
  server::ServerCounters s;
  s.sessions = 2;
  s.marketDataFrames = 40;
  matching::MatchingCounters m;
  m.orders = 10;
  m.ordersAccepted = 8;
  m.ordersFilled = 6;
  m.fills = 7;
  m.rejectsByReason[matching::reasonIndex(protocol::RejectReason::Throttled)] = 2;
  core::Histogram h;
  h.record(1000);
  h.record(3000);
  const std::string json = report::statsJson({s, m, h, nullptr, 1.5});
  for (const char* key : {"\"orders\": 10",
                          "\"fills\": 7",
                          "\"partial_fills\"",
                          "\"fill_ratio\": 0.75",
                          "\"rejects\"",
                          "\"rejects_by_reason\"",
                          "\"throttled\": 2",
                          "\"cancels\"",
                          "\"expired\"",
                          "\"market_data_frames\": 40",
                          "\"sessions\": 2",
                          "\"malformed_frames\"",
                          "\"slow_consumer_disconnects\"",
                          "\"tick_to_trade_ns\"",
                          "\"count\": 2",
                          "\"min\": 1000",
                          "\"mean\"",
                          "\"p50\"",
                          "\"p90\"",
                          "\"p99\"",
                          "\"p99_9\"",
                          "\"max\": 3000"}) {
    CAPTURE(key);
    CHECK(json.find(key) != std::string::npos);
  }
  const std::string path = tempPath("stats.json");
  report::writeFileAtomically(path, "old");
  report::writeFileAtomically(path, json);
  CHECK(slurp(path) == json);
  std::filesystem::remove(path);
  CHECK_THROWS(report::writeFileAtomically("/nonexistent/dir/stats.json", json));
}

// SPDX-License-Identifier: MIT
// The exchange's end-of-run figures: a summary for the log and every counter as JSON for
// --stats-file, written atomically.
#pragma once

#include <string>
#include <vector>

#include "exchange-sim/matching/matching_engine.h"
#include "exchange-sim/server/exchange_server.h"
#include "libhft/core/histogram.h"

namespace hft::report {

struct RunFigures {
  const server::ServerCounters& server;
  const matching::MatchingCounters& matching;
  const core::Histogram& tickToTrade;
  const server::SampleLog* samples = nullptr; // nullptr without --samples-file
  double uptimeSec = 0.0;
  const market::DelayStats* orderDelays = nullptr; // the order-entry delays applied
  const market::DelayStats* mdDelays = nullptr;    // the market-data delays applied
};

// Filled orders over accepted orders; 0 when none was accepted.
[[nodiscard]] double fillRatio(const matching::MatchingCounters& c) noexcept;

// The summary lines logged at exit.
[[nodiscard]] std::vector<std::string> summaryLines(const RunFigures& figures);

// One JSON object with every counter (docs/exchange-sim.md lists the schema).
[[nodiscard]] std::string statsJson(const RunFigures& figures);

// Writes `text` to `path` through a temporary file in the same folder and rename(), so a reader
// never sees half a file. Throws std::system_error.
void writeFileAtomically(const std::string& path, const std::string& text);

} // namespace hft::report

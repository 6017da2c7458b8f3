// SPDX-License-Identifier: MIT
// exchange-sim: the mock exchange. Parses the settings, runs the server until SIGINT/SIGTERM,
// then logs and writes the run's figures.
#include <signal.h>

#include <cstdio>
#include <exception>

#include <spdlog/spdlog.h>

#include "exchange-sim/market/market_model.h"
#include "exchange-sim/options/sim_options.h"
#include "exchange-sim/report/stats_report.h"
#include "exchange-sim/server/exchange_server.h"
#include "libhft/core/clock.h"
#include "libhft/core/logging.h"

int main(int argc, char** argv) {
  using namespace hft;
  const options::CommandLine cmd = options::parseCommandLine(argc, argv);
  if (cmd.exit) {
    std::fputs(cmd.output.c_str(), stdout);
    std::fputs(cmd.error.c_str(), stderr);
    return cmd.exitCode;
  }
  const options::SimOptions& opt = cmd.options;
  core::setupLogging({"exchange-sim", opt.verbose, false});

  // Blocked before anything else runs: they are read from a signalfd by the event loop.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  try {
    const std::uint64_t started = core::monotonicNs();
    market::MarketModel market(opt.market);
    server::ExchangeServer server(opt.server, market, opt.matching);
    server.listen();
    spdlog::info("exchange-sim {}: {} symbols, depth {}, tick every {} ms{}, fill probability "
                 "{}%, seed {}{}{}",
                 HFT_VERSION, opt.market.symbols, opt.market.depth, opt.server.tickIntervalMs,
                 opt.server.tickIntervalMs == 0 ? " (as fast as clients read)" : "",
                 opt.matching.fillProbPercent, opt.market.seed,
                 opt.configFile.empty() ? "" : ", config ", opt.configFile);
    const int signal = server.run();
    spdlog::info("Stopped by {}", signal == SIGINT ? "SIGINT" : "SIGTERM");

    const report::RunFigures figures{server.counters(), server.matchingCounters(),
                                     server.tickToTrade(), server.samples(),
                                     static_cast<double>(core::monotonicNs() - started) / 1e9,
                                     &server.orderDelays()};
    for (const auto& line : report::summaryLines(figures))
      spdlog::info("{}", line);
    if (!opt.statsFile.empty()) {
      report::writeFileAtomically(opt.statsFile, report::statsJson(figures));
      spdlog::info("Stats written to {}", opt.statsFile);
    }
    return options::kExitOk;
  } catch (const std::exception& e) {
    spdlog::critical("exchange-sim: {}", e.what());
    return options::kExitFailure;
  }
}

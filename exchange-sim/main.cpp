// SPDX-License-Identifier: MIT
// exchange-sim: the mock exchange. Parses the settings, runs the server until SIGINT/SIGTERM,
// then logs and writes the run's figures.
#include <signal.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "exchange-sim/market/market_model.h"
#include "exchange-sim/options/sim_options.h"
#include "exchange-sim/report/stats_report.h"
#include "exchange-sim/server/exchange_server.h"
#include "libhft/core/clock.h"
#include "libhft/core/logging.h"
#include "libhft/protocol/md_recording.h"

int main(int argc, char** argv) {
  using namespace hft;
  const options::CommandLine cmd = options::parseCommandLine(argc, argv);
  if (cmd.exit) {
    std::fputs(cmd.output.c_str(), stdout);
    std::fputs(cmd.error.c_str(), stderr);
    return cmd.exitCode;
  }
  options::SimOptions opt = cmd.options;
  core::setupLogging({"exchange-sim", opt.verbose, false});

  // Opened and checked before anything listens: a bad recording fails at once (exit 66).
  std::unique_ptr<protocol::MdRecordingReader> recording;
  if (!opt.replayFile.empty() && opt.replaySpeed == 0.0 && !opt.server.mdLatency.zero()) {
    std::fputs("exchange-sim: a market-data delay needs a paced replay: --speed above 0\n", stderr);
    return options::kExitUsage;
  }
  if (!opt.replayFile.empty()) {
    try {
      recording = std::make_unique<protocol::MdRecordingReader>(opt.replayFile);
      const server::ReplayShape shape = server::checkReplay(*recording, opt.replayFile);
      opt.market.symbols = shape.symbols;
      opt.market.depth = shape.depth;
      // Speed 0: publish as fast as the clients read; otherwise the recording's own clock.
      opt.server.tickIntervalMs = opt.replaySpeed == 0.0 ? 0 : 1;
    } catch (const std::exception& e) {
      spdlog::critical("exchange-sim: --replay: {}", e.what());
      return options::kExitNoInput;
    }
  }

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
    if (recording)
      server.setReplay(recording.get(), opt.replaySpeed);
    server.listen();
    if (recording)
      spdlog::info("Replaying {}: {} frames, {} symbols, depth {}, speed {}", opt.replayFile,
                   recording->size(), opt.market.symbols, opt.market.depth,
                   opt.replaySpeed == 0.0 ? std::string("max")
                                          : fmt::format("x{}", opt.replaySpeed));
    spdlog::info("exchange-sim {}: {} symbols, depth {}, tick every {} ms{}, fill probability "
                 "{}%, seed {}{}{}",
                 HFT_VERSION, opt.market.symbols, opt.market.depth, opt.server.tickIntervalMs,
                 opt.server.tickIntervalMs == 0 ? " (as fast as clients read)" : "",
                 opt.matching.fillProbPercent, opt.market.seed,
                 opt.configFile.empty() ? "" : ", config ", opt.configFile);
    const int signal = server.run();
    spdlog::info("Stopped by {}", signal == SIGINT ? "SIGINT" : "SIGTERM");

    const report::RunFigures figures{server.counters(),
                                     server.matchingCounters(),
                                     server.tickToTrade(),
                                     server.samples(),
                                     static_cast<double>(core::monotonicNs() - started) / 1e9,
                                     &server.orderDelays(),
                                     &server.mdDelays()};
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

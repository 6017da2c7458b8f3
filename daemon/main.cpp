// SPDX-License-Identifier: MIT
// hftd: the trading engine daemon. A thin program over the engine and control libraries.
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include "daemon/config/command_line.h"
#include "daemon/control/control_server.h"
#include "daemon/engine/engine.h"
#include "libhft/core/clock.h"
#include "libhft/core/cpu.h"
#include "libhft/core/logging.h"

using namespace hft;

namespace {

// Everything but the workers runs on the cores they leave free (the control thread inherits
// this from the main thread). Run to completion has one worker: the strategy core is free.
void moveOffWorkerCores(const config::HftdConfig& cfg) {
  const bool pipeline = cfg.engine.layout == config::EngineLayout::Pipeline;
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = 0;
  for (const int c : core::allowedCpus())
    if (c != cfg.cpu.networkCore && (!pipeline || c != cfg.cpu.strategyCore)) {
      CPU_SET(c, &set);
      ++n;
    }
  if (n > 0 && sched_setaffinity(0, sizeof(set), &set) != 0)
    spdlog::warn("cannot move the control and main threads off the worker cores ({}): they may "
                 "share a core with a worker",
                 std::strerror(errno));
}

int run(const config::CommandLine& cmd) {
  config::HftdConfig cfg;
  try {
    cfg = config::resolveConfig(cmd);
  } catch (const config::ConfigError& e) {
    spdlog::critical("invalid configuration: {}", e.what());
    return config::kExitConfig;
  }
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  spdlog::info("hftd {} starting: configuration {}, exchange {}:{}, interface {}", HFT_VERSION,
               cfg.path.empty() ? "built-in defaults" : cfg.path, cfg.exchange.host,
               cfg.exchange.port, cfg.exchange.interface);

  // Worker cores must exist, be online and lie in the affinity we were started with.
  const auto online = core::onlineCpus();
  const auto allowed = core::allowedCpus();
  for (const auto& [name, coreId] :
       {std::pair{"network", cfg.cpu.networkCore}, std::pair{"strategy", cfg.cpu.strategyCore}})
    if (const std::string why = core::checkWorkerCore(coreId, online, allowed); !why.empty()) {
      spdlog::critical("invalid {} core: {}. Set [cpu] {}_core or --{}-core", name, why, name,
                       name);
      return config::kExitConfig;
    }

  // ONFAULT: pages are locked as they are touched, so idle thread stacks do not count, while
  // the rings (written through at allocation) are resident and locked.
  if (cfg.cpu.lockMemory && mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
    spdlog::warn("mlockall failed ({}): memory may be paged out. Raise LimitMEMLOCK= or set "
                 "[cpu] lock_memory = false",
                 std::strerror(errno));

  // Signals are taken synchronously by the main loop, never by a worker.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2})
    sigaddset(&signals, s);
  if (const int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
    spdlog::critical("cannot block the signals hftd handles: {}", std::strerror(err));
    return config::kExitFailure;
  }
  const int sigfd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) {
    // Without it SIGTERM and SIGHUP would be blocked and never seen: refuse to run.
    spdlog::critical("signalfd failed ({}): hftd could not be stopped or reloaded by a signal",
                     std::strerror(errno));
    return config::kExitFailure;
  }

  engine::Engine engine(cfg);
  // A reload re-reads the file with the same flags on top: they keep their precedence.
  engine.setConfigLoader(
      [cmd](const std::string& path) { return config::reloadConfig(cmd, path); });
  try {
    engine.start();
  } catch (const config::ConfigError& e) {
    spdlog::critical("{}", e.what());
    return config::kExitConfig;
  } catch (const std::exception& e) {
    spdlog::critical("cannot start the workers: {}", e.what());
    return config::kExitFailure;
  }
  moveOffWorkerCores(cfg);

  control::ControlServerOptions controlOptions;
  controlOptions.socketPath = cfg.control.socket;
  controlOptions.maxConnections = cfg.control.maxConnections;
  controlOptions.firstCallTimeout = std::chrono::milliseconds(cfg.control.idleTimeoutMs);
  control::ControlServer server(engine, controlOptions);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot serve the control socket {}: {}", cfg.control.socket, e.what());
    engine.shutdown();
    return config::kExitFailure;
  }
  spdlog::info("Control socket listening on {}", cfg.control.socket);
  sd_notify(0, "READY=1\nSTATUS=idle");

  const bool underSystemd = std::getenv("NOTIFY_SOCKET") != nullptr;
  const bool autostart = cfg.session.autostart == config::Autostart::Always ||
                         (cfg.session.autostart == config::Autostart::Interactive && !underSystemd);
  if (autostart) {
    try {
      engine.startSession(cfg.session.durationSec);
    } catch (const std::exception& e) {
      spdlog::critical("start-up session failed: {}", e.what());
      server.stop();
      engine.shutdown();
      return config::kExitFailure;
    }
  }

  const bool testHooks = std::getenv("HFTD_TEST_HOOKS") != nullptr &&
                         std::string(std::getenv("HFTD_TEST_HOOKS")) == "1";
  std::uint64_t watchdogUsec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdogUsec) > 0;
  std::uint64_t lastPing = 0;
  int exitCode = config::kExitOk;
  for (;;) {
    pollfd p{sigfd, POLLIN, 0};
    ::poll(&p, 1, 100);
    signalfd_siginfo info{};
    bool quit = false;
    while (::read(sigfd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      if (info.ssi_signo == SIGHUP) {
        try {
          engine.reload();
        } catch (const std::exception& e) {
          spdlog::error("SIGHUP reload failed: {}", e.what());
        }
      } else if (info.ssi_signo == SIGUSR1) {
        if (testHooks)
          engine.toggleRecordStallForTest();
        else
          spdlog::warn("SIGUSR1 ignored (test hooks are off)");
      } else if (info.ssi_signo == SIGUSR2) {
        if (testHooks)
          engine.stallStrategyForTest();
        else
          spdlog::warn("SIGUSR2 ignored (test hooks are off)");
      } else {
        spdlog::info("Signal {} received: stopping", strsignal(static_cast<int>(info.ssi_signo)));
        quit = true;
      }
    }
    if (quit)
      break;
    engine.tick();
    if (watchdog) {
      const std::uint64_t now = core::monotonicNs() / 1000;
      if (now - lastPing >= watchdogUsec / 2) {
        lastPing = now;
        // Only while both workers prove alive: a stalled worker gets us restarted.
        if (engine.workersAlive())
          sd_notify(0, "WATCHDOG=1");
        else
          spdlog::error("A worker thread stopped advancing: withholding the watchdog ping");
      }
    }
  }
  sd_notify(0, "STOPPING=1");
  server.stop();
  engine.shutdown();
  spdlog::info("hftd stopped");
  return exitCode;
}

} // namespace

int main(int argc, char** argv) {
  config::CommandLine cmd;
  try {
    cmd = config::parseCommandLine(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const config::UsageError& e) {
    std::cerr << "hftd: " << e.what() << "\n";
    return config::kExitUsage;
  }
  if (cmd.help) {
    std::cout << config::usageText();
    return config::kExitOk;
  }
  if (cmd.version) {
    std::cout << "hftd " << HFT_VERSION << "\n";
    return config::kExitOk;
  }
  core::setupLogging({"hftd", cmd.verbose, false});
  if (cmd.checkConfigPath) {
    try {
      (void)config::loadConfig(*cmd.checkConfigPath);
      std::cout << *cmd.checkConfigPath << ": valid\n";
      return config::kExitOk;
    } catch (const config::ConfigError& e) {
      std::cerr << "hftd: " << e.what() << "\n";
      return config::kExitConfig;
    }
  }
  try {
    return run(cmd);
  } catch (const std::exception& e) {
    spdlog::critical("hftd failed: {}", e.what());
    return config::kExitFailure;
  }
}

// SPDX-License-Identifier: MIT
// hftd-fake-control: the real ControlServer over a scripted engine, for hftctl's end-to-end tests.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "daemon/control/control_server.h"
#include "libhft/core/logging.h"
#include "tests/unit/control/fake_target.h"

namespace {

int usage() {
  std::cerr << "Usage: hftd-fake-control --socket PATH [--group NAME] [--admin-group NAME]\n"
               "                         [--max-connections N] [--first-call-timeout-ms MS]\n"
               "                         [--idle-timeout-ms MS] [--fail-reload]\n"
               "Serves io.hft.Engine1 with a fake engine; prints 'ready' once listening and\n"
               "stops on SIGTERM or SIGINT.\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  hft::control::ControlServerOptions options;
  hft::control::testing::FakeTarget target;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool hasValue = i + 1 < argc;
    if (arg == "--socket" && hasValue)
      options.socketPath = argv[++i];
    else if (arg == "--group" && hasValue)
      options.socketGroup = argv[++i];
    else if (arg == "--admin-group" && hasValue)
      options.adminGroup = argv[++i];
    else if (arg == "--max-connections" && hasValue)
      options.maxConnections = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--first-call-timeout-ms" && hasValue)
      options.firstCallTimeout = std::chrono::milliseconds(std::strtol(argv[++i], nullptr, 10));
    else if (arg == "--idle-timeout-ms" && hasValue)
      options.idleTimeout = std::chrono::milliseconds(std::strtol(argv[++i], nullptr, 10));
    else if (arg == "--fail-reload")
      target.failReload = true;
    else
      return usage();
  }

  hft::core::setupLogging({.program = "hftd-fake-control", .verbose = true, .forceStderr = true});

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Blocked before the control thread starts, so only sigwait() below sees them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  try {
    hft::control::ControlServer server(target, options);
    server.start();
    std::cout << "ready " << server.socketPath() << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  } catch (const std::exception& e) {
    std::cerr << "hftd-fake-control: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

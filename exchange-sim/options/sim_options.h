// SPDX-License-Identifier: MIT
// exchange-sim's settings: built-in defaults, then the TOML file (--config), then the flags;
// every refusal names what is wrong and how to fix it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "exchange-sim/market/market_model.h"
#include "exchange-sim/matching/matching_engine.h"
#include "exchange-sim/server/exchange_server.h"

namespace hft::options {

// Documented exit codes (docs/exchange-sim.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // start-up or run-time failure (e.g. port in use)
inline constexpr int kExitUsage = 2;    // unknown flag or bad flag value
inline constexpr int kExitConfig = 78;  // EX_CONFIG: the configuration file is refused
inline constexpr int kExitNoInput = 66; // EX_NOINPUT: the --replay recording is unusable

struct SimOptions {
  market::MarketParams market;
  matching::MatchingParams matching;
  server::ServerParams server;
  std::string statsFile;    // "" = no stats file
  std::string replayFile;   // "" = the random walk
  double replaySpeed = 1.0; // 1 = the recording's pacing; 0 = as fast as the clients read
  std::string configFile;   // "" = built-in defaults only
  bool verbose = false;
};

// A refused configuration file: "file:line:column: [section] key: problem".
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A refused command line: names the flag and the fix.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Applies a TOML document over `options`. `path` is only for messages. Throws ConfigError.
void applyConfig(SimOptions& options, std::string_view text, const std::string& path);
// Reads and applies a file. Throws ConfigError (also when it cannot be read).
void applyConfigFile(SimOptions& options, const std::string& path);

// Checks that settings agree with each other; returns "" or what is wrong.
[[nodiscard]] std::string crossCheck(const SimOptions& options);

struct CommandLine {
  bool exit = false; // print `output`/`error` and exit with exitCode instead of running
  int exitCode = kExitOk;
  std::string output; // for stdout (--help, --version)
  std::string error;  // for stderr
  SimOptions options;
};

// Defaults, then --config FILE, then the other flags over it. Never throws.
[[nodiscard]] CommandLine parseCommandLine(int argc, const char* const* argv);

[[nodiscard]] std::string usage();

} // namespace hft::options

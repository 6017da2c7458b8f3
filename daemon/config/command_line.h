// SPDX-License-Identifier: MIT
// hftd's command line: the seed's flags plus the ones that override the configuration file.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/config/hftd_config.h"

namespace hft::config {

// Exit codes, documented in `hftd --help` and docs/hftd.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1; // a run-time failure (socket, exchange, threads)
inline constexpr int kExitUsage = 2;   // a bad flag or value on the command line
inline constexpr int kExitConfig = 78; // an invalid setting (EX_CONFIG): file, flag or core

inline constexpr const char* kDefaultConfigPath = "/etc/hft/hftd.toml";

class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  std::optional<std::string> configPath;      // --config
  std::optional<std::string> checkConfigPath; // --check-config FILE
  std::optional<std::string> interface;
  std::optional<int> networkCore;
  std::optional<int> strategyCore;
  std::optional<std::string> exchangeHost;
  std::optional<std::uint16_t> exchangePort;
  std::optional<std::string> socket;
  std::optional<std::string> sessionsDir;
  std::optional<PollMode> pollMode;
  std::optional<MdTransport> mdTransport;
  std::optional<std::string> udpFeed;    // --udp-feed ADDRESS:PORT, checked when parsed
  std::optional<std::uint32_t> xdpQueue; // --xdp-queue N
  std::optional<Autostart> autostart;    // --start-session / --idle
  std::optional<std::uint32_t> durationSec;
  bool verbose = false;
  bool help = false;
  bool version = false;
};

// Parses argv. Throws UsageError naming the flag and the fix.
[[nodiscard]] CommandLine parseCommandLine(const std::vector<std::string>& args);
[[nodiscard]] std::string usageText();

// The configuration hftd runs with: the file (explicit, or the default path when it exists,
// or built-in defaults) with the flags applied on top, validated. Throws ConfigError.
[[nodiscard]] HftdConfig resolveConfig(const CommandLine& cmd);

// What a reload reads: `path` again, with the same flags on top, so that a flag (or
// $HFTD_ARGS in the unit) keeps its precedence over the file for as long as hftd runs.
// Throws ConfigError.
[[nodiscard]] HftdConfig reloadConfig(const CommandLine& cmd, const std::string& path);

} // namespace hft::config

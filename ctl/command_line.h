// SPDX-License-Identifier: MIT
// hftctl's command line: commands, options, help texts and exit codes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hft::ctl {

// hftctl's exit codes, as documented in `hftctl --help` and docs/control.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;     // the daemon refused or failed, or access was denied
inline constexpr int kExitUsage = 2;      // unknown command or option, bad value
inline constexpr int kExitNotRunning = 3; // no daemon on the socket

enum class Command { Status, Stats, StartSession, StopSession, KillSwitch, Reload, Version };

// --format: text (tables, the default), json (also --json), and for stats only the metric
// expositions openmetrics (OpenMetrics 1.0) and prometheus (text 0.0.4, node_exporter's).
enum class Format { Text, Json, OpenMetrics, Prometheus };

struct Options {
  std::optional<Command> command; // empty only with help or clientVersion
  std::string socketPath;         // --socket, else $HFTD_SOCKET, else the default
  Format format = Format::Text;
  bool json = false;              // format == Format::Json
  bool help = false;              // --help: the tool's help, or the command's when one is given
  bool clientVersion = false;     // --version: hftctl's own version, no daemon needed
  std::uint32_t durationSec = 0;  // start-session --duration
  bool killSwitchOn = false;      // kill-switch on|off
  std::optional<double> watchSec; // stats --watch
  std::string textfile;           // stats --textfile: also write Prometheus text here, atomically
};

struct UsageError {
  std::string message;
};

// `args` excludes the program name; `envSocket` is $HFTD_SOCKET or null.
[[nodiscard]] std::variant<Options, UsageError>
parseCommandLine(const std::vector<std::string>& args, const char* envSocket);

[[nodiscard]] std::string_view commandName(Command command) noexcept;
[[nodiscard]] std::string toolHelp();
[[nodiscard]] std::string commandHelp(Command command);

} // namespace hft::ctl

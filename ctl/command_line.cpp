// SPDX-License-Identifier: MIT
// hftctl's command line: global options anywhere, one command, its own options after it.
#include "ctl/command_line.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "libhft/control/control_protocol.h"
#include "libhft/core/options.h"

namespace hft::ctl {
namespace {

struct CommandInfo {
  Command command;
  std::string_view name;
  std::string_view synopsis;
  std::string_view summary;
  std::string_view details;
};

constexpr std::array<CommandInfo, 7> kCommands{{
    {Command::Status, "status", "status", "Show the engine state, session and configuration.",
     "Open to members of group hft. Exit 0 when hftd answers, 3 when it is not running."},
    {Command::Stats, "stats", "stats [--watch SECS] [--textfile PATH]",
     "Show counters, per-symbol positions and PnL, and latency percentiles (ns).",
     "  --watch SECS     redraw every SECS seconds (clears the screen) over one connection\n"
     "                   until Ctrl-C, then exit 0; with --json one JSON document per line,\n"
     "                   with --format openmetrics|prometheus one exposition per refresh.\n"
     "  --textfile PATH  also write the metrics in Prometheus text format to PATH (temporary\n"
     "                   file in the same directory, then rename) on every refresh: for\n"
     "                   node_exporter's textfile collector (*.prom).\n"
     "  --format openmetrics  the metrics in OpenMetrics text, ending in `# EOF`;\n"
     "  --format prometheus   the same in Prometheus text format 0.0.4.\n"
     "Open to members of group hft."},
    {Command::StartSession, "start-session", "start-session [--duration SECS]",
     "Start a trading session and print its id.",
     "  --duration SECS  end the session after SECS seconds (default 0: run until\n"
     "                   `hftctl stop-session`).\n"
     "Needs root or group hft-admin. Exit 1 if a session is already running."},
    {Command::StopSession, "stop-session", "stop-session",
     "Stop the running session and print its summary.",
     "Needs root or group hft-admin. Exit 1 if no session is running."},
    {Command::KillSwitch, "kill-switch", "kill-switch on|off",
     "Turn the kill switch on (stop sending orders) or off.", "Needs root or group hft-admin."},
    {Command::Reload, "reload", "reload",
     "Re-read the configuration file; list what was applied and what needs a restart.",
     "Needs root or group hft-admin. An invalid file is refused (exit 1) and the running\n"
     "configuration stays in force."},
    {Command::Version, "version", "version", "Print the versions of hftctl and hftd.",
     "Open to members of group hft."},
}};

const CommandInfo* findCommand(std::string_view name) {
  for (const CommandInfo& info : kCommands)
    if (info.name == name)
      return &info;
  return nullptr;
}

const CommandInfo& infoOf(Command command) {
  for (const CommandInfo& info : kCommands)
    if (info.command == command)
      return info;
  return kCommands[0];
}

std::optional<std::uint32_t> parseSeconds(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::optional<double> parsePositiveSeconds(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos)
    return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value) || value <= 0.0 || value > 86400.0)
    return std::nullopt;
  return value;
}

// Global options and each command's own, all in one table: getopt_long finds them anywhere on
// the line, and the checks below say which command an option belongs to.
enum OptionId : int {
  OptHelp = 1,
  OptJson,
  OptFormat,
  OptTextfile,
  OptVersion,
  OptSocket,
  OptDuration,
  OptWatch,
};

const std::vector<core::OptionSpec> kOptions = {
    {"help", 'h', false, OptHelp},         {"json", '\0', false, OptJson},
    {"format", '\0', true, OptFormat},     {"textfile", '\0', true, OptTextfile},
    {"version", '\0', false, OptVersion},  {"socket", '\0', true, OptSocket},
    {"duration", '\0', true, OptDuration}, {"watch", '\0', true, OptWatch},
};

std::string missingValue(int id) {
  switch (id) {
  case OptFormat: return "--format needs text, json, openmetrics or prometheus";
  case OptTextfile: return "--textfile needs a PATH";
  case OptSocket: return "--socket needs a PATH";
  case OptDuration: return "--duration needs a number of seconds";
  case OptWatch: return "--watch needs a number of seconds";
  default: return "an option needs a value";
  }
}

} // namespace

std::string_view commandName(Command command) noexcept { return infoOf(command).name; }

std::variant<Options, UsageError> parseCommandLine(const std::vector<std::string>& args,
                                                   const char* envSocket) {
  Options options;
  std::optional<std::string> socket;
  std::optional<std::string> duration;
  std::optional<std::string> watch;
  std::optional<std::string> killSwitch;
  std::optional<Format> format;
  std::optional<std::string> textfile;
  // --json and --format may both be given only if they agree.
  auto setFormat = [&](Format wanted, std::string_view spelling) -> std::optional<UsageError> {
    if (format && *format != wanted)
      return UsageError{fmt::format("{} contradicts an earlier --json or --format", spelling)};
    format = wanted;
    return std::nullopt;
  };

  core::ParsedArgs parsed;
  try {
    parsed = core::parseOptions(args, kOptions);
  } catch (const core::OptionError& e) {
    using Kind = core::OptionError::Kind;
    switch (e.kind()) {
    case Kind::MissingValue: return UsageError{missingValue(e.id())};
    case Kind::UnexpectedValue: return UsageError{fmt::format("{} takes no value", e.argument())};
    case Kind::Ambiguous:
      return UsageError{
          fmt::format("option '{}' is ambiguous: it begins several options", e.argument())};
    case Kind::Unknown: break;
    }
    return UsageError{fmt::format("unknown option '{}'", e.argument())};
  }

  for (const core::ParsedOption& option : parsed.options) {
    const std::string value = option.value.value_or("");
    switch (static_cast<OptionId>(option.id)) {
    case OptHelp: options.help = true; break;
    case OptJson:
      if (auto error = setFormat(Format::Json, option.spelling))
        return *error;
      break;
    case OptFormat: {
      std::optional<Format> wanted;
      if (value == "text")
        wanted = Format::Text;
      else if (value == "json")
        wanted = Format::Json;
      else if (value == "openmetrics")
        wanted = Format::OpenMetrics;
      else if (value == "prometheus")
        wanted = Format::Prometheus;
      else
        return UsageError{
            fmt::format("--format takes text, json, openmetrics or prometheus, not '{}'", value)};
      if (auto error = setFormat(*wanted, "--format " + value))
        return *error;
      break;
    }
    case OptTextfile:
      if (value.empty())
        return UsageError{missingValue(OptTextfile)};
      textfile = value;
      break;
    case OptVersion: options.clientVersion = true; break;
    case OptSocket:
      if (value.empty())
        return UsageError{missingValue(OptSocket)};
      socket = value;
      break;
    case OptDuration: duration = value; break;
    case OptWatch: watch = value; break;
    }
  }
  for (const std::string& arg : parsed.operands) {
    if (!options.command) {
      const CommandInfo* info = findCommand(arg);
      if (info == nullptr)
        return UsageError{fmt::format("unknown command '{}'", arg)};
      options.command = info->command;
    } else if (options.command == Command::KillSwitch && !killSwitch) {
      killSwitch = arg;
    } else {
      return UsageError{
          fmt::format("unexpected argument '{}' for {}", arg, commandName(*options.command))};
    }
  }

  options.format = format.value_or(Format::Text);
  options.json = options.format == Format::Json;
  if (socket)
    options.socketPath = *socket;
  else if (envSocket != nullptr && *envSocket != '\0')
    options.socketPath = envSocket;
  else
    options.socketPath = control::kDefaultSocketPath;

  if (options.help || (options.clientVersion && !options.command))
    return options;
  if (!options.command)
    return UsageError{"no command given"};

  const Command command = *options.command;
  if (duration) {
    if (command != Command::StartSession)
      return UsageError{
          fmt::format("--duration is an option of start-session, not {}", commandName(command))};
    const auto seconds = parseSeconds(*duration);
    if (!seconds)
      return UsageError{fmt::format("--duration needs a whole number of seconds (0 = until "
                                    "stop-session), not '{}'",
                                    *duration)};
    options.durationSec = *seconds;
  }
  if (watch) {
    if (command != Command::Stats)
      return UsageError{fmt::format("--watch is an option of stats, not {}", commandName(command))};
    options.watchSec = parsePositiveSeconds(*watch);
    if (!options.watchSec)
      return UsageError{fmt::format("--watch needs a number of seconds greater than 0 (at most "
                                    "86400), not '{}'",
                                    *watch)};
  }
  if ((options.format == Format::OpenMetrics || options.format == Format::Prometheus) &&
      command != Command::Stats)
    return UsageError{
        fmt::format("--format {} is a format of stats, not {}",
                    options.format == Format::OpenMetrics ? "openmetrics" : "prometheus",
                    commandName(command))};
  if (textfile) {
    if (command != Command::Stats)
      return UsageError{
          fmt::format("--textfile is an option of stats, not {}", commandName(command))};
    options.textfile = *textfile;
  }
  if (command == Command::KillSwitch) {
    if (!killSwitch)
      return UsageError{"kill-switch needs 'on' or 'off'"};
    if (*killSwitch == "on")
      options.killSwitchOn = true;
    else if (*killSwitch == "off")
      options.killSwitchOn = false;
    else
      return UsageError{fmt::format("kill-switch takes 'on' or 'off', not '{}'", *killSwitch)};
  }
  return options;
}

std::string toolHelp() {
  std::string commands;
  for (const CommandInfo& info : kCommands)
    commands += fmt::format("  {:<34} {}\n", info.synopsis, info.summary);
  return fmt::format(
      "Usage: hftctl [--socket PATH] [--json | --format FORMAT] COMMAND [OPTIONS]\n"
      "Control and inspect hftd, the trading engine, through its control socket.\n"
      "\n"
      "Commands:\n"
      "{}"
      "\n"
      "Options (anywhere on the line):\n"
      "  --socket PATH   the control socket (default: $HFTD_SOCKET, else {})\n"
      "  --json          machine-readable output on stdout (same as --format json)\n"
      "  --format FORMAT text (default), json; for stats also openmetrics, prometheus\n"
      "  -h, --help      this help; `hftctl COMMAND --help` for one command\n"
      "  --version       print hftctl's version and exit\n"
      "\n"
      "Permissions: the socket is open to group hft (status, stats, version); start-session,\n"
      "stop-session, kill-switch and reload need root or group hft-admin.\n"
      "\n"
      "Exit status:\n"
      "  0  done\n"
      "  1  hftd refused or failed the request (the message says why), or access was denied\n"
      "  2  usage error: unknown command or option, or a bad value\n"
      "  3  hftd is not running: the socket is absent or nobody listens on it\n",
      commands, control::kDefaultSocketPath);
}

std::string commandHelp(Command command) {
  const CommandInfo& info = infoOf(command);
  return fmt::format("Usage: hftctl [--socket PATH] [--json | --format FORMAT] {}\n{}\n\n{}\n\n"
                     "Exit status: 0 done, 1 refused or failed, 2 usage error, 3 hftd not "
                     "running.\n",
                     info.synopsis, info.summary, info.details);
}

} // namespace hft::ctl

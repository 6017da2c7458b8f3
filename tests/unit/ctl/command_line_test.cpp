// SPDX-License-Identifier: MIT
// hftctl's argument parsing: every command, every option, every usage error.
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "ctl/command_line.h"
#include "libhft/control/control_protocol.h"

using hft::ctl::Command;
using hft::ctl::Options;
using hft::ctl::parseCommandLine;
using hft::ctl::UsageError;

namespace {

Options parseOk(const std::vector<std::string>& args, const char* env = nullptr) {
  auto result = parseCommandLine(args, env);
  if (const auto* error = std::get_if<UsageError>(&result))
    FAIL("unexpected usage error: " << error->message);
  return std::get<Options>(result);
}

std::string parseError(const std::vector<std::string>& args) {
  auto result = parseCommandLine(args, nullptr);
  REQUIRE_MESSAGE(std::holds_alternative<UsageError>(result), "expected a usage error");
  return std::get<UsageError>(result).message;
}

} // namespace

TEST_CASE("hftctl args: each command name maps to its command") {
  CHECK(parseOk({"status"}).command == Command::Status);
  CHECK(parseOk({"stats"}).command == Command::Stats);
  CHECK(parseOk({"start-session"}).command == Command::StartSession);
  CHECK(parseOk({"stop-session"}).command == Command::StopSession);
  CHECK(parseOk({"kill-switch", "on"}).command == Command::KillSwitch);
  CHECK(parseOk({"reload"}).command == Command::Reload);
  CHECK(parseOk({"version"}).command == Command::Version);
}

TEST_CASE("hftctl args: the socket comes from --socket, else HFTD_SOCKET, else the default") {
  CHECK(parseOk({"status"}).socketPath == hft::control::kDefaultSocketPath);
  CHECK(parseOk({"status"}, "").socketPath == hft::control::kDefaultSocketPath);
  CHECK(parseOk({"status"}, "/tmp/env.sock").socketPath == "/tmp/env.sock");
  CHECK(parseOk({"--socket", "/tmp/a.sock", "status"}, "/tmp/env.sock").socketPath ==
        "/tmp/a.sock");
  CHECK(parseOk({"status", "--socket=/tmp/b.sock"}).socketPath == "/tmp/b.sock");
}

TEST_CASE("hftctl args: --json is accepted before or after the command") {
  CHECK(parseOk({"--json", "stats"}).json);
  CHECK(parseOk({"stats", "--json"}).json);
  CHECK_FALSE(parseOk({"stats"}).json);
}

TEST_CASE("hftctl args: --format picks text, json, openmetrics or prometheus; --json is json") {
  using hft::ctl::Format;
  CHECK(parseOk({"stats"}).format == Format::Text);
  CHECK(parseOk({"stats", "--format", "text"}).format == Format::Text);
  CHECK(parseOk({"--format=json", "status"}).format == Format::Json);
  CHECK(parseOk({"--format=json", "status"}).json);
  CHECK(parseOk({"--json", "stats", "--format", "json"}).format == Format::Json);
  CHECK(parseOk({"stats", "--format", "openmetrics"}).format == Format::OpenMetrics);
  CHECK_FALSE(parseOk({"stats", "--format", "openmetrics"}).json);
  CHECK(parseOk({"stats", "--format", "prometheus", "--watch", "1"}).format == Format::Prometheus);
  CHECK(parseError({"stats", "--format"}).find("--format needs") == 0);
  CHECK(parseError({"stats", "--format", "yaml"}) ==
        "--format takes text, json, openmetrics or prometheus, not 'yaml'");
  CHECK(parseError({"--json", "stats", "--format", "text"}).find("contradicts") !=
        std::string::npos);
  CHECK(parseError({"status", "--format", "openmetrics"}) ==
        "--format openmetrics is a format of stats, not status");
}

TEST_CASE("hftctl args: stats --textfile takes a path; other commands refuse it") {
  CHECK(parseOk({"stats"}).textfile.empty());
  CHECK(parseOk({"stats", "--textfile", "/tmp/x/hft.prom"}).textfile == "/tmp/x/hft.prom");
  CHECK(parseOk({"--json", "stats", "--watch", "1", "--textfile=/t/h.prom"}).textfile ==
        "/t/h.prom");
  CHECK(parseError({"stats", "--textfile"}) == "--textfile needs a PATH");
  CHECK(parseError({"status", "--textfile", "/t/h.prom"}) ==
        "--textfile is an option of stats, not status");
}

TEST_CASE("hftctl args: start-session takes --duration in whole seconds, default 0") {
  CHECK(parseOk({"start-session"}).durationSec == 0);
  CHECK(parseOk({"start-session", "--duration", "3600"}).durationSec == 3600);
  CHECK(parseOk({"start-session", "--duration=60"}).durationSec == 60);
  CHECK(parseOk({"start-session", "--duration", "4294967295"}).durationSec == 4294967295U);
}

TEST_CASE("hftctl args: stats --watch takes a positive number of seconds") {
  CHECK_FALSE(parseOk({"stats"}).watchSec.has_value());
  CHECK(parseOk({"stats", "--watch", "1"}).watchSec == doctest::Approx(1.0));
  CHECK(parseOk({"stats", "--watch=0.5"}).watchSec == doctest::Approx(0.5));
}

TEST_CASE("hftctl args: kill-switch takes on or off") {
  CHECK(parseOk({"kill-switch", "on"}).killSwitchOn);
  CHECK_FALSE(parseOk({"kill-switch", "off"}).killSwitchOn);
}

TEST_CASE("hftctl args: --help for the tool and for each command") {
  const Options tool = parseOk({"--help"});
  CHECK(tool.help);
  CHECK_FALSE(tool.command.has_value());
  const Options stats = parseOk({"stats", "--help"});
  CHECK(stats.help);
  CHECK(stats.command == Command::Stats);
  // Help wins over missing arguments: `hftctl kill-switch --help` needs no on/off.
  CHECK(parseOk({"kill-switch", "-h"}).help);
  CHECK(parseOk({"--version"}).clientVersion);
}

TEST_CASE("hftctl args: usage errors say what was wrong") {
  CHECK(parseError({}) == "no command given");
  CHECK(parseError({"--json"}) == "no command given");
  CHECK(parseError({"frobnicate"}) == "unknown command 'frobnicate'");
  CHECK(parseError({"status", "--verbose"}) == "unknown option '--verbose'");
  CHECK(parseError({"status", "extra"}).find("unexpected argument 'extra'") != std::string::npos);
  CHECK(parseError({"--socket"}) == "--socket needs a PATH");
  CHECK(parseError({"status", "--socket="}) == "--socket needs a PATH");
  CHECK(parseError({"start-session", "--duration"}).find("--duration needs") == 0);
  CHECK(parseError({"start-session", "--duration", "-5"}).find("whole number") !=
        std::string::npos);
  CHECK(parseError({"start-session", "--duration", "ten"}).find("'ten'") != std::string::npos);
  CHECK(parseError({"start-session", "--duration", "4294967296"}).find("whole number") !=
        std::string::npos);
  CHECK(parseError({"start-session", "--duration", "1.5"}).find("whole number") !=
        std::string::npos);
  CHECK(parseError({"status", "--duration", "5"}) ==
        "--duration is an option of start-session, not status");
  CHECK(parseError({"stats", "--watch"}).find("--watch needs") == 0);
  CHECK(parseError({"stats", "--watch", "0"}).find("greater than 0") != std::string::npos);
  CHECK(parseError({"stats", "--watch", "-1"}).find("greater than 0") != std::string::npos);
  CHECK(parseError({"stats", "--watch", "soon"}).find("'soon'") != std::string::npos);
  CHECK(parseError({"status", "--watch", "1"}) == "--watch is an option of stats, not status");
  CHECK(parseError({"kill-switch"}) == "kill-switch needs 'on' or 'off'");
  CHECK(parseError({"kill-switch", "maybe"}) == "kill-switch takes 'on' or 'off', not 'maybe'");
  CHECK(parseError({"kill-switch", "on", "off"}).find("unexpected argument 'off'") !=
        std::string::npos);
}

TEST_CASE("hftctl args: the tool help lists every command and every exit code") {
  const std::string help = hft::ctl::toolHelp();
  for (const char* name : {"status", "stats", "start-session", "stop-session", "kill-switch",
                           "reload", "version", "--socket", "--json", "--format", "openmetrics",
                           "--watch", "--duration", "HFTD_SOCKET", "hft-admin"})
    CHECK_MESSAGE(help.find(name) != std::string::npos, name);
  for (const char* code : {"  0  ", "  1  ", "  2  ", "  3  "})
    CHECK_MESSAGE(help.find(code) != std::string::npos, code);
  CHECK(hft::ctl::commandHelp(Command::Stats).find("--watch SECS") != std::string::npos);
  CHECK(hft::ctl::commandHelp(Command::Stats).find("--textfile PATH") != std::string::npos);
  CHECK(hft::ctl::commandHelp(Command::StartSession).find("--duration SECS") != std::string::npos);
}

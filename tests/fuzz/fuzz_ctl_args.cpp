// SPDX-License-Identifier: MIT
// Fuzz target: hftctl's command line (ctl/command_line.cpp); the input is argv without the
// program name, split on NUL bytes. Nothing may be thrown: every refusal is a returned UsageError.
#include <string>
#include <variant>

#include "ctl/command_line.h"
#include "libhft/control/control_protocol.h"
#include "tests/fuzz/argv_split.h"
#include "tests/fuzz/fuzz_check.h"

using namespace hft::ctl;

namespace {

void checkParse(const std::vector<std::string>& args, const char* envSocket) {
  // noexcept in effect: an exception reaching libFuzzer is reported as a crash.
  const std::variant<Options, UsageError> parsed = parseCommandLine(args, envSocket);
  if (const auto* usage = std::get_if<UsageError>(&parsed)) {
    FUZZ_CHECK(!usage->message.empty());
    return;
  }
  const Options& o = std::get<Options>(parsed);
  FUZZ_CHECK(!o.socketPath.empty());
  if (envSocket == nullptr || *envSocket == '\0') {
    bool socketFlag = false;
    for (const auto& a : args)
      socketFlag = socketFlag || hft::fuzz::mayName(a, "--socket");
    if (!socketFlag)
      FUZZ_CHECK(o.socketPath == hft::control::kDefaultSocketPath);
  }
  if (!o.help && !o.clientVersion)
    FUZZ_CHECK(o.command.has_value()); // "no command given" is a usage error
  if (o.command) {
    FUZZ_CHECK(!commandName(*o.command).empty());
    FUZZ_CHECK(!commandHelp(*o.command).empty());
  }
  if (!o.help && o.command) {
    // Each command's options only with that command, and in range.
    if (o.durationSec != 0)
      FUZZ_CHECK(*o.command == Command::StartSession);
    if (o.watchSec)
      FUZZ_CHECK(*o.command == Command::Stats && *o.watchSec > 0.0 && *o.watchSec <= 86400.0);
    if (o.killSwitchOn)
      FUZZ_CHECK(*o.command == Command::KillSwitch);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> args = hft::fuzz::splitArgs(data, size);
  checkParse(args, nullptr);
  checkParse(args, "");
  checkParse(args, "/tmp/hftd-fuzz.sock");
  return 0;
}

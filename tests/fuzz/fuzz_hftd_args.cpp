// SPDX-License-Identifier: MIT
// Fuzz target: hftd's command line (daemon/config/command_line.cpp); argv split on NUL bytes.
// Only config::UsageError may escape; what is accepted is in the documented ranges.
#include <string>

#include "daemon/config/command_line.h"
#include "tests/fuzz/argv_split.h"
#include "tests/fuzz/fuzz_check.h"

using namespace hft::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> args = hft::fuzz::splitArgs(data, size);
  CommandLine cmd;
  try {
    cmd = parseCommandLine(args);
  } catch (const UsageError& e) {
    FUZZ_CHECK(*e.what() != '\0');
    return 0;
  }
  if (cmd.networkCore)
    FUZZ_CHECK(*cmd.networkCore >= 0 && *cmd.networkCore <= 4095);
  if (cmd.strategyCore)
    FUZZ_CHECK(*cmd.strategyCore >= 0 && *cmd.strategyCore <= 4095);
  FUZZ_CHECK(cmd.exchangeHost.has_value() == cmd.exchangePort.has_value());
  if (cmd.exchangePort)
    FUZZ_CHECK(*cmd.exchangePort >= 1 && !cmd.exchangeHost->empty());
  // The flags land on the built-in defaults the way resolveConfig() puts them (it also reads
  // files, which a fuzzer must not): validate() refuses only with ConfigError.
  HftdConfig c;
  if (cmd.networkCore)
    c.cpu.networkCore = *cmd.networkCore;
  if (cmd.strategyCore)
    c.cpu.strategyCore = *cmd.strategyCore;
  if (cmd.socket)
    c.control.socket = *cmd.socket;
  if (cmd.sessionsDir)
    c.session.directory = *cmd.sessionsDir;
  try {
    validate(c);
  } catch (const ConfigError& e) {
    FUZZ_CHECK(*e.what() != '\0');
  }
  return 0;
}

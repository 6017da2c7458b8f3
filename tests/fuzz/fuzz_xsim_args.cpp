// SPDX-License-Identifier: MIT
// Fuzz target: exchange-sim's command line (exchange-sim/options); argv split on NUL bytes.
// It never throws; an accepted command line gives consistent settings. --config is left out:
// it reads a file (and /dev/zero would never end).
#include <string>
#include <vector>

#include "exchange-sim/options/sim_options.h"
#include "tests/fuzz/argv_split.h"
#include "tests/fuzz/fuzz_check.h"

using namespace hft::options;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::string> args = hft::fuzz::splitArgs(data, size);
  std::vector<const char*> argv{"exchange-sim"};
  for (const auto& a : args) {
    if (hft::fuzz::mayName(a, "--config")) // also "--conf": getopt_long takes prefixes
      return 0;
    argv.push_back(a.c_str());
  }
  argv.push_back(nullptr);
  const CommandLine cl = parseCommandLine(static_cast<int>(argv.size() - 1), argv.data());
  if (cl.exit) {
    FUZZ_CHECK(cl.exitCode == kExitOk || cl.exitCode == kExitUsage);
    FUZZ_CHECK(cl.exitCode == kExitOk ? !cl.output.empty() : !cl.error.empty());
    return 0;
  }
  FUZZ_CHECK(cl.exitCode == kExitOk && cl.error.empty());
  FUZZ_CHECK(crossCheck(cl.options).empty());
  return 0;
}

// SPDX-License-Identifier: MIT
// hftctl: the command-line client of hftd's control socket.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ctl/hftctl.h"
#include "libhft/control/control_protocol.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return hft::ctl::run(args, std::getenv(hft::control::kSocketEnv), std::cout, std::cerr);
}

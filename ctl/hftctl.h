// SPDX-License-Identifier: MIT
// hftctl as a function: parse, call hftd, print, and return the exit code.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hft::ctl {

// `args` excludes the program name; `envSocket` is $HFTD_SOCKET (or null). Results go to `out`,
// messages to `err`; returns one of the kExit* codes of ctl/command_line.h. `stats --watch`
// ended by SIGINT/SIGTERM returns with both still blocked: the caller is about to exit.
[[nodiscard]] int run(const std::vector<std::string>& args, const char* envSocket,
                      std::ostream& out, std::ostream& err);

} // namespace hft::ctl

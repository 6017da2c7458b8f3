// SPDX-License-Identifier: MIT
// Command-line options through getopt_long(3), for the three programs' own parsers.
//
// GNU rules, as every Debian tool: options anywhere among the operands, `--name VALUE` or
// `--name=VALUE`, an unambiguous prefix of a long name (`--conf` for `--config`), `--` ends the
// options. What each option means, and every message, stays with the program.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hft::core {

struct OptionSpec {
  std::string_view name; // long name without "--", e.g. "config"
  char shortName = '\0'; // e.g. 'v' for -v, or '\0'
  bool takesValue = false;
  int id = 0; // the program's own tag, returned in ParsedOption::id
};

struct ParsedOption {
  int id = 0;
  std::string spelling; // as named: "--config" or "-v" (the long name even for a prefix)
  std::optional<std::string> value;
};

struct ParsedArgs {
  std::vector<ParsedOption> options; // in command-line order
  std::vector<std::string> operands; // the rest, in order
};

// Why a command line was refused; `argument` is the offending text as typed (for
// MissingValue and UnexpectedValue, the option's name, e.g. "--config").
class OptionError : public std::runtime_error {
public:
  enum class Kind { Unknown, Ambiguous, MissingValue, UnexpectedValue };
  OptionError(Kind kind, std::string argument, int id);
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::string& argument() const noexcept { return argument_; }
  [[nodiscard]] int id() const noexcept { return id_; } // the option's id, or 0 if unknown

private:
  Kind kind_;
  std::string argument_;
  int id_;
};

// Parses `args` (argv without argv[0]) against `specs` (ids unique, > 0). Not thread-safe:
// getopt_long keeps its state in globals; called once at start-up (and by fuzzers, one at a
// time). Throws OptionError.
[[nodiscard]] ParsedArgs parseOptions(const std::vector<std::string>& args,
                                      const std::vector<OptionSpec>& specs);

} // namespace hft::core

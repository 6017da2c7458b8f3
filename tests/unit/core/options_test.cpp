// SPDX-License-Identifier: MIT
// libhft/core/options: getopt_long's rules as the three programs rely on them.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "libhft/core/options.h"

using hft::core::OptionError;
using hft::core::OptionSpec;
using hft::core::ParsedArgs;
using hft::core::parseOptions;

namespace {

enum : int { Help = 1, Config, Count, Cold, Verbose };

const std::vector<OptionSpec> kSpecs = {
    {"help", 'h', false, Help},  {"config", '\0', true, Config},   {"count", '\0', true, Count},
    {"cold", '\0', false, Cold}, {"verbose", 'v', false, Verbose},
};

OptionError failure(const std::vector<std::string>& args) {
  try {
    (void)parseOptions(args, kSpecs);
  } catch (const OptionError& e) {
    return e;
  }
  FAIL("no OptionError for the command line");
  return OptionError(OptionError::Kind::Unknown, "", 0);
}

} // namespace

TEST_CASE("options: values separate or after '=', operands kept in order around them") {
  const ParsedArgs p =
      parseOptions({"stats", "--config", "a.toml", "x", "--count=3", "-v", "y"}, kSpecs);
  REQUIRE(p.options.size() == 3);
  CHECK(p.options[0].id == Config);
  CHECK(p.options[0].spelling == "--config");
  CHECK(*p.options[0].value == "a.toml");
  CHECK(p.options[1].id == Count);
  CHECK(*p.options[1].value == "3");
  CHECK(p.options[2].id == Verbose);
  CHECK(p.options[2].spelling == "-v");
  CHECK_FALSE(p.options[2].value.has_value());
  CHECK(p.operands == std::vector<std::string>{"stats", "x", "y"});
}

TEST_CASE("options: a value that looks like an option is still the value") {
  const ParsedArgs p = parseOptions({"--count", "-5", "--config="}, kSpecs);
  CHECK(*p.options[0].value == "-5");
  CHECK(*p.options[1].value == ""); // the program decides whether empty is allowed
}

TEST_CASE("options: an unambiguous prefix names the option by its full name") {
  const ParsedArgs p = parseOptions({"--conf", "f", "--verb", "--he"}, kSpecs);
  CHECK(p.options[0].id == Config);
  CHECK(p.options[0].spelling == "--config");
  CHECK(p.options[1].id == Verbose);
  CHECK(p.options[2].id == Help);
  CHECK(failure({"--co", "f"}).kind() == OptionError::Kind::Ambiguous); // config, count, cold
  CHECK(failure({"--co", "f"}).argument() == "--co");
}

TEST_CASE("options: refusals say which kind and which option") {
  OptionError e = failure({"--bogus=1"});
  CHECK(e.kind() == OptionError::Kind::Unknown);
  CHECK(e.argument() == "--bogus");
  e = failure({"-q"});
  CHECK(e.kind() == OptionError::Kind::Unknown);
  CHECK(e.argument() == "-q");
  e = failure({"--config"});
  CHECK(e.kind() == OptionError::Kind::MissingValue);
  CHECK(e.argument() == "--config");
  CHECK(e.id() == Config);
  e = failure({"--help=yes"});
  CHECK(e.kind() == OptionError::Kind::UnexpectedValue);
  CHECK(e.argument() == "--help");
  CHECK(e.id() == Help);
}

TEST_CASE("options: '--' ends the options; short options bundle") {
  const ParsedArgs p = parseOptions({"-hv", "--", "--config", "-v"}, kSpecs);
  REQUIRE(p.options.size() == 2);
  CHECK(p.options[0].id == Help);
  CHECK(p.options[1].id == Verbose);
  CHECK(p.operands == std::vector<std::string>{"--config", "-v"});
}

TEST_CASE("options: each parse starts afresh, and POSIXLY_CORRECT does not stop at operands") {
  (void)failure({"--count"}); // leaves getopt's globals mid-way
  ::setenv("POSIXLY_CORRECT", "1", 1);
  const ParsedArgs p = parseOptions({"stats", "--cold"}, kSpecs);
  ::unsetenv("POSIXLY_CORRECT");
  REQUIRE(p.options.size() == 1);
  CHECK(p.options[0].id == Cold);
  CHECK(p.operands == std::vector<std::string>{"stats"});
}

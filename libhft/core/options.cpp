// SPDX-License-Identifier: MIT
#include "libhft/core/options.h"

#include <getopt.h>

namespace hft::core {
namespace {

// getopt_long returns a short option's character, or this plus the spec's index for a long
// option without a short name: above every char, so the two never meet.
constexpr int kLongBase = 0x100;

const OptionSpec* byReturn(const std::vector<OptionSpec>& specs, int value) {
  if (value >= kLongBase) {
    const auto index = static_cast<std::size_t>(value - kLongBase);
    return index < specs.size() ? &specs[index] : nullptr;
  }
  for (const OptionSpec& spec : specs)
    if (spec.shortName != '\0' && spec.shortName == value)
      return &spec;
  return nullptr;
}

} // namespace

OptionError::OptionError(Kind kind, std::string argument, int id)
    : std::runtime_error(argument), kind_(kind), argument_(std::move(argument)), id_(id) {}

ParsedArgs parseOptions(const std::vector<std::string>& args,
                        const std::vector<OptionSpec>& specs) {
  // '-': every operand is returned in place (code 1), so the order is kept whatever
  // POSIXLY_CORRECT says; ':': a missing value is reported as ':', and opterr = 0 prints
  // nothing: the program words its own messages.
  std::string shortOptions = "-:";
  std::vector<option> longOptions;
  longOptions.reserve(specs.size() + 1);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const OptionSpec& spec = specs[i];
    const int value = spec.shortName != '\0' ? spec.shortName : kLongBase + static_cast<int>(i);
    if (spec.shortName != '\0') {
      shortOptions += spec.shortName;
      if (spec.takesValue)
        shortOptions += ':';
    }
    if (!spec.name.empty())
      longOptions.push_back(option{
          spec.name.data(), spec.takesValue ? required_argument : no_argument, nullptr, value});
  }
  longOptions.push_back(option{nullptr, 0, nullptr, 0});

  // getopt_long permutes argv: it works on copies. argv[0] is a placeholder.
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.emplace_back("hft");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size() + 1);
  for (std::string& s : storage)
    argv.push_back(s.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());

  ParsedArgs parsed;
  opterr = 0;
  optind = 0; // 0, not 1: glibc starts afresh, forgetting a previous parse
  for (;;) {
    int longIndex = -1;
    const int c =
        getopt_long(argc, argv.data(), shortOptions.c_str(), longOptions.data(), &longIndex);
    if (c == -1)
      break;
    if (c == 1) {
      parsed.operands.emplace_back(optarg);
      continue;
    }
    // The argument getopt_long just looked at (for a short option inside a bundle, still it).
    const std::string current = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
    if (c == '?' || c == ':') {
      const OptionSpec* spec = optopt != 0 ? byReturn(specs, optopt) : nullptr;
      if (spec == nullptr) {
        const std::string typed = optopt != 0 ? std::string("-") + static_cast<char>(optopt)
                                              : current.substr(0, current.find('='));
        // An unknown long name that is the prefix of two or more: ambiguous, not unknown.
        OptionError::Kind kind = OptionError::Kind::Unknown;
        if (optopt == 0 && typed.rfind("--", 0) == 0 && typed.size() > 2) {
          int matches = 0;
          for (const OptionSpec& s : specs)
            matches += !s.name.empty() && s.name.substr(0, typed.size() - 2) == typed.substr(2);
          if (matches > 1)
            kind = OptionError::Kind::Ambiguous;
        }
        throw OptionError(kind, typed, 0);
      }
      const std::string name =
          spec->name.empty() ? std::string("-") + spec->shortName : "--" + std::string(spec->name);
      throw OptionError(c == ':' ? OptionError::Kind::MissingValue
                                 : OptionError::Kind::UnexpectedValue,
                        current.rfind("--", 0) == 0 || spec->shortName == '\0'
                            ? name
                            : std::string("-") + spec->shortName,
                        spec->id);
    }
    const OptionSpec* spec = byReturn(specs, c);
    if (spec == nullptr)
      continue; // cannot happen: getopt_long returns only what it was given
    ParsedOption option;
    option.id = spec->id;
    const bool typedLong = longIndex >= 0;
    option.spelling = typedLong || spec->shortName == '\0' ? "--" + std::string(spec->name)
                                                           : std::string("-") + spec->shortName;
    if (spec->takesValue && optarg != nullptr)
      option.value = optarg;
    parsed.options.push_back(std::move(option));
  }
  for (int i = optind; i < argc; ++i) // after "--"
    parsed.operands.emplace_back(argv[static_cast<std::size_t>(i)]);
  return parsed;
}

} // namespace hft::core

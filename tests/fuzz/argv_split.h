// SPDX-License-Identifier: MIT
// Turns a fuzz input into a command line: arguments separated by NUL bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hft::fuzz {

// "a\0b\0" and "a\0b" are both {"a", "b"}; "a\0\0b" has an empty argument between.
inline std::vector<std::string> splitArgs(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string current;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (!current.empty())
    args.push_back(std::move(current));
  return args;
}

// True when `arg` may name the long option `option` ("--socket") as getopt_long reads it: the
// full name or a prefix of it ("--sock", "--s=x"), with or without "=VALUE". A prefix that
// is ambiguous is refused by the parser anyway, so over-matching only skips some checks.
inline bool mayName(std::string_view arg, std::string_view option) {
  const std::string_view name = arg.substr(0, arg.find('='));
  return name.size() > 2 && option.starts_with(name);
}

} // namespace hft::fuzz

// SPDX-License-Identifier: MIT
// A unit test's own temporary directory, removed with everything in it at the end of scope.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace hft::test {

struct TempDir {
  // `prefix` names the test in the directory's name: <tmp>/<prefix>-XXXXXX.
  explicit TempDir(const char* prefix) {
    std::string templ =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path path;
};

} // namespace hft::test

// SPDX-License-Identifier: MIT
// CPU lists and the worker-core check that refuses cores outside the allowed set.
#include <doctest/doctest.h>

#include <stdexcept>

#include "libhft/core/cpu.h"

using namespace hft::core;

TEST_CASE("cpu: kernel CPU lists parse and format back") {
  CHECK(parseCpuList("0-3,6,8-9\n") == std::vector<int>{0, 1, 2, 3, 6, 8, 9});
  CHECK(formatCpuList({0, 1, 2, 3, 6, 8, 9}) == "0-3,6,8-9");
  CHECK(parseCpuList("").empty());
  CHECK_THROWS_AS((void)parseCpuList("3-1"), std::invalid_argument);
  CHECK_THROWS_AS((void)parseCpuList("a"), std::invalid_argument);
}

TEST_CASE("cpu: a worker core must exist, be online and be allowed") {
  const std::vector<int> online = {0, 1, 2, 3};
  const std::vector<int> allowed = {0, 1};
  CHECK(checkWorkerCore(1, online, allowed).empty());
  const std::string missing = checkWorkerCore(6, online, allowed);
  CHECK(missing.find("core 6 does not exist or is offline") != std::string::npos);
  CHECK(missing.find("0-1") != std::string::npos);
  const std::string outside = checkWorkerCore(3, online, allowed);
  CHECK(outside.find("outside this process's allowed CPU set (0-1)") != std::string::npos);
}

TEST_CASE("cpu: this process's allowed set is not empty and pinning to one works") {
  const auto allowed = allowedCpus();
  REQUIRE_FALSE(allowed.empty());
  CHECK(pinThisThread(allowed.front()) == 0);
}

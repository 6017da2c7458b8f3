// SPDX-License-Identifier: MIT
// hftctl end to end in-process, without a daemon: help, usage errors (2), daemon down (3).
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "ctl/command_line.h"
#include "ctl/hftctl.h"
#include "libhft/core/fd.h"
#include "tests/unit/temp_dir.h"

namespace {

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result run(const std::vector<std::string>& args, const char* env = nullptr) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = hft::ctl::run(args, env, out, err);
  return {code, out.str(), err.str()};
}

} // namespace

TEST_CASE("hftctl: --help prints the tool help on stdout and exits 0") {
  const Result r = run({"--help"});
  CHECK(r.code == hft::ctl::kExitOk);
  CHECK(r.out.find("Usage: hftctl") == 0);
  CHECK(r.out.find("Exit status:") != std::string::npos);
  CHECK(r.err.empty());
}

TEST_CASE("hftctl: COMMAND --help prints that command's help and contacts no daemon") {
  for (const char* command :
       {"status", "stats", "start-session", "stop-session", "kill-switch", "reload", "version"}) {
    const Result r = run({command, "--help", "--socket", "/nonexistent/x.sock"});
    CHECK_MESSAGE(r.code == hft::ctl::kExitOk, command);
    CHECK_MESSAGE(r.out.find(std::string("hftctl [--socket PATH] [--json | --format FORMAT] ") +
                             command) != std::string::npos,
                  command);
  }
}

TEST_CASE("hftctl: --version prints hftctl's version without a daemon") {
  const Result r = run({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out.rfind("hftctl ", 0) == 0);
}

TEST_CASE("hftctl: usage errors exit 2 with the error and a hint on stderr") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"bogus"},
                                             {"status", "--bogus"},
                                             {"kill-switch"},
                                             {"kill-switch", "sideways"},
                                             {"start-session", "--duration", "x"},
                                             {"stats", "--watch", "0"},
                                             {"stop-session", "--duration", "1"},
                                             {"--socket"}}) {
    const Result r = run(args);
    CHECK(r.code == hft::ctl::kExitUsage);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("hftctl: ", 0) == 0);
    CHECK(r.err.find("Try `hftctl --help`") != std::string::npos);
  }
}

TEST_CASE("hftctl: a missing socket exits 3 naming the path and how to start hftd") {
  const hft::test::TempDir dir("hftctl-test");
  const std::string path = (dir.path / "absent.sock").string();
  for (const char* command :
       {"status", "stats", "start-session", "stop-session", "reload", "version"}) {
    const Result r = run({"--socket", path, command});
    CHECK_MESSAGE(r.code == hft::ctl::kExitNotRunning, command);
    CHECK(r.err.find(path) != std::string::npos);
    CHECK(r.err.find("systemctl start hftd") != std::string::npos);
    CHECK(r.err.find("--socket") != std::string::npos);
  }
}

TEST_CASE("hftctl: HFTD_SOCKET is used when --socket is absent") {
  const hft::test::TempDir dir("hftctl-test");
  const std::string path = (dir.path / "from-env.sock").string();
  const Result r = run({"status"}, path.c_str());
  CHECK(r.code == hft::ctl::kExitNotRunning);
  CHECK(r.err.find(path) != std::string::npos);
}

TEST_CASE("hftctl: a socket file nobody listens on (stale) exits 3") {
  const hft::test::TempDir dir("hftctl-test");
  const std::string path = (dir.path / "stale.sock").string();
  {
    hft::core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  } // closed without listen(): the file stays, connecting is refused
  REQUIRE(std::filesystem::exists(path));
  const Result r = run({"--socket", path, "--json", "stats"});
  CHECK(r.code == hft::ctl::kExitNotRunning);
  CHECK(r.err.find("Connection refused") != std::string::npos);
  CHECK(r.out.empty());
}

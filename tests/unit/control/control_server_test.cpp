// SPDX-License-Identifier: MIT
// The control server in-process with a fake engine, driven by hftctl's own client library.
#include <doctest/doctest.h>

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "ctl/command_line.h"
#include "ctl/control_client.h"
#include "ctl/hftctl.h"
#include "daemon/control/control_server.h"
#include "libhft/core/fd.h"
#include "tests/unit/control/fake_target.h"
#include "tests/unit/temp_dir.h"

using hft::control::ControlServer;
using hft::control::ControlServerOptions;
using hft::control::testing::FakeTarget;
using hft::ctl::ControlClient;
using hft::ctl::ControlClientError;
using hft::ctl::Failure;
using namespace std::chrono_literals;

namespace {

// Polls `done` until it holds or `timeout` passes: waits for an event, not for a fixed time.
bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct Fixture {
  explicit Fixture(const std::function<void(ControlServerOptions&)>& tweak = {}) {
    ControlServerOptions options;
    options.socketPath = (dir.path / "run" / "control.sock").string();
    options.socketGroup = ""; // the test host may have no group hft
    options.adminGroup = "hft-admin-test-absent";
    if (tweak)
      tweak(options);
    server = std::make_unique<ControlServer>(target, options);
    server->start();
  }
  [[nodiscard]] std::string socket() const { return server->socketPath(); }

  const hft::test::TempDir dir{"hft-control"};
  FakeTarget target;
  std::unique_ptr<ControlServer> server;
};

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

RunResult runCtl(std::vector<std::string> args, const std::string& socket) {
  args.insert(args.begin(), {"--socket", socket});
  std::ostringstream out;
  std::ostringstream err;
  const int code = hft::ctl::run(args, nullptr, out, err);
  return {code, out.str(), err.str()};
}

hft::core::UniqueFd connectRaw(const std::string& path) {
  hft::core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

// True once the server closes `fd` (EOF or reset), false if still open after `timeout`.
bool closedByServer(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[512];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      return true;
    // Auth replies and the like: keep reading until EOF.
  }
}

void checkStatsEqual(const hft::control::EngineStats& got, const hft::control::EngineStats& want) {
  CHECK(got.state == want.state);
  CHECK(got.sessionId == want.sessionId);
  CHECK(got.killSwitch == want.killSwitch);
  for (const auto& field : hft::control::kCounterFields)
    CHECK_MESSAGE(got.*field.member == want.*field.member, field.key);
  REQUIRE(got.symbols.size() == want.symbols.size());
  for (std::size_t i = 0; i < got.symbols.size(); ++i) {
    CHECK(got.symbols[i].symbolId == want.symbols[i].symbolId);
    CHECK(got.symbols[i].position == want.symbols[i].position);
    CHECK(got.symbols[i].realizedPnl == want.symbols[i].realizedPnl);
    CHECK(got.symbols[i].unrealizedPnl == want.symbols[i].unrealizedPnl);
    CHECK(got.symbols[i].midPrice == want.symbols[i].midPrice);
  }
  REQUIRE(got.latency.size() == want.latency.size());
  for (std::size_t i = 0; i < got.latency.size(); ++i) {
    const auto& g = got.latency[i];
    const auto& w = want.latency[i];
    CHECK(g.stage == w.stage);
    CHECK(g.count == w.count);
    CHECK(g.min == w.min);
    CHECK(g.p50 == w.p50);
    CHECK(g.p90 == w.p90);
    CHECK(g.p99 == w.p99);
    CHECK(g.p999 == w.p999);
    CHECK(g.max == w.max);
    CHECK(g.mean == w.mean);
  }
}

Failure failureOf(const std::function<void()>& call, std::string* name = nullptr,
                  std::string* message = nullptr) {
  try {
    call();
  } catch (const ControlClientError& e) {
    if (name != nullptr)
      *name = e.errorName();
    if (message != nullptr)
      *message = e.what();
    return e.failure();
  }
  FAIL("the call succeeded");
  return Failure::Failed;
}

} // namespace

TEST_CASE("ControlServer: the socket is created with its directory and mode 0660") {
  Fixture f;
  struct stat st {};
  REQUIRE(::stat(f.socket().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0660);
}

TEST_CASE("ControlServer: Version, Status and GetStats round-trip every field") {
  Fixture f;
  ControlClient client(f.socket());
  CHECK(client.version() == HFT_VERSION);

  const auto status = client.status();
  const auto want = f.target.status();
  CHECK(status.state == want.state);
  CHECK(status.sessionId == want.sessionId);
  CHECK(status.version == want.version);
  CHECK(status.networkCore == want.networkCore);
  CHECK(status.strategyCore == want.strategyCore);
  CHECK(status.pollMode == want.pollMode);
  CHECK(status.exchange == want.exchange);
  CHECK(status.killSwitch == want.killSwitch);
  CHECK(status.uptimeNs == want.uptimeNs);

  checkStatsEqual(client.stats(), f.target.stats());
}

TEST_CASE("ControlServer: StartSession passes the duration and returns the session id") {
  Fixture f;
  ControlClient client(f.socket());
  CHECK(client.startSession(90) == "20261124-120000-fake1");
  CHECK(f.target.lastDuration() == 90);
  CHECK(client.status().state == "trading");
}

TEST_CASE("ControlServer: a second StartSession is refused with SessionRunning, exit 1") {
  Fixture f;
  ControlClient client(f.socket());
  const std::string id = client.startSession(0);
  std::string name;
  std::string message;
  CHECK(failureOf([&] { static_cast<void>(client.startSession(0)); }, &name, &message) ==
        Failure::Refused);
  CHECK(name == hft::control::kErrorBusy);
  CHECK(message == "a session is already running (" + id + ")");

  const RunResult r = runCtl({"start-session"}, f.socket());
  CHECK(r.code == hft::ctl::kExitFailed);
  CHECK(r.err == "hftctl: start-session refused: a session is already running (" + id +
                     "). Stop it first with `hftctl stop-session`.\n");
}

TEST_CASE("ControlServer: StopSession returns the summary; without a session NoSession, exit 1") {
  Fixture f;
  ControlClient client(f.socket());
  const std::string id = client.startSession(0);
  const auto summary = client.stopSession();
  CHECK(summary.sessionId == id);
  CHECK(summary.directory == "/var/lib/hftd/sessions/" + id);
  auto want = FakeTarget::sampleStats();
  want.state = "idle";
  want.sessionId = id;
  checkStatsEqual(summary.stats, want);

  std::string name;
  CHECK(failureOf([&] { static_cast<void>(client.stopSession()); }, &name) == Failure::Refused);
  CHECK(name == hft::control::kErrorNoSession);
  const RunResult r = runCtl({"stop-session"}, f.socket());
  CHECK(r.code == hft::ctl::kExitFailed);
  CHECK(r.err.find("stop-session refused: no session is running.") != std::string::npos);
}

TEST_CASE("ControlServer: SetKillSwitch reaches the engine both ways") {
  Fixture f;
  ControlClient client(f.socket());
  client.setKillSwitch(true);
  CHECK(f.target.killSwitch());
  CHECK(client.status().killSwitch);
  client.setKillSwitch(false);
  CHECK_FALSE(f.target.killSwitch());
  const RunResult r = runCtl({"kill-switch", "on"}, f.socket());
  CHECK(r.code == 0);
  CHECK(r.out == "Kill switch on.\n");
  CHECK(f.target.killSwitch());
}

TEST_CASE(
    "ControlServer: Reload returns applied and needs-restart; a bad config is InvalidConfig") {
  Fixture f;
  ControlClient client(f.socket());
  const auto result = client.reload();
  CHECK(result.applied == std::vector<std::string>{"risk.max_position", "strategy.spread_ticks"});
  CHECK(result.needsRestart == std::vector<std::string>{"network.core"});

  f.target.failReload = true;
  std::string name;
  CHECK(failureOf([&] { static_cast<void>(client.reload()); }, &name) == Failure::Refused);
  CHECK(name == hft::control::kErrorConfig);
  const RunResult r = runCtl({"reload"}, f.socket());
  CHECK(r.code == hft::ctl::kExitFailed);
  CHECK(r.err.find("reload refused: /etc/hftd/hftd.toml:12: risk.max_position must be > 0.") !=
        std::string::npos);
  CHECK(r.err.find("running configuration is unchanged") != std::string::npos);
}

TEST_CASE("ControlServer: every hftctl command round-trips with exit 0 and --json output") {
  Fixture f;
  CHECK(runCtl({"status"}, f.socket()).out.find("State") == 0);
  CHECK(runCtl({"--json", "status"}, f.socket()).out.find("{\"state\":\"idle\"") == 0);
  CHECK(runCtl({"stats"}, f.socket()).out.find("Latency (ns)") != std::string::npos);
  CHECK(runCtl({"stats", "--json"}, f.socket()).out.find("\"rx_packets\":1001") !=
        std::string::npos);
  const RunResult start = runCtl({"start-session", "--duration", "5"}, f.socket());
  CHECK(start.code == 0);
  CHECK(start.out == "20261124-120000-fake1\n");
  const RunResult stop = runCtl({"--json", "stop-session"}, f.socket());
  CHECK(stop.code == 0);
  CHECK(stop.out.find("{\"session_id\":\"20261124-120000-fake1\"") == 0);
  CHECK(runCtl({"reload", "--json"}, f.socket()).out ==
        "{\"applied\":[\"risk.max_position\",\"strategy.spread_ticks\"],"
        "\"needs_restart\":[\"network.core\"]}\n");
  CHECK(runCtl({"version"}, f.socket()).out ==
        std::string("hftctl ") + HFT_VERSION + "\nhftd " + HFT_VERSION + "\n");
}

TEST_CASE("ControlServer: an engine exception becomes a Failed reply and the server lives on") {
  Fixture f;
  ControlClient client(f.socket());
  f.target.throwRuntime = true;
  std::string name;
  std::string message;
  CHECK(failureOf([&] { static_cast<void>(client.status()); }, &name, &message) == Failure::Failed);
  CHECK(name == hft::control::kErrorFailed);
  CHECK(message.find("engine status is unavailable") == 0);
  const RunResult r = runCtl({"stats"}, f.socket());
  CHECK(r.code == hft::ctl::kExitFailed);
  CHECK(r.err.find("hftctl: stats failed: stats are unavailable") == 0);

  f.target.throwRuntime = false;
  f.target.throwUnknown = true;
  CHECK(failureOf([&] { static_cast<void>(client.status()); }, &name) == Failure::Failed);
  CHECK(name == hft::control::kErrorFailed);

  f.target.throwUnknown = false;
  f.target.badErrorName = true;
  CHECK(failureOf([&] { client.setKillSwitch(true); }, &name, &message) == Failure::Failed);
  CHECK(name == hft::control::kErrorFailed);
  CHECK(message.find("the kill switch is stuck") == 0);

  // Same connection and a new one both still work.
  CHECK(client.status().state == "idle");
  CHECK(ControlClient(f.socket()).version() == HFT_VERSION);
  CHECK(f.server->counters().failed == 4);
}

TEST_CASE("ControlServer: an unprivileged peer may read but not control (AccessDenied, exit 1)") {
  if (::geteuid() != 0) {
    // Not root: this process itself is the unprivileged peer (the admin group does not exist).
    Fixture f;
    std::string name;
    std::string message;
    ControlClient client(f.socket());
    CHECK(client.status().state == "idle");
    CHECK(failureOf([&] { static_cast<void>(client.startSession(0)); }, &name, &message) ==
          Failure::AccessDenied);
    CHECK(name == "org.freedesktop.DBus.Error.AccessDenied");
    CHECK(message.find("hft-admin-test-absent") != std::string::npos);
    return;
  }
  // Root: a child drops to nobody and reports through its exit status.
  Fixture f([](ControlServerOptions& o) { o.adminGroup = "hft-admin"; });
  REQUIRE(::chmod(f.dir.path.c_str(), 0755) == 0);
  REQUIRE(::chmod((f.dir.path / "run").c_str(), 0755) == 0);
  REQUIRE(::chmod(f.socket().c_str(), 0666) == 0); // nobody is in no group of ours
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
      ::_exit(10);
    std::ostringstream out;
    std::ostringstream err;
    if (hft::ctl::run({"--socket", f.socket(), "status"}, nullptr, out, err) != 0)
      ::_exit(11);
    for (const char* command : {"start-session", "stop-session", "reload"}) {
      err.str("");
      if (hft::ctl::run({"--socket", f.socket(), command}, nullptr, out, err) != 1)
        ::_exit(12);
      if (err.str().find(std::string("hftctl: ") + command + " refused: access denied") != 0 ||
          err.str().find("hft-admin") == std::string::npos)
        ::_exit(13);
    }
    err.str("");
    if (hft::ctl::run({"--socket", f.socket(), "kill-switch", "on"}, nullptr, out, err) != 1)
      ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(f.server->counters().denied == 4);
  CHECK_FALSE(f.target.killSwitch());
  CHECK(f.target.status().state == "idle");
}

TEST_CASE("ControlServer: connections over the cap are closed at once and counted") {
  Fixture f([](ControlServerOptions& o) {
    o.maxConnections = 2;
    o.firstCallTimeout = 60s; // only the cap may close connections here
  });
  auto a = connectRaw(f.socket());
  auto b = connectRaw(f.socket());
  REQUIRE(waitUntil([&] { return f.server->counters().active == 2; }));
  auto c = connectRaw(f.socket());
  CHECK(closedByServer(c.get(), 5s));
  CHECK(f.server->counters().refusedOverCap == 1);
  CHECK(f.server->counters().active == 2);
  // hftctl says the daemon closed the connection: exit 1, not "not running".
  const RunResult refused = runCtl({"status"}, f.socket());
  CHECK(refused.code == hft::ctl::kExitFailed);
  CHECK_MESSAGE(refused.err.find("closed the connection") != std::string::npos, refused.err);

  a.reset();
  REQUIRE(waitUntil([&] { return f.server->counters().active == 1; }));
  CHECK(runCtl({"status"}, f.socket()).code == 0);
  CHECK_FALSE(closedByServer(b.get(), 0ms));
}

TEST_CASE("ControlServer: a client that never calls is closed after the first-call timeout") {
  Fixture f([](ControlServerOptions& o) { o.firstCallTimeout = 200ms; });
  const auto started = std::chrono::steady_clock::now();
  auto silent = connectRaw(f.socket());
  CHECK(closedByServer(silent.get(), 5s));
  CHECK(std::chrono::steady_clock::now() - started >= 190ms);
  CHECK(f.server->counters().timedOut == 1);
}

TEST_CASE("ControlServer: a connection idle after a call is closed after the idle timeout") {
  Fixture f([](ControlServerOptions& o) { o.idleTimeout = 200ms; });
  ControlClient client(f.socket());
  CHECK(client.status().state == "idle");
  REQUIRE(waitUntil([&] { return f.server->counters().timedOut == 1; }));
  CHECK(failureOf([&] { static_cast<void>(client.status()); }) == Failure::Failed);
  CHECK(ControlClient(f.socket()).status().state == "idle");
}

TEST_CASE("ControlServer: garbage closes only that connection") {
  Fixture f([](ControlServerOptions& o) { o.firstCallTimeout = 60s; });
  ControlClient bystander(f.socket());
  CHECK(bystander.status().state == "idle");

  SUBCASE("garbage instead of the D-Bus handshake") {
    auto bad = connectRaw(f.socket());
    const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::send(bad.get(), junk, sizeof(junk) - 1, MSG_NOSIGNAL) > 0);
    CHECK(closedByServer(bad.get(), 5s));
  }
  SUBCASE("garbage after a valid handshake") {
    auto bad = connectRaw(f.socket());
    std::string uidHex;
    for (const char ch : std::to_string(::geteuid()))
      uidHex += fmt::format("{:02x}", static_cast<int>(ch));
    const std::string auth = std::string(1, '\0') + "AUTH EXTERNAL " + uidHex + "\r\nBEGIN\r\n";
    REQUIRE(::send(bad.get(), auth.data(), auth.size(), MSG_NOSIGNAL) > 0);
    std::string junk(256, '\xff');
    REQUIRE(::send(bad.get(), junk.data(), junk.size(), MSG_NOSIGNAL) > 0);
    CHECK(closedByServer(bad.get(), 5s));
  }
  CHECK(f.server->counters().timedOut == 0);
  CHECK(bystander.status().state == "idle");
  CHECK(bystander.version() == HFT_VERSION);
}

TEST_CASE("ControlServer: post() runs tasks on the control thread, and its sd_event is usable") {
  Fixture f;
  std::promise<std::thread::id> ran;
  f.server->post([&] { ran.set_value(std::this_thread::get_id()); });
  auto future = ran.get_future();
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  CHECK(future.get() != std::this_thread::get_id());

  // The engine's housekeeping timers go on the same loop.
  std::promise<void> fired;
  f.server->post([&] {
    sd_event_source* source = nullptr;
    REQUIRE(sd_event_add_time_relative(
                f.server->event(), &source, CLOCK_MONOTONIC, 1000, 0,
                [](sd_event_source*, std::uint64_t, void* p) {
                  static_cast<std::promise<void>*>(p)->set_value();
                  return 0;
                },
                &fired) >= 0);
    sd_event_source_set_floating(source, 1);
    sd_event_source_unref(source);
  });
  CHECK(fired.get_future().wait_for(5s) == std::future_status::ready);

  // A throwing task is logged and the loop goes on.
  f.server->post([] { throw std::runtime_error("housekeeping failed"); });
  CHECK(ControlClient(f.socket()).status().state == "idle");
}

TEST_CASE("ControlServer: stop() closes open connections, joins and removes the socket") {
  Fixture f([](ControlServerOptions& o) { o.firstCallTimeout = 60s; });
  auto idle = connectRaw(f.socket());
  ControlClient client(f.socket());
  CHECK(client.status().state == "idle");
  f.server->stop();
  CHECK(closedByServer(idle.get(), 1s));
  CHECK_FALSE(std::filesystem::exists(f.socket()));
  CHECK(f.server->counters().active == 0);
  f.server->stop(); // idempotent
  const RunResult r = runCtl({"status"}, f.socket());
  CHECK(r.code == hft::ctl::kExitNotRunning);
}

TEST_CASE("ControlServer: a stale socket file is replaced; a live one is not stolen") {
  const hft::test::TempDir dir("hft-control");
  const std::string path = (dir.path / "c.sock").string();
  {
    hft::core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  FakeTarget target;
  ControlServer first(target, {.socketPath = path, .socketGroup = ""});
  first.start();
  CHECK(ControlClient(path).status().state == "idle");

  ControlServer second(target, {.socketPath = path, .socketGroup = ""});
  try {
    second.start();
    FAIL("a second server took over a live socket");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("already serving the control socket " + path) !=
          std::string::npos);
  }
  CHECK(ControlClient(path).status().state == "idle");
}

TEST_CASE("ControlServer: a path that is not a socket is refused with a clear message") {
  const hft::test::TempDir dir("hft-control");
  const std::string path = (dir.path / "not-a-socket").string();
  std::ofstream(path) << "x";
  FakeTarget target;
  ControlServer server(target, {.socketPath = path, .socketGroup = ""});
  try {
    server.start();
    FAIL("started on a regular file");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(path + " exists and is not a socket") != std::string::npos);
  }
  CHECK(std::filesystem::is_regular_file(path));
}

// SPDX-License-Identifier: MIT
// Fuzz target: the control socket's request handling. One ControlServer runs in-process on a
// socket in a temporary directory, over a scripted engine; each input is one client, and after
// it a well-formed client (hftctl's ControlClient) must still get Version and Status answered.
//
// Input: byte 0 = how the client talks (% 3):
//   0  raw bytes on a fresh connection (the D-Bus handshake itself is fuzzed);
//   1  a valid handshake (AUTH EXTERNAL with our uid, BEGIN), then raw bytes (D-Bus messages);
//   2  method calls through sd-bus, described by the input (see callsFrom()).
// Byte 1 = how the engine answers (see FuzzEngine). Then the rest, per mode.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-bus.h>

#include "ctl/control_client.h"
#include "daemon/control/control_server.h"
#include "libhft/control/control_codec.h"
#include "libhft/control/control_protocol.h"
#include "libhft/core/fd.h"
#include "tests/fuzz/fuzz_check.h"

#ifndef HFT_VERSION
#define HFT_VERSION "unknown"
#endif

namespace {

using namespace hft::control;
using namespace std::chrono_literals;

// The engine side, scripted by byte 1 of the input: bits 0-1 for the read-only methods and
// bits 2-3 for the mutating ones: 0 answers, 1 throws ControlError named by the input's text,
// 2 throws std::runtime_error, 3 throws an int. Bit 4: the strings it returns are that text
// (which may not be UTF-8).
class FuzzEngine final : public ControlTarget {
public:
  void script(std::uint8_t behaviour, std::string text) {
    std::lock_guard lock(mutex_);
    behaviour_ = behaviour;
    text_ = std::move(text);
  }

  EngineStatus status() override {
    std::lock_guard lock(mutex_);
    maybeThrow(behaviour_ & 3);
    EngineStatus s;
    s.state = pick("idle");
    s.sessionId = pick(sessionId_);
    s.version = HFT_VERSION;
    s.pollMode = pick("busy");
    s.exchange = pick("127.0.0.1:9000");
    s.networkCore = 2;
    s.strategyCore = 3;
    s.killSwitch = killSwitch_;
    return s;
  }
  EngineStats stats() override {
    std::lock_guard lock(mutex_);
    maybeThrow(behaviour_ & 3);
    return makeStats();
  }
  std::string startSession(std::uint32_t durationSec) override {
    std::lock_guard lock(mutex_);
    maybeThrow((behaviour_ >> 2) & 3);
    if (running_)
      throw ControlError(kErrorBusy, "a session is already running");
    running_ = true;
    sessionId_ = "fuzz-" + std::to_string(durationSec);
    return pick(sessionId_);
  }
  SessionSummary stopSession() override {
    std::lock_guard lock(mutex_);
    maybeThrow((behaviour_ >> 2) & 3);
    if (!running_)
      throw ControlError(kErrorNoSession, "no session is running");
    running_ = false;
    SessionSummary s;
    s.sessionId = pick(sessionId_);
    s.directory = pick("/tmp/sessions/x");
    s.stats = makeStats();
    return s;
  }
  void setKillSwitch(bool on) override {
    std::lock_guard lock(mutex_);
    maybeThrow((behaviour_ >> 2) & 3);
    killSwitch_ = on;
  }
  ReloadResult reload() override {
    std::lock_guard lock(mutex_);
    maybeThrow((behaviour_ >> 2) & 3);
    return ReloadResult{{pick("risk.max_position")}, {pick("cpu.network_core"), text_}};
  }

private:
  void maybeThrow(int how) const {
    switch (how) {
    case 1: throw ControlError(text_, text_);
    case 2: throw std::runtime_error(text_);
    case 3: throw 42;
    default: break;
    }
  }
  [[nodiscard]] std::string pick(const std::string& normal) const {
    return (behaviour_ & 16) != 0 ? text_ : normal;
  }
  EngineStats makeStats() const {
    EngineStats s;
    s.state = pick("trading");
    s.sessionId = pick(sessionId_);
    s.killSwitch = killSwitch_;
    s.rxPackets = text_.size();
    s.symbols = {{1, -5, 1.5, -0.25, 101.0}};
    s.latency = {{pick("rx_to_sent"), 1, 2, 3, 4, 5, 6, 7, 8.5}};
    return s;
  }

  std::mutex mutex_;
  std::uint8_t behaviour_ = 0;
  std::string text_;
  bool running_ = false;
  bool killSwitch_ = false;
  std::string sessionId_;
};

struct Harness {
  Harness() {
    spdlog::set_level(spdlog::level::off);
    std::string templ = (std::filesystem::temp_directory_path() / "hft-fuzz-XXXXXX").string();
    FUZZ_CHECK(::mkdtemp(templ.data()) != nullptr);
    dir = templ;
    ControlServerOptions options;
    options.socketPath = dir + "/control.sock";
    options.socketGroup = "";
    options.adminGroup = "hft-admin-fuzz-absent"; // root may still call everything
    options.maxConnections = 4;
    options.firstCallTimeout = 1000ms;
    options.idleTimeout = 1000ms;
    server = std::make_unique<ControlServer>(engine, options);
    server->start();
  }
  ~Harness() {
    server->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::string dir;
  FuzzEngine engine;
  std::unique_ptr<ControlServer> server;
};

Harness& harness() {
  static Harness h; // stopped and removed at exit
  return h;
}

hft::core::UniqueFd connectTo(const std::string& path) {
  hft::core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  FUZZ_CHECK(fd.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  FUZZ_CHECK(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

// Sends `bytes`, half-closes, and reads until the server closes (or `timeout` passes).
void sendRaw(const std::string& path, const std::string& bytes, std::chrono::milliseconds timeout) {
  hft::core::UniqueFd fd = connectTo(path);
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; // the server hung up on us: fine
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd.get(), SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return;
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[4096];
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      return;
  }
}

struct Input {
  const std::uint8_t* p;
  std::size_t left;
  std::uint8_t byte() {
    if (left == 0)
      return 0;
    --left;
    return *p++;
  }
  std::string bytes(std::size_t n) {
    n = std::min(n, left);
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
    return s;
  }
};

struct Method {
  const char* path;
  const char* interface;
  const char* member;
};
constexpr Method kMethods[] = {
    {kObjectPath, kInterface, kMethodVersion},
    {kObjectPath, kInterface, kMethodStatus},
    {kObjectPath, kInterface, kMethodGetStats},
    {kObjectPath, kInterface, kMethodStartSession},
    {kObjectPath, kInterface, kMethodStopSession},
    {kObjectPath, kInterface, kMethodSetKillSwitch},
    {kObjectPath, kInterface, kMethodReload},
    {kObjectPath, kInterface, "NoSuchMethod"},
    {"/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello"},
    {kObjectPath, "org.freedesktop.DBus.Peer", "Ping"},
    {kObjectPath, "org.freedesktop.DBus.Introspectable", "Introspect"},
    {kObjectPath, "org.freedesktop.DBus.Properties", "GetAll"},
    {"/", kInterface, kMethodStatus},
    {"/io/hft/Engine/child", kInterface, kMethodVersion},
    {kObjectPath, "io.hft.Engine2", kMethodVersion},
    {kObjectPath, nullptr, kMethodGetStats},
};

// Appends up to 3 arguments the input describes; false if sd-bus refuses one (e.g. not UTF-8).
bool appendArguments(sd_bus_message* m, Input& in) {
  const int count = in.byte() % 4;
  for (int i = 0; i < count; ++i) {
    int r = 0;
    switch (in.byte() % 7) {
    case 0: {
      std::uint32_t u = 0;
      for (int k = 0; k < 4; ++k)
        u = (u << 8) | in.byte();
      r = sd_bus_message_append_basic(m, 'u', &u);
      break;
    }
    case 1: {
      const int b = in.byte() & 1;
      r = sd_bus_message_append_basic(m, 'b', &b);
      break;
    }
    case 2: {
      const std::string s = in.bytes(in.byte() % 32);
      r = sd_bus_message_append_basic(m, 's', s.c_str());
      break;
    }
    case 3: {
      const std::int32_t v = static_cast<std::int8_t>(in.byte());
      r = sd_bus_message_append_basic(m, 'i', &v);
      break;
    }
    case 4: {
      const double d = static_cast<double>(in.byte()) - 128.0;
      r = sd_bus_message_append_basic(m, 'd', &d);
      break;
    }
    case 5: r = sd_bus_message_append(m, "as", 2, "a", "b"); break;
    case 6: r = sd_bus_message_append(m, "a{sv}", 1, "rx_packets", "t", std::uint64_t{7}); break;
    }
    if (r < 0)
      return false;
  }
  return true;
}

// Reads a reply with the client's codec, as hftctl would.
void readReply(sd_bus_message* reply, const char* member) {
  if (std::strcmp(member, kMethodStatus) == 0) {
    EngineStatus s;
    static_cast<void>(readStatus(reply, s));
  } else if (std::strcmp(member, kMethodGetStats) == 0) {
    EngineStats s;
    static_cast<void>(readStats(reply, s));
  } else if (std::strcmp(member, kMethodStopSession) == 0) {
    SessionSummary s;
    static_cast<void>(readSummary(reply, s));
  } else if (std::strcmp(member, kMethodReload) == 0) {
    ReloadResult r;
    static_cast<void>(readReload(reply, r));
  }
}

// Mode 2: up to 8 calls, each: method byte (index into kMethods; bit 7: send and do not wait
// for the answer), then its arguments. The connection is dropped at the end, answered or not.
void callsFrom(const std::string& path, Input& in) {
  hft::core::UniqueFd fd = connectTo(path);
  sd_bus* bus = nullptr;
  FUZZ_CHECK(sd_bus_new(&bus) >= 0);
  FUZZ_CHECK(sd_bus_set_fd(bus, fd.get(), fd.get()) >= 0);
  static_cast<void>(fd.release());
  FUZZ_CHECK(sd_bus_negotiate_fds(bus, 0) >= 0);
  if (sd_bus_start(bus) < 0) {
    sd_bus_close_unref(bus);
    return;
  }
  for (int call = 0; call < 8 && in.left != 0; ++call) {
    const std::uint8_t which = in.byte();
    const Method& method = kMethods[(which & 0x7f) % std::size(kMethods)];
    sd_bus_message* m = nullptr;
    if (sd_bus_message_new_method_call(bus, &m, nullptr, method.path, method.interface,
                                       method.member) < 0)
      break;
    if (!appendArguments(m, in)) {
      sd_bus_message_unref(m);
      continue;
    }
    if ((which & 0x80) != 0) {
      static_cast<void>(sd_bus_send(bus, m, nullptr));
      sd_bus_message_unref(m);
      continue;
    }
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call(bus, m, 5'000'000, &error, &reply);
    // Every call is answered (a reply or an error), never left to time out.
    FUZZ_CHECK(r != -ETIMEDOUT);
    if (r >= 0)
      readReply(reply, method.member);
    sd_bus_message_unref(reply);
    sd_bus_error_free(&error);
    sd_bus_message_unref(m);
    if (sd_bus_is_open(bus) <= 0)
      break;
  }
  sd_bus_close_unref(bus);
}

// Afterwards: the server is still serving, and it let go of the fuzzed connection.
void checkStillServing(Harness& h) {
  h.engine.script(0, "");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (h.server->counters().active != 0) {
    FUZZ_CHECK(std::chrono::steady_clock::now() < deadline); // a connection was never closed
    std::this_thread::sleep_for(200us);
  }
  try {
    hft::ctl::ControlClient client(h.server->socketPath(), 5s);
    FUZZ_CHECK(client.version() == HFT_VERSION);
    FUZZ_CHECK(client.status().version == HFT_VERSION);
  } catch (const hft::ctl::ControlClientError& e) {
    std::fprintf(stderr, "the control server stopped serving: %s\n", e.what());
    FUZZ_CHECK(!"a well-formed client is still served");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = harness();
  Input in{data, size};
  const int mode = in.byte() % 3;
  const std::uint8_t behaviour = in.byte();
  if (mode == 2) {
    h.engine.script(behaviour, in.bytes(in.byte() % 64));
    callsFrom(h.server->socketPath(), in);
  } else {
    h.engine.script(behaviour, "engine says no");
    std::string bytes;
    if (mode == 1) {
      // The uid in hex digits of its decimal form, as sd-bus and dbus-daemon send it.
      const std::string uid = std::to_string(::getuid());
      std::string hex;
      for (const char c : uid)
        hex += fmt::format("{:02x}", static_cast<unsigned>(c));
      bytes = std::string(1, '\0') + "AUTH EXTERNAL " + hex + "\r\nBEGIN\r\n";
    }
    bytes += in.bytes(in.left);
    sendRaw(h.server->socketPath(), bytes, 3s);
  }
  checkStillServing(h);
  if (std::getenv("HFT_FUZZ_VERBOSE") != nullptr) {
    const ControlServerCounters c = h.server->counters();
    std::fprintf(
        stderr, "mode %d: accepted %llu calls %llu denied %llu failed %llu\n", mode,
        static_cast<unsigned long long>(c.accepted), static_cast<unsigned long long>(c.calls),
        static_cast<unsigned long long>(c.denied), static_cast<unsigned long long>(c.failed));
  }
  return 0;
}

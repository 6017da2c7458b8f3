// SPDX-License-Identifier: MIT
// The control socket: a D-Bus (peer-to-peer, no bus daemon) server on its own sd-event thread.
#pragma once

#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/control/control_target.h"
#include "daemon/control/peer_access.h"
#include "libhft/control/control_protocol.h"
#include "libhft/core/fd.h"

namespace hft::control {

struct ControlServerOptions {
  std::string socketPath = kDefaultSocketPath;
  // Group of the socket file (mode 0660); if it does not exist the socket keeps our primary
  // group and a warning is logged. "" leaves the group alone.
  std::string socketGroup = kSocketGroup;
  // Members of this group (and root) may call the mutating methods.
  std::string adminGroup = kAdminGroup;
  // An already listening socket (e.g. from systemd socket activation) to serve instead of
  // binding socketPath; the server takes ownership and never unlinks the path.
  int listenFd = -1;
  std::size_t maxConnections = 16;
  // A connection that makes no method call this long after it is accepted is closed...
  std::chrono::milliseconds firstCallTimeout{5000};
  // ...and so is one that makes no further call this long after its last one.
  std::chrono::milliseconds idleTimeout{30000};
};

// Monotonic totals since start(), readable from any thread.
struct ControlServerCounters {
  std::uint64_t accepted = 0;       // connections served
  std::uint64_t refusedOverCap = 0; // accepted and closed at once: maxConnections were open
  std::uint64_t timedOut = 0;       // closed by firstCallTimeout or idleTimeout
  std::uint64_t closed = 0;         // all connections closed, for any reason
  std::uint64_t calls = 0;          // io.hft.Engine1 method calls answered
  std::uint64_t denied = 0;         // calls refused with AccessDenied
  std::uint64_t failed = 0;         // calls answered with an error from the target
  std::uint64_t active = 0;         // connections open now
};

// Serves io.hft.Engine1 at /io/hft/Engine over an AF_UNIX socket. Every ControlTarget call is
// made on the server's own thread ("hft-control"), one at a time; a call that throws becomes a
// D-Bus error reply. Usage (hftd main):
//
//   control::ControlServer server(engine, {.socketPath = config.controlSocket});
//   server.start();   // throws std::runtime_error with a message fit for the journal
//   ...
//   server.stop();    // or let the destructor do it
class ControlServer {
public:
  explicit ControlServer(ControlTarget& target, ControlServerOptions options = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the socket (creating its directory, replacing a stale socket file, refusing if another
  // server answers on it) and starts the thread. Call once. Throws std::runtime_error.
  void start();
  // Closes every connection, stops and joins the thread and removes the socket file it created.
  // Returns once a ControlTarget call in progress (if any) has returned. Idempotent.
  void stop() noexcept;

  // Runs `task` on the control thread, in order; tasks posted before start() run once it starts,
  // tasks pending at stop() are dropped. An exception from a task is logged and swallowed.
  void post(std::function<void()> task);
  // The loop, for the engine's own timers (sd_event_add_time_relative, ...). Before start() any
  // one thread may use it; after, only the control thread (inside post() or a callback).
  [[nodiscard]] sd_event* event() const noexcept { return event_; }

  [[nodiscard]] ControlServerCounters counters() const noexcept;
  [[nodiscard]] const std::string& socketPath() const noexcept { return options_.socketPath; }

private:
  struct Connection;
  struct Call;

  void bindSocket();
  void acceptPending();
  void refuseOverCap(core::UniqueFd fd);
  void openConnection(core::UniqueFd fd);
  void closeConnection(Connection& connection, const char* why);
  void reap();
  void closeAll();
  void armTimer(Connection& connection, std::chrono::milliseconds timeout);
  void runPosted();
  int serve(Connection& connection, sd_bus_message* call, Access access,
            const std::function<void(Call&)>& body);

  static int onListen(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
  static int onWake(sd_event_source* source, int fd, std::uint32_t revents, void* userdata);
  static int onReap(sd_event_source* source, void* userdata);
  static int onTimeout(sd_event_source* source, std::uint64_t usec, void* userdata);
  static int onDisconnected(sd_bus_message* message, void* userdata, sd_bus_error* error);
  static int onIncoming(sd_bus_message* message, void* userdata, sd_bus_error* error);
  static int methodHello(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodVersion(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodStatus(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodGetStats(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodStartSession(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodStopSession(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodSetKillSwitch(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int methodReload(sd_bus_message* m, void* userdata, sd_bus_error* error);

  ControlTarget& target_;
  ControlServerOptions options_;
  sd_event* event_ = nullptr;
  sd_event_source* wakeSource_ = nullptr;
  sd_event_source* listenSource_ = nullptr;
  sd_event_source* reapSource_ = nullptr;
  core::UniqueFd wakeFd_;
  core::UniqueFd listenFd_;
  bool ownsSocketFile_ = false;
  dev_t socketDev_ = 0;
  ino_t socketIno_ = 0;
  sd_id128_t serverId_{};
  std::thread thread_;
  bool started_ = false;
  std::atomic<bool> stopRequested_{false};

  std::mutex postMutex_;
  std::vector<std::function<void()>> posted_;

  // Control thread only.
  std::map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::uint64_t nextConnectionId_ = 1;
  std::chrono::steady_clock::time_point lastCapLog_{};
  std::uint64_t refusedSinceLog_ = 0;
  // The admin group's gid, resolved once by start(): a call is checked against the groups the
  // kernel gave its connection (SO_PEERGROUPS), never against the user database. Looked up
  // again only while the group does not exist, so creating it needs no restart.
  std::optional<gid_t> adminGid_;

  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refusedOverCap_{0};
  std::atomic<std::uint64_t> timedOut_{0};
  std::atomic<std::uint64_t> closed_{0};
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> denied_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> active_{0};
};

} // namespace hft::control

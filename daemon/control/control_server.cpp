// SPDX-License-Identifier: MIT
// The control socket: accepts AF_UNIX connections, speaks D-Bus on each, calls the engine.
#include "daemon/control/control_server.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "libhft/control/control_codec.h"

#ifndef HFT_VERSION
#define HFT_VERSION "unknown"
#endif

namespace hft::control {

struct ControlServer::Connection {
  ControlServer* server = nullptr;
  std::uint64_t id = 0;
  PeerCredentials peer;
  sd_bus* bus = nullptr;
  sd_bus_slot* vtableSlot = nullptr;
  sd_bus_slot* driverSlot = nullptr;
  sd_bus_slot* disconnectSlot = nullptr;
  sd_bus_slot* filterSlot = nullptr;
  sd_event_source* timer = nullptr;
  bool closing = false;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    sd_event_source_disable_unref(timer);
    sd_bus_slot_unref(vtableSlot);
    sd_bus_slot_unref(driverSlot);
    sd_bus_slot_unref(disconnectSlot);
    sd_bus_slot_unref(filterSlot);
    if (bus != nullptr) {
      sd_bus_detach_event(bus);
      // No flush: a peer that does not read must not block the control thread.
      sd_bus_close_unref(bus);
    }
  }
};

// One method call in progress: the request, the reply being built and who asked.
struct ControlServer::Call {
  sd_bus_message* request = nullptr;
  sd_bus_message* reply = nullptr;
  const PeerCredentials& peer;
};

namespace {

// Throws when building or reading a message failed; serve() turns it into kErrorFailed.
void check(int r, const char* what) {
  if (r < 0)
    throw std::system_error(-r, std::generic_category(), what);
}

std::uint64_t toUsec(std::chrono::milliseconds ms) {
  return static_cast<std::uint64_t>(ms.count()) * 1000U;
}

// D-Bus error names: two or more dot-separated elements of [A-Za-z0-9_], not starting with a
// digit, 255 bytes at most. sd-bus would otherwise refuse to send the reply.
bool isValidErrorName(const std::string& name) {
  if (name.empty() || name.size() > 255)
    return false;
  int elements = 0;
  bool elementStart = true;
  for (const char c : name) {
    if (c == '.') {
      if (elementStart)
        return false;
      elementStart = true;
      continue;
    }
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && !elementStart))
      return false;
    if (elementStart)
      ++elements;
    elementStart = false;
  }
  return !elementStart && elements >= 2;
}

std::string describePeer(const PeerCredentials& peer) {
  return fmt::format("uid {} pid {}", peer.uid, peer.pid);
}

void makeDirectories(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || std::filesystem::is_directory(dir, ec))
    return;
  makeDirectories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
    throw std::runtime_error(fmt::format("cannot create control socket directory {}: {}",
                                         dir.string(), std::strerror(errno)));
}

} // namespace

ControlServer::ControlServer(ControlTarget& target, ControlServerOptions options)
    : target_(target), options_(std::move(options)) {
  if (options_.maxConnections == 0)
    options_.maxConnections = 1;
  int r = sd_event_new(&event_);
  if (r < 0)
    throw std::system_error(-r, std::generic_category(), "control: sd_event_new");
  wakeFd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeFd_)
    throw std::system_error(errno, std::generic_category(), "control: eventfd");
  r = sd_event_add_io(event_, &wakeSource_, wakeFd_.get(), EPOLLIN, &ControlServer::onWake, this);
  if (r < 0)
    throw std::system_error(-r, std::generic_category(), "control: sd_event_add_io");
  r = sd_event_add_defer(event_, &reapSource_, &ControlServer::onReap, this);
  if (r >= 0)
    r = sd_event_source_set_enabled(reapSource_, SD_EVENT_OFF);
  if (r < 0)
    throw std::system_error(-r, std::generic_category(), "control: sd_event_add_defer");
  r = sd_id128_randomize(&serverId_);
  if (r < 0)
    throw std::system_error(-r, std::generic_category(), "control: sd_id128_randomize");
}

ControlServer::~ControlServer() {
  stop();
  sd_event_source_disable_unref(reapSource_);
  sd_event_source_disable_unref(wakeSource_);
  sd_event_unref(event_);
}

void ControlServer::bindSocket() {
  if (options_.listenFd >= 0) {
    listenFd_.reset(options_.listenFd);
    options_.listenFd = -1;
    const int flags = ::fcntl(listenFd_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(listenFd_.get(), F_SETFL, flags | O_NONBLOCK) < 0)
      throw std::runtime_error(fmt::format("control socket: the inherited listening socket is "
                                           "unusable: {}",
                                           std::strerror(errno)));
    return;
  }

  const std::string& path = options_.socketPath;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    throw std::runtime_error(fmt::format("control socket path '{}' is empty or longer than {} "
                                         "bytes; choose a shorter path",
                                         path, sizeof(addr.sun_path) - 1));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const auto addrLen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);

  makeDirectories(std::filesystem::path(path).parent_path());

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      throw std::runtime_error(fmt::format("control socket path {} exists and is not a socket; "
                                           "remove it or choose another path",
                                           path));
    // A socket file: stale if nobody answers on it.
    core::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), addrLen) == 0)
      throw std::runtime_error(fmt::format("another hftd is already serving the control socket "
                                           "{}; stop it first or choose another path",
                                           path));
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
      throw std::runtime_error(
          fmt::format("cannot remove the stale control socket {}: {}", path, std::strerror(errno)));
    spdlog::info("control: removed stale socket {}", path);
  }

  listenFd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listenFd_)
    throw std::runtime_error(fmt::format("control socket: socket(): {}", std::strerror(errno)));
  if (::bind(listenFd_.get(), reinterpret_cast<const sockaddr*>(&addr), addrLen) < 0)
    throw std::runtime_error(
        fmt::format("cannot bind the control socket {}: {}", path, std::strerror(errno)));
  ownsSocketFile_ = true;
  if (::lstat(path.c_str(), &st) == 0) {
    socketDev_ = st.st_dev;
    socketIno_ = st.st_ino;
  }
  // Mode and group are set before listen(): until then nobody can connect.
  if (::chmod(path.c_str(), 0660) < 0)
    throw std::runtime_error(fmt::format("cannot set mode 0660 on the control socket {}: {}", path,
                                         std::strerror(errno)));
  if (!options_.socketGroup.empty()) {
    if (const auto gid = lookupGroup(options_.socketGroup)) {
      if (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) < 0)
        spdlog::warn("control: cannot give the socket {} to group {}: {}; only its owner's group "
                     "can use it",
                     path, options_.socketGroup, std::strerror(errno));
    } else {
      spdlog::warn("control: group {} does not exist, so the socket {} keeps the daemon's primary "
                   "group; create it with `groupadd --system {}` and add the operators to it",
                   options_.socketGroup, path, options_.socketGroup);
    }
  }
  if (::listen(listenFd_.get(), 64) < 0)
    throw std::runtime_error(
        fmt::format("cannot listen on the control socket {}: {}", path, std::strerror(errno)));
}

void ControlServer::start() {
  if (started_)
    throw std::logic_error("ControlServer::start() called twice");
  bindSocket();
  adminGid_ = lookupGroup(options_.adminGroup);
  const int r = sd_event_add_io(event_, &listenSource_, listenFd_.get(), EPOLLIN,
                                &ControlServer::onListen, this);
  if (r < 0)
    throw std::system_error(-r, std::generic_category(), "control: sd_event_add_io");
  started_ = true;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "hft-control");
    const int result = sd_event_loop(event_);
    if (result < 0)
      spdlog::error("control: the event loop failed: {}", std::strerror(-result));
  });
  spdlog::info("control: listening on {}", options_.socketPath);
}

void ControlServer::stop() noexcept {
  if (thread_.joinable()) {
    stopRequested_.store(true, std::memory_order_relaxed); // the eventfd write orders it
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wakeFd_.get(), &one, sizeof(one));
    thread_.join();
  }
  // The loop is no longer running (or never ran): the rest is safe from this thread.
  closeAll();
  listenSource_ = sd_event_source_disable_unref(listenSource_);
  listenFd_.reset();
  if (ownsSocketFile_) {
    ownsSocketFile_ = false;
    struct stat st {};
    // Only our own socket: a newer daemon may already have replaced it.
    if (::lstat(options_.socketPath.c_str(), &st) == 0 && st.st_dev == socketDev_ &&
        st.st_ino == socketIno_)
      ::unlink(options_.socketPath.c_str());
  }
  std::lock_guard lock(postMutex_);
  posted_.clear();
}

void ControlServer::post(std::function<void()> task) {
  {
    std::lock_guard lock(postMutex_);
    posted_.push_back(std::move(task));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wakeFd_.get(), &one, sizeof(one));
}

ControlServerCounters ControlServer::counters() const noexcept {
  ControlServerCounters c;
  c.accepted = accepted_.load(std::memory_order_relaxed);
  c.refusedOverCap = refusedOverCap_.load(std::memory_order_relaxed);
  c.timedOut = timedOut_.load(std::memory_order_relaxed);
  c.closed = closed_.load(std::memory_order_relaxed);
  c.calls = calls_.load(std::memory_order_relaxed);
  c.denied = denied_.load(std::memory_order_relaxed);
  c.failed = failed_.load(std::memory_order_relaxed);
  c.active = active_.load(std::memory_order_relaxed);
  return c;
}

int ControlServer::onWake(sd_event_source*, int fd, std::uint32_t, void* userdata) {
  auto* self = static_cast<ControlServer*>(userdata);
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(fd, &value, sizeof(value));
  if (self->stopRequested_.load(std::memory_order_relaxed)) {
    // Closed here, before the loop exits: sd-bus's own exit handler would flush each bus and
    // wait (up to 90 s) for a peer still in its handshake.
    self->closeAll();
    sd_event_exit(self->event_, 0);
    return 0;
  }
  self->runPosted();
  return 0;
}

void ControlServer::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(postMutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) {
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("control: a posted task failed: {}", e.what());
    } catch (...) {
      spdlog::error("control: a posted task failed with an unknown exception");
    }
  }
}

int ControlServer::onListen(sd_event_source*, int, std::uint32_t, void* userdata) {
  static_cast<ControlServer*>(userdata)->acceptPending();
  return 0;
}

void ControlServer::acceptPending() {
  // Bounded so a flood of connections cannot starve the calls in progress.
  for (int i = 0; i < 64; ++i) {
    core::UniqueFd fd(::accept4(listenFd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
        return;
      spdlog::warn("control: accept on {} failed: {}", options_.socketPath, std::strerror(errno));
      return;
    }
    std::size_t open = 0;
    for (const auto& [id, connection] : connections_)
      open += connection->closing ? 0 : 1;
    if (open >= options_.maxConnections)
      refuseOverCap(std::move(fd));
    else
      openConnection(std::move(fd));
  }
}

void ControlServer::refuseOverCap(core::UniqueFd fd) {
  refusedOverCap_.fetch_add(1, std::memory_order_relaxed); // before the peer can see EOF
  fd.reset();
  ++refusedSinceLog_;
  const auto now = std::chrono::steady_clock::now();
  if (now - lastCapLog_ >= std::chrono::seconds(1)) {
    spdlog::warn("control: refused {} connection(s): {} control connections are already open",
                 refusedSinceLog_, options_.maxConnections);
    lastCapLog_ = now;
    refusedSinceLog_ = 0;
  }
}

void ControlServer::openConnection(core::UniqueFd fd) {
  static const sd_bus_vtable vtable[] = {
      SD_BUS_VTABLE_START(0),
      SD_BUS_METHOD_WITH_NAMES(kMethodVersion, "", "", "s", SD_BUS_PARAM(version),
                               &ControlServer::methodVersion, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD_WITH_NAMES(kMethodStatus, "", "", "a{sv}", SD_BUS_PARAM(status),
                               &ControlServer::methodStatus, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD_WITH_NAMES(kMethodGetStats, "", "", kStatsSignature,
                               SD_BUS_PARAM(counters) SD_BUS_PARAM(symbols) SD_BUS_PARAM(latency),
                               &ControlServer::methodGetStats, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD_WITH_NAMES(kMethodStartSession, "u", SD_BUS_PARAM(duration_sec), "s",
                               SD_BUS_PARAM(session_id), &ControlServer::methodStartSession,
                               SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD_WITH_NAMES(kMethodStopSession, "", "", kSummarySignature,
                               SD_BUS_PARAM(session_id) SD_BUS_PARAM(directory) SD_BUS_PARAM(
                                   counters) SD_BUS_PARAM(symbols) SD_BUS_PARAM(latency),
                               &ControlServer::methodStopSession, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD_WITH_NAMES(kMethodSetKillSwitch, "b", SD_BUS_PARAM(on), "", "",
                               &ControlServer::methodSetKillSwitch, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_METHOD_WITH_NAMES(kMethodReload, "", "", kReloadSignature,
                               SD_BUS_PARAM(applied) SD_BUS_PARAM(needs_restart),
                               &ControlServer::methodReload, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_VTABLE_END,
  };
  // Just enough of the bus driver for tools that insist on saying Hello (busctl --address).
  static const sd_bus_vtable driverVtable[] = {
      SD_BUS_VTABLE_START(0),
      SD_BUS_METHOD_WITH_NAMES("Hello", "", "", "s", SD_BUS_PARAM(unique_name),
                               &ControlServer::methodHello, SD_BUS_VTABLE_UNPRIVILEGED),
      SD_BUS_VTABLE_END,
  };

  auto connection = std::make_unique<Connection>();
  connection->server = this;
  connection->id = nextConnectionId_++;
  try {
    connection->peer = readPeerCredentials(fd.get());
  } catch (const std::exception& e) {
    spdlog::warn("control: dropped a connection whose credentials cannot be read: {}", e.what());
    return;
  }

  Connection& c = *connection;
  int r = sd_bus_new(&c.bus);
  if (r >= 0) {
    r = sd_bus_set_fd(c.bus, fd.get(), fd.get());
    if (r >= 0)
      static_cast<void>(fd.release()); // the bus closes it from now on
  }
  if (r >= 0)
    r = sd_bus_set_server(c.bus, 1, serverId_);
  // Authorisation is ours (peer credentials, per method), not sd-bus's capability check.
  if (r >= 0)
    r = sd_bus_set_trusted(c.bus, 1);
  if (r >= 0)
    r = sd_bus_negotiate_fds(c.bus, 0);
  if (r >= 0)
    r = sd_bus_add_object_vtable(c.bus, &c.vtableSlot, kObjectPath, kInterface, vtable, &c);
  if (r >= 0)
    r = sd_bus_add_object_vtable(c.bus, &c.driverSlot, "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus", driverVtable, &c);
  if (r >= 0)
    r = sd_bus_match_signal(c.bus, &c.disconnectSlot, nullptr, "/org/freedesktop/DBus/Local",
                            "org.freedesktop.DBus.Local", "Disconnected",
                            &ControlServer::onDisconnected, &c);
  if (r >= 0)
    r = sd_bus_add_filter(c.bus, &c.filterSlot, &ControlServer::onIncoming, &c);
  if (r >= 0) {
    // A server reads the handshake at once: garbage already sent fails here.
    r = sd_bus_start(c.bus);
    if (r < 0) {
      spdlog::debug("control: dropped a connection from {}: bad D-Bus handshake ({})",
                    describePeer(c.peer), std::strerror(-r));
      return;
    }
  }
  if (r >= 0)
    r = sd_bus_attach_event(c.bus, event_, SD_EVENT_PRIORITY_NORMAL);
  if (r < 0) {
    spdlog::warn("control: cannot set up a connection from {}: {}", describePeer(c.peer),
                 std::strerror(-r));
    return;
  }
  armTimer(c, options_.firstCallTimeout);
  if (c.timer == nullptr)
    return;
  spdlog::debug("control: connection {} from {}", c.id, describePeer(c.peer));
  accepted_.fetch_add(1, std::memory_order_relaxed);
  active_.fetch_add(1, std::memory_order_relaxed);
  connections_.emplace(c.id, std::move(connection));
}

void ControlServer::armTimer(Connection& c, std::chrono::milliseconds timeout) {
  int r = 0;
  if (c.timer == nullptr) {
    // 1 ms accuracy: the default (250 ms) would blur short test timeouts for no gain.
    r = sd_event_add_time_relative(event_, &c.timer, CLOCK_MONOTONIC, toUsec(timeout), 1000,
                                   &ControlServer::onTimeout, &c);
  } else {
    r = sd_event_source_set_time_relative(c.timer, toUsec(timeout));
    if (r >= 0)
      r = sd_event_source_set_enabled(c.timer, SD_EVENT_ONESHOT);
  }
  if (r < 0)
    spdlog::warn("control: cannot arm the timeout of connection {}: {}", c.id, std::strerror(-r));
}

void ControlServer::closeConnection(Connection& c, const char* why) {
  if (c.closing)
    return;
  c.closing = true;
  spdlog::debug("control: closing connection {} from {}: {}", c.id, describePeer(c.peer), why);
  if (c.timer != nullptr)
    sd_event_source_set_enabled(c.timer, SD_EVENT_OFF);
  // Freed from a defer source: this may run inside the bus's own callback.
  sd_event_source_set_enabled(reapSource_, SD_EVENT_ONESHOT);
}

void ControlServer::closeAll() {
  active_.store(0, std::memory_order_relaxed);
  closed_.fetch_add(connections_.size(), std::memory_order_relaxed);
  connections_.clear();
}

int ControlServer::onReap(sd_event_source*, void* userdata) {
  static_cast<ControlServer*>(userdata)->reap();
  return 0;
}

void ControlServer::reap() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->second->closing) {
      it = connections_.erase(it);
      active_.fetch_sub(1, std::memory_order_relaxed);
      closed_.fetch_add(1, std::memory_order_relaxed);
    } else {
      ++it;
    }
  }
}

int ControlServer::onTimeout(sd_event_source*, std::uint64_t, void* userdata) {
  auto& c = *static_cast<Connection*>(userdata);
  c.server->timedOut_.fetch_add(1, std::memory_order_relaxed);
  c.server->closeConnection(c, "timed out waiting for a method call");
  return 0;
}

int ControlServer::onDisconnected(sd_bus_message*, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  c.server->closeConnection(c, "disconnected");
  return 0;
}

int ControlServer::onIncoming(sd_bus_message* message, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  std::uint8_t type = 0;
  if (!c.closing && sd_bus_message_get_type(message, &type) >= 0 &&
      type == SD_BUS_MESSAGE_METHOD_CALL)
    c.server->armTimer(c, c.server->options_.idleTimeout);
  return 0; // let the vtable (or Introspectable, Peer) answer it
}

int ControlServer::serve(Connection& c, sd_bus_message* request, Access access,
                         const std::function<void(Call&)>& body) {
  const char* method = sd_bus_message_get_member(request);
  calls_.fetch_add(1, std::memory_order_relaxed);
  if (access == Access::Control) {
    if (!adminGid_ && c.peer.uid != 0)
      adminGid_ = lookupGroup(options_.adminGroup); // created since start-up?
    const std::optional<gid_t> adminGid = adminGid_;
    if (!mayControl(c.peer, adminGid)) {
      denied_.fetch_add(1, std::memory_order_relaxed);
      const std::string message =
          accessDeniedMessage(method, c.peer, options_.adminGroup, adminGid.has_value());
      spdlog::warn("control: refused {} from {}: not root nor in group {}", method,
                   describePeer(c.peer), options_.adminGroup);
      return sd_bus_reply_method_errorf(request, kErrorAccessDenied, "%s", message.c_str());
    }
    spdlog::info("control: {} called by {}", method, describePeer(c.peer));
  }

  std::string errorName;
  std::string errorMessage;
  sd_bus_message* reply = nullptr;
  try {
    check(sd_bus_message_new_method_return(request, &reply), "building the reply");
    Call call{request, reply, c.peer};
    body(call);
  } catch (const ControlError& e) {
    errorName = e.name();
    errorMessage = e.what();
  } catch (const std::exception& e) {
    errorName = kErrorFailed;
    errorMessage = e.what();
  } catch (...) {
    errorName = kErrorFailed;
    errorMessage = "the engine failed with an unknown exception";
  }

  int r = 0;
  if (errorName.empty()) {
    r = sd_bus_send(nullptr, reply, nullptr);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
    if (!isValidErrorName(errorName)) {
      errorMessage = fmt::format("{} ({})", errorMessage, errorName);
      errorName = kErrorFailed;
    }
    spdlog::log(access == Access::Control ? spdlog::level::warn : spdlog::level::debug,
                "control: {} from {} failed: {}: {}", method, describePeer(c.peer), errorName,
                errorMessage);
    r = sd_bus_reply_method_errorf(request, errorName.c_str(), "%s", errorMessage.c_str());
  }
  sd_bus_message_unref(reply);
  if (!c.closing)
    armTimer(c, options_.idleTimeout);
  return r < 0 ? r : 1;
}

int ControlServer::methodHello(sd_bus_message* m, void* userdata, sd_bus_error*) {
  const auto& c = *static_cast<Connection*>(userdata);
  const std::string name = fmt::format(":1.{}", c.id);
  return sd_bus_reply_method_return(m, "s", name.c_str());
}

int ControlServer::methodVersion(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Read, [](Call& call) {
    check(sd_bus_message_append(call.reply, "s", HFT_VERSION), "Version reply");
  });
}

int ControlServer::methodStatus(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Read, [&c](Call& call) {
    check(appendStatus(call.reply, c.server->target_.status()), "Status reply");
  });
}

int ControlServer::methodGetStats(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Read, [&c](Call& call) {
    check(appendStats(call.reply, c.server->target_.stats()), "GetStats reply");
  });
}

int ControlServer::methodStartSession(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Control, [&c](Call& call) {
    std::uint32_t durationSec = 0;
    check(sd_bus_message_read(call.request, "u", &durationSec), "StartSession arguments");
    const std::string id = c.server->target_.startSession(durationSec);
    spdlog::info("control: session {} started (duration {} s, 0 = until stopped)", id, durationSec);
    check(sd_bus_message_append(call.reply, "s", id.c_str()), "StartSession reply");
  });
}

int ControlServer::methodStopSession(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Control, [&c](Call& call) {
    const SessionSummary summary = c.server->target_.stopSession();
    spdlog::info("control: session {} stopped", summary.sessionId);
    check(appendSummary(call.reply, summary), "StopSession reply");
  });
}

int ControlServer::methodSetKillSwitch(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Control, [&c](Call& call) {
    int on = 0;
    check(sd_bus_message_read(call.request, "b", &on), "SetKillSwitch arguments");
    c.server->target_.setKillSwitch(on != 0);
    spdlog::info("control: kill switch {}", on != 0 ? "on" : "off");
  });
}

int ControlServer::methodReload(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto& c = *static_cast<Connection*>(userdata);
  return c.server->serve(c, m, Access::Control, [&c](Call& call) {
    check(appendReload(call.reply, c.server->target_.reload()), "Reload reply");
  });
}

} // namespace hft::control

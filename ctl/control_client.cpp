// SPDX-License-Identifier: MIT
// hftctl's side of the control socket: connect, call, and classify every failure.
#include "ctl/control_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "libhft/control/control_codec.h"
#include "libhft/control/control_protocol.h"
#include "libhft/core/fd.h"

namespace hft::ctl {
namespace {

struct MessageUnref {
  void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageUnref>;

[[noreturn]] void throwProtocol(int r, const char* what) {
  throw ControlClientError(Failure::Failed, "",
                           fmt::format("unexpected reply from hftd ({}: {}); are hftctl and hftd "
                                       "the same version?",
                                       what, std::strerror(-r)));
}

void checkCodec(int r, const char* what) {
  if (r < 0)
    throwProtocol(r, what);
}

} // namespace

ControlClient::ControlClient(const std::string& socketPath, std::chrono::milliseconds callTimeout)
    : socketPath_(socketPath), callTimeout_(callTimeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.empty() || socketPath.size() >= sizeof(addr.sun_path))
    throw ControlClientError(Failure::NotRunning, "",
                             fmt::format("the socket path '{}' is empty or longer than {} bytes",
                                         socketPath, sizeof(addr.sun_path) - 1));
  std::memcpy(addr.sun_path, socketPath.c_str(), socketPath.size() + 1);
  const auto addrLen =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socketPath.size() + 1);

  core::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd)
    throw ControlClientError(Failure::Failed, "",
                             fmt::format("cannot create a socket: {}", std::strerror(errno)));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), addrLen) < 0) {
    const int err = errno;
    if (err == EACCES || err == EPERM)
      throw ControlClientError(Failure::SocketAccess, "",
                               fmt::format("permission denied opening {}", socketPath));
    throw ControlClientError(
        Failure::NotRunning, "",
        fmt::format("cannot connect to {}: {}", socketPath, std::strerror(err)));
  }

  int r = sd_bus_new(&bus_);
  if (r >= 0) {
    r = sd_bus_set_fd(bus_, fd.get(), fd.get());
    if (r >= 0)
      static_cast<void>(fd.release()); // the bus closes it from now on
  }
  if (r >= 0)
    r = sd_bus_negotiate_fds(bus_, 0);
  if (r >= 0)
    r = sd_bus_start(bus_);
  if (r < 0) {
    bus_ = sd_bus_close_unref(bus_);
    if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN)
      throw ControlClientError(Failure::Failed, "", closedMessage(-r));
    throw ControlClientError(
        Failure::Failed, "",
        fmt::format("cannot start a D-Bus connection on {}: {}", socketPath, std::strerror(-r)));
  }
}

std::string ControlClient::closedMessage(int error) const {
  return fmt::format("hftd closed the connection on {} before answering ({}); it may be at its "
                     "limit of control connections, see `journalctl -u hftd`",
                     socketPath_, std::strerror(error));
}

ControlClient::~ControlClient() { sd_bus_close_unref(bus_); }

sd_bus_message* ControlClient::newCall(const char* method) {
  sd_bus_message* m = nullptr;
  const int r = sd_bus_message_new_method_call(bus_, &m, nullptr, control::kObjectPath,
                                               control::kInterface, method);
  if (r < 0)
    throw ControlClientError(
        Failure::Failed, "",
        fmt::format("cannot build the {} call: {}", method, std::strerror(-r)));
  return m;
}

sd_bus_message* ControlClient::call(sd_bus_message* request) {
  MessagePtr owned(request);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  const auto usec = static_cast<std::uint64_t>(callTimeout_.count()) * 1000U;
  const int r = sd_bus_call(bus_, request, usec, &error, &reply);
  if (r >= 0) {
    sd_bus_error_free(&error);
    return reply;
  }
  const std::string name = error.name != nullptr ? error.name : "";
  const std::string message = error.message != nullptr ? error.message : std::strerror(-r);
  sd_bus_error_free(&error);

  if (r == -ETIMEDOUT)
    throw ControlClientError(
        Failure::Failed, "",
        fmt::format("hftd did not answer within {} s", callTimeout_.count() / 1000));
  if (sd_bus_is_open(bus_) <= 0)
    throw ControlClientError(Failure::Failed, "", closedMessage(-r));
  if (name == control::kErrorAccessDenied)
    throw ControlClientError(Failure::AccessDenied, name, message);
  if (name == control::kErrorBusy || name == control::kErrorNoSession ||
      name == control::kErrorConfig)
    throw ControlClientError(Failure::Refused, name, message);
  throw ControlClientError(Failure::Failed, name,
                           name.empty() ? message : fmt::format("{} ({})", message, name));
}

std::string ControlClient::version() {
  MessagePtr reply(call(newCall(control::kMethodVersion)));
  const char* v = nullptr;
  checkCodec(sd_bus_message_read(reply.get(), "s", &v), "Version");
  return v;
}

control::EngineStatus ControlClient::status() {
  MessagePtr reply(call(newCall(control::kMethodStatus)));
  control::EngineStatus status;
  checkCodec(control::readStatus(reply.get(), status), "Status");
  return status;
}

control::EngineStats ControlClient::stats() {
  MessagePtr reply(call(newCall(control::kMethodGetStats)));
  control::EngineStats stats;
  checkCodec(control::readStats(reply.get(), stats), "GetStats");
  return stats;
}

std::string ControlClient::startSession(std::uint32_t durationSec) {
  MessagePtr request(newCall(control::kMethodStartSession));
  checkCodec(sd_bus_message_append(request.get(), "u", durationSec), "StartSession");
  MessagePtr reply(call(request.release()));
  const char* id = nullptr;
  checkCodec(sd_bus_message_read(reply.get(), "s", &id), "StartSession");
  return id;
}

control::SessionSummary ControlClient::stopSession() {
  MessagePtr reply(call(newCall(control::kMethodStopSession)));
  control::SessionSummary summary;
  checkCodec(control::readSummary(reply.get(), summary), "StopSession");
  return summary;
}

void ControlClient::setKillSwitch(bool on) {
  MessagePtr request(newCall(control::kMethodSetKillSwitch));
  checkCodec(sd_bus_message_append(request.get(), "b", static_cast<int>(on)), "SetKillSwitch");
  MessagePtr reply(call(request.release()));
}

control::ReloadResult ControlClient::reload() {
  MessagePtr reply(call(newCall(control::kMethodReload)));
  control::ReloadResult result;
  checkCodec(control::readReload(reply.get(), result), "Reload");
  return result;
}

} // namespace hft::ctl

// SPDX-License-Identifier: MIT
// hftctl's side of the control socket: one D-Bus connection to hftd and typed calls over it.
#pragma once

#include <systemd/sd-bus.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "libhft/control/control_types.h"

namespace hft::ctl {

// Why a request did not succeed; decides hftctl's exit code (see exitCodeFor()).
enum class Failure {
  NotRunning,   // no socket, nobody listening, or the path is unusable: exit 3
  SocketAccess, // the socket exists but we may not open it (not in group hft): exit 1
  AccessDenied, // the daemon refused a privileged call (not root nor in hft-admin): exit 1
  Refused,      // the daemon refused in the engine's terms (session running, bad config): exit 1
  Failed,       // the daemon failed, timed out, or closed the connection: exit 1
};

class ControlClientError : public std::runtime_error {
public:
  ControlClientError(Failure failure, std::string errorName, const std::string& message)
      : std::runtime_error(message), failure_(failure), errorName_(std::move(errorName)) {}
  [[nodiscard]] Failure failure() const noexcept { return failure_; }
  // The D-Bus error name of the daemon's reply, "" when the failure is local.
  [[nodiscard]] const std::string& errorName() const noexcept { return errorName_; }

private:
  Failure failure_;
  std::string errorName_;
};

// Every method is a blocking call; each throws ControlClientError.
class ControlClient {
public:
  // Connects to the socket; the D-Bus handshake completes with the first call.
  explicit ControlClient(const std::string& socketPath,
                         std::chrono::milliseconds callTimeout = std::chrono::seconds(60));
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  [[nodiscard]] std::string version();
  [[nodiscard]] control::EngineStatus status();
  [[nodiscard]] control::EngineStats stats();
  [[nodiscard]] std::string startSession(std::uint32_t durationSec);
  [[nodiscard]] control::SessionSummary stopSession();
  void setKillSwitch(bool on);
  [[nodiscard]] control::ReloadResult reload();

private:
  // Sends `request` and returns the reply (owned by the caller); throws on any error.
  sd_bus_message* call(sd_bus_message* request);
  sd_bus_message* newCall(const char* method);
  [[nodiscard]] std::string closedMessage(int error) const;

  std::string socketPath_;
  std::chrono::milliseconds callTimeout_;
  sd_bus* bus_ = nullptr;
};

} // namespace hft::ctl

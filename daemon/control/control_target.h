// SPDX-License-Identifier: MIT
// What the control socket can ask of the engine: the seam between control plane and engine.
#pragma once

#include <cstdint>
#include <string>

#include "libhft/control/control_types.h"

namespace hft::control {

// Implemented by the engine; called from the control thread only. Methods may block for a
// bounded time (start/stop wait for the session to reach its state) but never the workers.
class ControlTarget {
public:
  virtual ~ControlTarget() = default;
  virtual EngineStatus status() = 0;
  virtual EngineStats stats() = 0;
  // durationSec 0 = until stop-session. Throws ControlError(kErrorBusy) when one runs.
  virtual std::string startSession(std::uint32_t durationSec) = 0;
  // Throws ControlError(kErrorNoSession) when none runs.
  virtual SessionSummary stopSession() = 0;
  virtual void setKillSwitch(bool on) = 0;
  // Re-reads the configuration file; throws ControlError(kErrorConfig) and keeps the old
  // configuration when the new one is invalid.
  virtual ReloadResult reload() = 0;
};

} // namespace hft::control

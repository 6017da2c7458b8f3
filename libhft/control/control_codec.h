// SPDX-License-Identifier: MIT
// Writes and reads the io.hft.Engine1 replies: shared by the server and hftctl so they agree.
#pragma once

#include <systemd/sd-bus.h>

#include "libhft/control/control_types.h"

namespace hft::control {

// Each returns 0 or a negative errno (sd-bus style); -EBADMSG when a value has the wrong type.
// Readers ignore dictionary keys they do not know, so a newer daemon can add fields.
[[nodiscard]] int appendStatus(sd_bus_message* message, const EngineStatus& status);
[[nodiscard]] int readStatus(sd_bus_message* message, EngineStatus& status);

[[nodiscard]] int appendStats(sd_bus_message* message, const EngineStats& stats);
[[nodiscard]] int readStats(sd_bus_message* message, EngineStats& stats);

[[nodiscard]] int appendSummary(sd_bus_message* message, const SessionSummary& summary);
[[nodiscard]] int readSummary(sd_bus_message* message, SessionSummary& summary);

[[nodiscard]] int appendReload(sd_bus_message* message, const ReloadResult& result);
[[nodiscard]] int readReload(sd_bus_message* message, ReloadResult& result);

} // namespace hft::control

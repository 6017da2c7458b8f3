// SPDX-License-Identifier: MIT
// The stats JSON of docs/control.md: written by hftctl --json and as a session's stats.json.
#pragma once

#include <string>

#include "libhft/control/control_types.h"
#include "libhft/core/json_writer.h"

namespace hft::control {

void writeStatsJson(core::JsonWriter& json, const EngineStats& stats);
[[nodiscard]] std::string statsJson(const EngineStats& stats, bool pretty = false);

} // namespace hft::control

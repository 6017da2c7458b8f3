// SPDX-License-Identifier: MIT
// The stats JSON of docs/control.md: written by hftctl --json and as a session's stats.json.
#pragma once

#include <string>

#include "libhft/control/control_types.h"
#include "libhft/core/json.h"

namespace hft::control {

// The stats as a JSON object, keys in the order docs/control.md lists them.
[[nodiscard]] core::Json statsJsonValue(const EngineStats& stats);
[[nodiscard]] std::string statsJson(const EngineStats& stats, bool pretty = false);

} // namespace hft::control

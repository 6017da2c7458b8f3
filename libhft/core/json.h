// SPDX-License-Identifier: MIT
// JSON for stats, reports and session files: nlohmann/json (Debian's nlohmann-json3-dev).
// ordered_json keeps keys in the order they were set, so documents read as docs/ lists them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hft::core {

using Json = nlohmann::ordered_json;

// The text of `value`: compact, or indented by two spaces. Strings that are not valid UTF-8
// (a path, an id from the wire) are written with U+FFFD in place of the bad bytes instead of
// throwing; NaN and infinities are written as null.
[[nodiscard]] inline std::string dumpJson(const Json& value, bool pretty = false) {
  return value.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

} // namespace hft::core

// SPDX-License-Identifier: MIT
// "A.B.C.D:PORT": the one parser of an IPv4 endpoint for hftd's and exchange-sim's UDP feed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hft::core {

// Parses "A.B.C.D:PORT" (dotted IPv4, port 1..65535, decimal digits only). On success sets
// `address` (the A.B.C.D part) and `port` and returns true; otherwise leaves both untouched
// and returns false. IPv4 only: the AF_XDP path parses IPv4 headers.
[[nodiscard]] bool parseIpv4Endpoint(std::string_view text, std::string& address,
                                     std::uint16_t& port);

} // namespace hft::core

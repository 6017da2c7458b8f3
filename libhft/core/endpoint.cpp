// SPDX-License-Identifier: MIT
#include "libhft/core/endpoint.h"

#include <charconv>

#include <arpa/inet.h>

namespace hft::core {

bool parseIpv4Endpoint(std::string_view text, std::string& address, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return false;
  const std::string host(text.substr(0, colon));
  in_addr probe{};
  if (inet_pton(AF_INET, host.c_str(), &probe) != 1)
    return false;
  const std::string_view digits = text.substr(colon + 1);
  unsigned value = 0;
  const char* last = digits.data() + digits.size();
  const auto [end, ec] = std::from_chars(digits.data(), last, value);
  if (ec != std::errc() || end != last || value == 0 || value > 65535)
    return false;
  address = host;
  port = static_cast<std::uint16_t>(value);
  return true;
}

} // namespace hft::core

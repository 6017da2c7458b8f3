// SPDX-License-Identifier: MIT
// CRC-32 (IEEE 802.3, the zlib one), so Python's zlib.crc32 can check what we write.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace hft::core {

namespace detail {
constexpr std::array<std::uint32_t, 256> makeCrc32Table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr auto kCrc32Table = makeCrc32Table();
} // namespace detail

[[nodiscard]] inline std::uint32_t crc32(const void* data, std::size_t length,
                                         std::uint32_t crc = 0) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < length; ++i)
    crc = detail::kCrc32Table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

} // namespace hft::core

// SPDX-License-Identifier: MIT
// CRC-32 (IEEE 802.3), zlib's own: the journal's checksums are what Python's zlib.crc32 and
// any other zlib user compute. Not on the hot path (the housekeeping thread checksums journal
// records), so there is no reason to keep a table of our own: zlib's is faster (it folds
// several bytes a step) and already linked for the .hlog files (docs/hftd.md, "Libraries").
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include <zlib.h>

namespace hft::core {

// The CRC-32 of `length` bytes at `data`, continuing from `crc` (0 to start).
[[nodiscard]] inline std::uint32_t crc32(const void* data, std::size_t length,
                                         std::uint32_t crc = 0) noexcept {
  const auto* p = static_cast<const Bytef*>(data);
  uLong value = crc;
  // crc32() takes a uInt length: feed longer buffers in slices.
  constexpr std::size_t kSlice = std::numeric_limits<uInt>::max();
  while (length > kSlice) {
    value = ::crc32(value, p, static_cast<uInt>(kSlice));
    p += kSlice;
    length -= kSlice;
  }
  value = ::crc32(value, p, static_cast<uInt>(length));
  return static_cast<std::uint32_t>(value);
}

} // namespace hft::core

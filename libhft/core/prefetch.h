// SPDX-License-Identifier: MIT
// Cache-line prefetch for data a later store will write: brings the lines toward this core
// without writing them, so the store finds them in cache. No effect on program state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hft::core {

inline constexpr std::size_t kCacheLine = 64;

// Every cache line of [p, p + bytes), for writing.
inline void prefetchForWrite(const void* p, std::size_t bytes) noexcept {
  const auto first = reinterpret_cast<std::uintptr_t>(p) & ~(kCacheLine - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(p) + bytes;
  for (std::uintptr_t line = first; line < end; line += kCacheLine)
    __builtin_prefetch(reinterpret_cast<const void*>(line), 1, 3);
}

} // namespace hft::core

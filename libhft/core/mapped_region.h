// SPDX-License-Identifier: MIT
// Anonymous memory mapped once: on hugepages when asked and available, on a NUMA node when
// there are several. Hot-path structures live in these so they never page-fault or migrate.
#pragma once

#include <cstddef>

namespace hft::core {

struct RegionOptions {
  bool hugePages = false; // try MAP_HUGETLB (2 MiB pages), fall back to normal pages
  int numaNode = -1;      // bind to this node when the machine has several; -1 = leave
};

class MappedRegion {
public:
  MappedRegion() noexcept = default;
  // Throws std::system_error when even normal pages cannot be mapped.
  MappedRegion(std::size_t bytes, const RegionOptions& options);
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  ~MappedRegion();

  [[nodiscard]] void* data() const noexcept { return data_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool onHugePages() const noexcept { return huge_; }

  // How many regions asked for hugepages and got normal pages (for one start-up warning).
  [[nodiscard]] static unsigned hugePageFallbacks() noexcept;

private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
  bool huge_ = false;
};

} // namespace hft::core

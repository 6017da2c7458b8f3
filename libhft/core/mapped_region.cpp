// SPDX-License-Identifier: MIT
// Anonymous memory on hugepages and the local NUMA node where available.
#include "libhft/core/mapped_region.h"

#include <numa.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace hft::core {
namespace {
std::atomic<unsigned> gFallbacks{0};
constexpr std::size_t kHugePage = 2 * 1024 * 1024;
} // namespace

MappedRegion::MappedRegion(std::size_t bytes, const RegionOptions& options) {
  if (options.hugePages) {
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = mmap(nullptr, rounded, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
    if (p != MAP_FAILED) {
      data_ = p;
      size_ = rounded;
      huge_ = true;
    } else {
      gFallbacks.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!data_) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw std::system_error(errno, std::generic_category(), "mmap");
    data_ = p;
    size_ = bytes;
  }
  if (options.numaNode >= 0 && numa_available() >= 0 && numa_num_configured_nodes() > 1)
    numa_tonode_memory(data_, size_, options.numaNode);
  // Touch every page now so the hot path never takes a first-touch fault.
  std::memset(data_, 0, size_);
}

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      huge_(std::exchange(other.huge_, false)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    if (data_)
      munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    huge_ = std::exchange(other.huge_, false);
  }
  return *this;
}

MappedRegion::~MappedRegion() {
  if (data_)
    munmap(data_, size_);
}

unsigned MappedRegion::hugePageFallbacks() noexcept {
  return gFallbacks.load(std::memory_order_relaxed);
}

} // namespace hft::core

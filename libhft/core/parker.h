// SPDX-License-Identifier: MIT
// Lets a polling thread sleep when idle (the "yield" poll mode) and be woken by a producer.
// In busy mode nobody parks and notify() costs one load.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "libhft/core/fd.h"

namespace hft::core {

class Parker {
public:
  Parker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  // Busy-polling consumers never park: then notify() costs one relaxed load.
  void setActive(bool active) noexcept { active_.store(active, std::memory_order_relaxed); }

  // Producer, after publishing work.
  void notify() noexcept {
    if (!active_.load(std::memory_order_relaxed))
      return;
    // seq_cst read-modify-write: a full barrier that orders our publish before reading
    // parked_, pairing with park()'s seq_cst store, so either we see the sleeper or it sees
    // our work (no lost wake-up). An RMW rather than a fence, which ThreadSanitizer models.
    if (parked_.fetch_add(0, std::memory_order_seq_cst) != 0) {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd_.get(), &one, sizeof(one));
    }
  }

  // Consumer: sleeps until notify(), activity on `otherFd` (-1 for none) or the timeout,
  // unless `hasWork()` turns true after announcing the sleep.
  template <typename HasWork> void park(HasWork&& hasWork, int otherFd, int timeoutMs) noexcept {
    parked_.store(1, std::memory_order_seq_cst); // see notify()
    if (!hasWork()) {
      pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {otherFd, POLLIN, 0}};
      ::poll(fds, otherFd >= 0 ? 2 : 1, timeoutMs);
    }
    parked_.store(0, std::memory_order_relaxed);
    std::uint64_t drained;
    [[maybe_unused]] auto n = ::read(fd_.get(), &drained, sizeof(drained));
  }

private:
  UniqueFd fd_;
  std::atomic<bool> active_{true};
  std::atomic<int> parked_{0};
};

} // namespace hft::core

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

  // Producer, after publishing work.
  void notify() noexcept {
    // seq_cst: orders our publish before reading parked_, pairing with park()'s store, so
    // either we see the sleeper or it sees our work (no lost wake-up).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (parked_.load(std::memory_order_relaxed)) {
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(fd_.get(), &one, sizeof(one));
    }
  }

  // Consumer: sleeps until notify(), activity on `otherFd` (-1 for none) or the timeout,
  // unless `hasWork()` turns true after announcing the sleep.
  template <typename HasWork> void park(HasWork&& hasWork, int otherFd, int timeoutMs) noexcept {
    parked_.store(true, std::memory_order_seq_cst); // see notify()
    if (!hasWork()) {
      pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {otherFd, POLLIN, 0}};
      ::poll(fds, otherFd >= 0 ? 2 : 1, timeoutMs);
    }
    parked_.store(false, std::memory_order_relaxed);
    std::uint64_t drained;
    [[maybe_unused]] auto n = ::read(fd_.get(), &drained, sizeof(drained));
  }

private:
  UniqueFd fd_;
  std::atomic<bool> parked_{false};
};

} // namespace hft::core

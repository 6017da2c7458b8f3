// SPDX-License-Identifier: MIT
// Lets a polling thread sleep when idle (the "yield" poll mode) and be woken by a producer.
// In busy mode nobody parks and notify() costs one load. IdleBackoff is the poll loops' idle
// policy in either mode.
#pragma once

#include <poll.h>
#include <sched.h>
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

// What a pinned poll loop does in a round that found no work. Busy mode (production): one
// pause instruction, the core stays hot and nothing else runs on it. Yield mode (2-core
// machines, tests): sched_yield() so whoever shares the core runs, and after kSpinsBeforePark
// such rounds in a row, park on a Parker until woken (for at most kParkTimeoutMs).
class IdleBackoff {
public:
  static constexpr int kSpinsBeforePark = 200;
  static constexpr int kParkTimeoutMs = 1; // heartbeats and reconnects are timed in ms

  explicit IdleBackoff(bool busy) noexcept : busy_(busy) {}

  // A round did work: the next idle round starts counting again.
  void worked() noexcept { spins_ = 0; }

  // An idle round. Returns true when the caller should park now; otherwise it has paused
  // (busy mode) or yielded the CPU (yield mode) and should poll again.
  [[nodiscard]] bool shouldPark() noexcept {
    if (busy_) {
      __builtin_ia32_pause(); // deliberate busy-wait: production keeps the core hot
      return false;
    }
    if (++spins_ < kSpinsBeforePark) {
      sched_yield(); // whoever shares this core (the exchange, a monitor) runs now
      return false;
    }
    return true; // and keeps parking in every idle round until work comes
  }

private:
  const bool busy_;
  int spins_ = 0;
};

} // namespace hft::core

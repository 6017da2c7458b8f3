// SPDX-License-Identifier: MIT
// CPU placement: which cores exist, are online and allowed, and pinning a thread to one.
#pragma once

#include <string>
#include <vector>

namespace hft::core {

// Parses a kernel CPU list ("0-3,6,8-9"). Throws std::invalid_argument on bad syntax.
[[nodiscard]] std::vector<int> parseCpuList(const std::string& text);
// Formats a sorted CPU list back to the kernel's compact form.
[[nodiscard]] std::string formatCpuList(const std::vector<int>& cpus);

// The CPUs this process may run on (sched_getaffinity), sorted.
[[nodiscard]] std::vector<int> allowedCpus();
// Online CPUs from <sysRoot>/sys/devices/system/cpu/online, sorted.
[[nodiscard]] std::vector<int> onlineCpus(const std::string& sysRoot = "");

// Why `core` cannot host a worker, or "" when it can.
[[nodiscard]] std::string checkWorkerCore(int core, const std::vector<int>& online,
                                          const std::vector<int>& allowed);

// Pins the calling thread to one CPU; returns 0 or -errno.
[[nodiscard]] int pinThisThread(int core) noexcept;
// Sets SCHED_FIFO at `priority` for the calling thread; returns 0 or -errno.
[[nodiscard]] int setFifoPriority(int priority) noexcept;
// Names the calling thread (visible in top -H, pidstat -t).
void nameThisThread(const char* name) noexcept;

} // namespace hft::core

// SPDX-License-Identifier: MIT
// CPU placement helpers.
#include "libhft/core/cpu.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hft::core {

std::vector<int> parseCpuList(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream in(text);
  std::string part;
  auto number = [&text](const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 5)
      throw std::invalid_argument("bad CPU list '" + text + "': expected e.g. 0-3,6");
    return std::stoi(s);
  };
  while (std::getline(in, part, ',')) {
    while (!part.empty() && (part.back() == '\n' || part.back() == ' '))
      part.pop_back();
    if (part.empty())
      continue;
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      cpus.push_back(number(part));
    } else {
      const int lo = number(part.substr(0, dash));
      const int hi = number(part.substr(dash + 1));
      if (hi < lo)
        throw std::invalid_argument("bad CPU range '" + part + "' in '" + text + "'");
      for (int c = lo; c <= hi; ++c)
        cpus.push_back(c);
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

std::string formatCpuList(const std::vector<int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1)
      ++j;
    if (!out.empty())
      out += ',';
    out += std::to_string(cpus[i]);
    if (j > i)
      out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::vector<int> allowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0)
    return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set))
      cpus.push_back(c);
  return cpus;
}

std::vector<int> onlineCpus(const std::string& sysRoot) {
  std::ifstream in(sysRoot + "/sys/devices/system/cpu/online");
  std::string line;
  if (!std::getline(in, line))
    return allowedCpus();
  return parseCpuList(line);
}

std::string checkWorkerCore(int core, const std::vector<int>& online,
                            const std::vector<int>& allowed) {
  const std::string allowedText = formatCpuList(allowed);
  if (core < 0)
    return "core " + std::to_string(core) + " is negative";
  if (!std::binary_search(online.begin(), online.end(), core))
    return "core " + std::to_string(core) +
           " does not exist or is offline (online: " + formatCpuList(online) +
           ", allowed for this process: " + allowedText + ")";
  if (!std::binary_search(allowed.begin(), allowed.end(), core))
    return "core " + std::to_string(core) + " lies outside this process's allowed CPU set (" +
           allowedText +
           "): widen CPUAffinity= in the unit (or taskset) or choose a core in that set";
  return {};
}

int pinThisThread(int core) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int setFifoPriority(int priority) noexcept {
  sched_param param{};
  param.sched_priority = priority;
  return -pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
}

void nameThisThread(const char* name) noexcept { pthread_setname_np(pthread_self(), name); }

} // namespace hft::core

// SPDX-License-Identifier: MIT
// spdlog set-up shared by the programs: the journal (with structured fields) under systemd,
// stderr otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace hft::core {

struct LogOptions {
  std::string program;  // SYSLOG_IDENTIFIER and the stderr prefix
  bool verbose = false; // debug level instead of info
  bool forceStderr = false;
};

// True when stderr is connected to the journal (systemd sets JOURNAL_STREAM).
[[nodiscard]] bool stderrIsJournal();

// Installs the default logger. Call once at start-up, before any thread logs.
void setupLogging(const LogOptions& options);

// The session id added as SESSION_ID= to every journal record from now on ("" for none).
void setLogSessionId(std::string_view sessionId);

// Adds ORDER_ID= (the cl_ord_id) to records logged by this thread until cleared (0).
void setLogOrderId(std::uint64_t clOrdId) noexcept;

} // namespace hft::core

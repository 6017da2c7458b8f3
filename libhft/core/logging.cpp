// SPDX-License-Identifier: MIT
// spdlog set-up: journald with structured fields under systemd, stderr otherwise.
#include "libhft/core/logging.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <systemd/sd-journal.h>

namespace hft::core {
namespace {

std::mutex gSessionMutex;
std::string gSessionId;
thread_local std::uint64_t tOrderId = 0;

int syslogPriority(spdlog::level::level_enum level) {
  switch (level) {
  case spdlog::level::trace:
  case spdlog::level::debug: return LOG_DEBUG;
  case spdlog::level::info: return LOG_INFO;
  case spdlog::level::warn: return LOG_WARNING;
  case spdlog::level::err: return LOG_ERR;
  case spdlog::level::critical: return LOG_CRIT;
  case spdlog::level::off:
  case spdlog::level::n_levels: break;
  }
  return LOG_INFO;
}

// Writes each record to the journal with the fields that let `journalctl SESSION_ID=...`
// select one session.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit JournalSink(std::string identifier) : identifier_("SYSLOG_IDENTIFIER=" + identifier) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string message = "MESSAGE=" + std::string(msg.payload.data(), msg.payload.size());
    const std::string priority = "PRIORITY=" + std::to_string(syslogPriority(msg.level));
    std::string session;
    {
      std::lock_guard lock(gSessionMutex);
      if (!gSessionId.empty())
        session = "SESSION_ID=" + gSessionId;
    }
    const std::string order = tOrderId ? "ORDER_ID=" + std::to_string(tOrderId) : std::string();
    iovec iov[5];
    int n = 0;
    auto add = [&](const std::string& s) {
      if (!s.empty())
        iov[n++] = {const_cast<char*>(s.data()), s.size()};
    };
    add(message);
    add(priority);
    add(identifier_);
    add(session);
    add(order);
    sd_journal_sendv(iov, n);
  }
  void flush_() override {}

private:
  std::string identifier_;
};

} // namespace

bool stderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (!stream)
    return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
    return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0)
    return false;
  return st.st_dev == dev && st.st_ino == ino;
}

void setupLogging(const LogOptions& options) {
  std::shared_ptr<spdlog::logger> logger;
  if (!options.forceStderr && stderrIsJournal()) {
    logger = std::make_shared<spdlog::logger>(options.program,
                                              std::make_shared<JournalSink>(options.program));
  } else {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%f %^%-5l%$ %n: %v");
    logger = std::make_shared<spdlog::logger>(options.program, sink);
  }
  logger->set_level(options.verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace); // stderr is unbuffered for tests that wait on lines
  spdlog::set_default_logger(std::move(logger));
}

void setLogSessionId(std::string_view sessionId) {
  std::lock_guard lock(gSessionMutex);
  gSessionId.assign(sessionId);
}

void setLogOrderId(std::uint64_t clOrdId) noexcept { tOrderId = clOrdId; }

} // namespace hft::core

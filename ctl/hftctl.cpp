// SPDX-License-Identifier: MIT
// hftctl as a function: parse, call hftd, print, and turn every failure into a message + code.
#include "ctl/hftctl.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "ctl/command_line.h"
#include "ctl/control_client.h"
#include "ctl/openmetrics.h"
#include "ctl/output.h"
#include "libhft/control/control_protocol.h"

#ifndef HFT_VERSION
#define HFT_VERSION "unknown"
#endif

namespace hft::ctl {
namespace {

// What to add to a refusal so the operator knows the next step.
std::string hintFor(const ControlClientError& e) {
  const std::string& name = e.errorName();
  if (name == control::kErrorBusy)
    return " Stop it first with `hftctl stop-session`.";
  if (name == control::kErrorNoSession)
    return " Start one with `hftctl start-session`.";
  if (name == control::kErrorConfig)
    return " The running configuration is unchanged; fix the file and run `hftctl reload` again.";
  return "";
}

int report(const ControlClientError& e, const Options& options, std::ostream& err) {
  const std::string_view command = commandName(*options.command);
  switch (e.failure()) {
  case Failure::NotRunning:
    err << fmt::format("hftctl: {}. Is hftd running?\n"
                       "Start it with `systemctl start hftd`, or point hftctl at its socket with "
                       "--socket PATH or {}.\n",
                       e.what(), control::kSocketEnv);
    return kExitNotRunning;
  case Failure::SocketAccess:
    err << fmt::format("hftctl: {}: {}. The socket is open to group {} only: ask for membership "
                       "(`usermod -aG {} $USER`, then log in again) or run as root.\n",
                       command, e.what(), control::kSocketGroup, control::kSocketGroup);
    return kExitFailed;
  case Failure::AccessDenied:
    err << fmt::format("hftctl: {} refused: access denied: {}\n", command, e.what());
    return kExitFailed;
  case Failure::Refused:
    err << fmt::format("hftctl: {} refused: {}.{}\n", command, e.what(), hintFor(e));
    return kExitFailed;
  case Failure::Failed: break;
  }
  err << fmt::format("hftctl: {} failed: {}\n", command, e.what());
  return kExitFailed;
}

// Waits up to `seconds` for SIGINT or SIGTERM (blocked by the caller); true if one came.
bool waitForInterrupt(const sigset_t& signals, double seconds) {
  timespec timeout{};
  timeout.tv_sec = static_cast<time_t>(seconds);
  timeout.tv_nsec = static_cast<long>((seconds - std::floor(seconds)) * 1e9);
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig > 0)
      return true;
    if (errno == EAGAIN)
      return false;
    if (errno != EINTR)
      return false;
  }
}

// The stats in the chosen machine format, or "" for the human tables.
std::string statsDocument(const control::EngineStats& stats, Format format) {
  switch (format) {
  case Format::Json: return statsJson(stats) + "\n";
  case Format::OpenMetrics: return statsMetrics(stats, MetricsDialect::OpenMetrics);
  case Format::Prometheus: return statsMetrics(stats, MetricsDialect::Prometheus);
  case Format::Text: break;
  }
  return formatStats(stats);
}

// Replaces `path` with `text` so that a reader (node_exporter) sees the old file or the new one,
// never half of one: a temporary file in the same directory, then rename(2).
void writeFileAtomically(const std::string& path, std::string_view text) {
  const std::string temp = fmt::format("{}.{}.tmp", path, getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(fmt::format("cannot create {}: {}", temp, std::strerror(errno)));
  // ".tmp": not a *.prom the collector would read. 0644 whatever the umask: node_exporter
  // reads it as another user.
  int error = ::fchmod(fd, 0644) == 0 ? 0 : errno;
  for (std::size_t done = 0; error == 0 && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0)
      done += static_cast<std::size_t>(n);
    else if (n == 0)
      error = EIO;
    else if (errno != EINTR)
      error = errno;
  }
  if (::close(fd) != 0 && error == 0)
    error = errno; // NFS and full disks report here
  if (error == 0 && ::rename(temp.c_str(), path.c_str()) == 0)
    return;
  if (error == 0)
    error = errno;
  ::unlink(temp.c_str());
  throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(error)));
}

// One connection for the whole watch. The server closes a connection idle for 30 s, and hftd
// may restart: a call that finds the connection closed reconnects once and is retried.
class StatsSource {
public:
  explicit StatsSource(const std::string& socketPath) : socketPath_(socketPath) {}

  control::EngineStats next() {
    if (client_) {
      try {
        return client_->stats();
      } catch (const ControlClientError& e) {
        if (e.failure() != Failure::Failed || !e.errorName().empty())
          throw; // the daemon answered with an error: a new connection would not help
        client_.reset();
      }
    }
    client_ = std::make_unique<ControlClient>(socketPath_);
    return client_->stats();
  }

private:
  std::string socketPath_;
  std::unique_ptr<ControlClient> client_;
};

int watchStats(const Options& options, std::ostream& out) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // Blocked, then taken with sigtimedwait: Ctrl-C ends the wait, never a call half-done.
  // Restored on every way out but the interrupt: a second SIGINT may already be pending
  // (timeout(1) and a terminal both signal the whole process group too) and would kill us
  // with 130 the moment it was unblocked; exiting with it still blocked is a clean exit 0.
  struct MaskGuard {
    sigset_t previous;
    bool restore = true;
    explicit MaskGuard(const sigset_t& block) { pthread_sigmask(SIG_BLOCK, &block, &previous); }
    MaskGuard(const MaskGuard&) = delete;
    MaskGuard& operator=(const MaskGuard&) = delete;
    ~MaskGuard() {
      if (restore)
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }
  } guard(signals);
  StatsSource source(options.socketPath);
  for (;;) {
    const control::EngineStats stats = source.next();
    if (!options.textfile.empty())
      writeFileAtomically(options.textfile, statsMetrics(stats, MetricsDialect::Prometheus));
    if (options.format == Format::Text) {
      out << "\033[H\033[2J" << formatStats(stats)
          << fmt::format("\nEvery {}s from {}. Ctrl-C to stop.\n", *options.watchSec,
                         options.socketPath);
    } else {
      out << statsDocument(stats, options.format);
    }
    out.flush();
    if (waitForInterrupt(signals, *options.watchSec)) {
      guard.restore = false; // hftctl exits now: see MaskGuard
      return kExitOk;
    }
  }
}

int execute(const Options& options, std::ostream& out) {
  const Command command = *options.command;
  if (command == Command::Stats && options.watchSec)
    return watchStats(options, out);

  ControlClient client(options.socketPath);
  switch (command) {
  case Command::Status: {
    const auto status = client.status();
    out << (options.json ? statusJson(status) + "\n" : formatStatus(status));
    break;
  }
  case Command::Stats: {
    const auto stats = client.stats();
    if (!options.textfile.empty())
      writeFileAtomically(options.textfile, statsMetrics(stats, MetricsDialect::Prometheus));
    out << statsDocument(stats, options.format);
    break;
  }
  case Command::StartSession: {
    const std::string id = client.startSession(options.durationSec);
    out << (options.json ? sessionIdJson(id) : id) << '\n';
    break;
  }
  case Command::StopSession: {
    const auto summary = client.stopSession();
    out << (options.json ? summaryJson(summary) + "\n" : formatSummary(summary));
    break;
  }
  case Command::KillSwitch:
    client.setKillSwitch(options.killSwitchOn);
    out << (options.json ? killSwitchJson(options.killSwitchOn) + "\n"
                         : fmt::format("Kill switch {}.\n", options.killSwitchOn ? "on" : "off"));
    break;
  case Command::Reload: {
    const auto result = client.reload();
    out << (options.json ? reloadJson(result) + "\n" : formatReload(result));
    break;
  }
  case Command::Version: {
    const std::string daemon = client.version();
    out << (options.json ? versionJson(HFT_VERSION, daemon) + "\n"
                         : fmt::format("hftctl {}\nhftd {}\n", HFT_VERSION, daemon));
    break;
  }
  }
  return kExitOk;
}

} // namespace

int run(const std::vector<std::string>& args, const char* envSocket, std::ostream& out,
        std::ostream& err) {
  const auto parsed = parseCommandLine(args, envSocket);
  if (const auto* usage = std::get_if<UsageError>(&parsed)) {
    err << "hftctl: " << usage->message << "\n"
        << "Try `hftctl --help`, or `hftctl COMMAND --help` for one command.\n";
    return kExitUsage;
  }
  const Options& options = std::get<Options>(parsed);
  if (options.help) {
    out << (options.command ? commandHelp(*options.command) : toolHelp());
    return kExitOk;
  }
  if (options.clientVersion && !options.command) {
    out << "hftctl " << HFT_VERSION << '\n';
    return kExitOk;
  }
  try {
    const int code = execute(options, out);
    out.flush();
    return code;
  } catch (const ControlClientError& e) {
    out.flush();
    return report(e, options, err);
  } catch (const std::exception& e) {
    err << fmt::format("hftctl: {} failed: {}\n", commandName(*options.command), e.what());
    return kExitFailed;
  }
}

} // namespace hft::ctl

// SPDX-License-Identifier: MIT
// The exchange's end-of-run summary and stats JSON.
#include "exchange-sim/report/stats_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "libhft/core/json.h"
#include "libhft/protocol/codec.h"

namespace hft::report {

namespace {

// JSON keys for the reject reasons, in matching::kRejectReasons order.
constexpr std::string_view kReasonKeys[] = {
    "unknown_symbol",      "invalid_price", "invalid_quantity",
    "duplicate_cl_ord_id", "unknown_order", "not_logged_on",
    "invalid_side_or_tif", "throttled",     "other"};
static_assert(std::size(kReasonKeys) == matching::kRejectReasons.size());

[[noreturn]] void throwErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

} // namespace

double fillRatio(const matching::MatchingCounters& c) noexcept {
  return c.ordersAccepted == 0
             ? 0.0
             : static_cast<double>(c.ordersFilled) / static_cast<double>(c.ordersAccepted);
}

std::vector<std::string> summaryLines(const RunFigures& f) {
  const auto& m = f.matching;
  const auto& s = f.server;
  const auto& h = f.tickToTrade;
  std::vector<std::string> lines;
  lines.push_back(fmt::format(
      "Summary: {} orders ({} accepted, {} filled), {} fills ({} partial), fill ratio {:.3f}, "
      "{} rejects, {} cancels, {} expired, {} canceled on disconnect",
      m.orders, m.ordersAccepted, m.ordersFilled, m.fills, m.partialFills, fillRatio(m), m.rejects,
      m.cancels, m.expired, m.cancelsOnDisconnect));
  lines.push_back(fmt::format(
      "Summary: {} sessions, {} market data frames, {} ticks ({} missed), {} malformed frames, "
      "{} slow consumer disconnects, {} heartbeat timeouts",
      s.sessions, s.marketDataFrames, s.ticks, s.ticksMissed, s.malformedFrames,
      s.slowConsumerDisconnects, s.heartbeatTimeouts));
  lines.push_back(fmt::format("Tick-to-trade (ns): count {} min {} p50 {} p90 {} p99 {} p99.9 {} "
                              "max {}",
                              h.count(), h.min(), h.percentile(50), h.percentile(90),
                              h.percentile(99), h.percentile(99.9), h.max()));
  if (f.orderDelays != nullptr && f.orderDelays->count() != 0)
    lines.push_back(
        fmt::format("Order-entry delay applied (ns): count {} mean {:.0f} p50 {} p99 {}",
                    f.orderDelays->count(), f.orderDelays->meanNs(),
                    f.orderDelays->percentileNs(50), f.orderDelays->percentileNs(99)));
  if (f.mdDelays != nullptr && f.mdDelays->count() != 0)
    lines.push_back(fmt::format(
        "Market-data delay applied (ns): count {} mean {:.0f} p50 {} p99 {}", f.mdDelays->count(),
        f.mdDelays->meanNs(), f.mdDelays->percentileNs(50), f.mdDelays->percentileNs(99)));
  return lines;
}

std::string statsJson(const RunFigures& f) {
  const auto& m = f.matching;
  const auto& s = f.server;
  const auto& h = f.tickToTrade;
  core::Json j = core::Json::object();
  j["orders"] = m.orders;
  j["orders_accepted"] = m.ordersAccepted;
  j["orders_marketable"] = m.ordersMarketable;
  j["orders_filled"] = m.ordersFilled;
  j["fills"] = m.fills;
  j["partial_fills"] = m.partialFills;
  j["resting_fills"] = m.restingFills;
  j["filled_qty"] = m.filledQty;
  j["fill_ratio"] = fillRatio(m);
  j["rejects"] = m.rejects;
  core::Json& o1 = j["rejects_by_reason"] = core::Json::object();
  for (std::size_t i = 0; i < std::size(kReasonKeys); ++i)
    o1[kReasonKeys[i]] = m.rejectsByReason[i];
  j["cancel_requests"] = m.cancelRequests;
  j["cancels"] = m.cancels;
  j["cancel_rejects"] = m.cancelRejects;
  core::Json& o2 = j["cancel_rejects_by_reason"] = core::Json::object();
  for (std::size_t i = 0; i < std::size(kReasonKeys); ++i)
    o2[kReasonKeys[i]] = m.cancelRejectsByReason[i];
  j["cancels_on_disconnect"] = m.cancelsOnDisconnect;
  j["expired"] = m.expired;
  j["rested"] = m.rested;
  j["execution_reports"] = m.executionReports;
  j["market_data_frames"] = s.marketDataFrames;
  j["market_data_conflated"] = s.marketDataConflated;
  j["ticks"] = s.ticks;
  j["ticks_missed"] = s.ticksMissed;
  j["connections"] = s.connections;
  j["connections_refused"] = s.connectionsRefused;
  j["sessions"] = s.sessions;
  j["logon_rejects"] = s.logonRejects;
  j["disconnects"] = s.disconnects;
  j["client_logouts"] = s.clientLogouts;
  j["heartbeat_timeouts"] = s.heartbeatTimeouts;
  j["heartbeats_sent"] = s.heartbeatsSent;
  j["heartbeats_received"] = s.heartbeatsReceived;
  j["malformed_frames"] = s.malformedFrames;
  j["unknown_frames"] = s.unknownFrames;
  j["unexpected_frames"] = s.unexpectedFrames;
  j["slow_consumer_disconnects"] = s.slowConsumerDisconnects;
  j["socket_errors"] = s.socketErrors;
  j["inbound_seq_gaps"] = s.inboundSeqGaps;
  j["frames_received"] = s.framesReceived;
  j["frames_sent"] = s.framesSent;
  j["bytes_received"] = s.bytesReceived;
  j["bytes_sent"] = s.bytesSent;
  j["tick_to_trade_missing"] = s.tickToTradeMissing;
  j["tick_to_trade_negative"] = s.tickToTradeNegative;
  core::Json& o3 = j["tick_to_trade_ns"] = core::Json::object();
  o3["count"] = h.count();
  o3["min"] = h.min();
  o3["mean"] = h.mean();
  o3["p50"] = h.percentile(50);
  o3["p90"] = h.percentile(90);
  o3["p99"] = h.percentile(99);
  o3["p99_9"] = h.percentile(99.9);
  o3["max"] = h.max();
  // Always present (count 0 without a delay) so scripts need not test for the key.
  core::Json& o4 = j["order_entry_delay_ns"] = core::Json::object();
  const std::uint64_t delays = f.orderDelays ? f.orderDelays->count() : 0;
  o4["count"] = delays;
  o4["mean"] = delays ? f.orderDelays->meanNs() : 0.0;
  o4["p50"] = delays ? f.orderDelays->percentileNs(50) : 0;
  o4["p99"] = delays ? f.orderDelays->percentileNs(99) : 0;
  core::Json& o5 = j["market_data_delay_ns"] = core::Json::object();
  const std::uint64_t mdDelays = f.mdDelays ? f.mdDelays->count() : 0;
  o5["count"] = mdDelays;
  o5["mean"] = mdDelays ? f.mdDelays->meanNs() : 0.0;
  o5["p50"] = mdDelays ? f.mdDelays->percentileNs(50) : 0;
  o5["p99"] = mdDelays ? f.mdDelays->percentileNs(99) : 0;
  if (f.samples != nullptr) {
    core::Json& o6 = j["samples"] = core::Json::object();
    o6["file"] = f.samples->path();
    o6["rows"] = f.samples->rowsWritten();
    o6["dropped"] = f.samples->rowsDropped();
  }
  j["uptime_s"] = f.uptimeSec;
  return core::dumpJson(j, true) + "\n";
}

void writeFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      throwErrno("cannot create " + tmp);
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        const int saved = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        errno = saved;
        throwErrno("cannot write " + tmp);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      const int saved = errno;
      ::unlink(tmp.c_str());
      errno = saved;
      throwErrno("cannot write " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    throwErrno("cannot rename " + tmp + " to " + path);
  }
}

} // namespace hft::report

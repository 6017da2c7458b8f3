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

#include "libhft/core/json_writer.h"
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
  core::JsonWriter w(true);
  w.beginObject();
  w.field("orders", m.orders);
  w.field("orders_accepted", m.ordersAccepted);
  w.field("orders_marketable", m.ordersMarketable);
  w.field("orders_filled", m.ordersFilled);
  w.field("fills", m.fills);
  w.field("partial_fills", m.partialFills);
  w.field("resting_fills", m.restingFills);
  w.field("filled_qty", m.filledQty);
  w.field("fill_ratio", fillRatio(m));
  w.field("rejects", m.rejects);
  w.key("rejects_by_reason").beginObject();
  for (std::size_t i = 0; i < std::size(kReasonKeys); ++i)
    w.field(kReasonKeys[i], m.rejectsByReason[i]);
  w.endObject();
  w.field("cancel_requests", m.cancelRequests);
  w.field("cancels", m.cancels);
  w.field("cancel_rejects", m.cancelRejects);
  w.key("cancel_rejects_by_reason").beginObject();
  for (std::size_t i = 0; i < std::size(kReasonKeys); ++i)
    w.field(kReasonKeys[i], m.cancelRejectsByReason[i]);
  w.endObject();
  w.field("cancels_on_disconnect", m.cancelsOnDisconnect);
  w.field("expired", m.expired);
  w.field("rested", m.rested);
  w.field("execution_reports", m.executionReports);
  w.field("market_data_frames", s.marketDataFrames);
  w.field("market_data_conflated", s.marketDataConflated);
  w.field("ticks", s.ticks);
  w.field("ticks_missed", s.ticksMissed);
  w.field("connections", s.connections);
  w.field("connections_refused", s.connectionsRefused);
  w.field("sessions", s.sessions);
  w.field("logon_rejects", s.logonRejects);
  w.field("disconnects", s.disconnects);
  w.field("client_logouts", s.clientLogouts);
  w.field("heartbeat_timeouts", s.heartbeatTimeouts);
  w.field("heartbeats_sent", s.heartbeatsSent);
  w.field("heartbeats_received", s.heartbeatsReceived);
  w.field("malformed_frames", s.malformedFrames);
  w.field("unknown_frames", s.unknownFrames);
  w.field("unexpected_frames", s.unexpectedFrames);
  w.field("slow_consumer_disconnects", s.slowConsumerDisconnects);
  w.field("socket_errors", s.socketErrors);
  w.field("inbound_seq_gaps", s.inboundSeqGaps);
  w.field("frames_received", s.framesReceived);
  w.field("frames_sent", s.framesSent);
  w.field("bytes_received", s.bytesReceived);
  w.field("bytes_sent", s.bytesSent);
  w.field("tick_to_trade_missing", s.tickToTradeMissing);
  w.field("tick_to_trade_negative", s.tickToTradeNegative);
  w.key("tick_to_trade_ns").beginObject();
  w.field("count", h.count());
  w.field("min", h.min());
  w.field("mean", h.mean());
  w.field("p50", h.percentile(50));
  w.field("p90", h.percentile(90));
  w.field("p99", h.percentile(99));
  w.field("p99_9", h.percentile(99.9));
  w.field("max", h.max());
  w.endObject();
  // Always present (count 0 without a delay) so scripts need not test for the key.
  w.key("order_entry_delay_ns").beginObject();
  const std::uint64_t delays = f.orderDelays ? f.orderDelays->count() : 0;
  w.field("count", delays);
  w.field("mean", delays ? f.orderDelays->meanNs() : 0.0);
  w.field("p50", delays ? f.orderDelays->percentileNs(50) : 0);
  w.field("p99", delays ? f.orderDelays->percentileNs(99) : 0);
  w.endObject();
  w.key("market_data_delay_ns").beginObject();
  const std::uint64_t mdDelays = f.mdDelays ? f.mdDelays->count() : 0;
  w.field("count", mdDelays);
  w.field("mean", mdDelays ? f.mdDelays->meanNs() : 0.0);
  w.field("p50", mdDelays ? f.mdDelays->percentileNs(50) : 0);
  w.field("p99", mdDelays ? f.mdDelays->percentileNs(99) : 0);
  w.endObject();
  if (f.samples != nullptr) {
    w.key("samples").beginObject();
    w.field("file", f.samples->path());
    w.field("rows", f.samples->rowsWritten());
    w.field("dropped", f.samples->rowsDropped());
    w.endObject();
  }
  w.field("uptime_s", f.uptimeSec);
  w.endObject();
  return w.str() + "\n";
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

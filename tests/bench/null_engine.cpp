// SPDX-License-Identifier: MIT
// null_engine: the floor for tick-to-trade. Logs on to exchange-sim like hftd, answers market
// data with a NEW_ORDER carrying its md_timestamp, and does nothing else: no book, no risk, one
// thread. Whatever hftd adds on top of this is hftd's cost (docs/performance.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "libhft/core/clock.h"
#include "libhft/core/fd.h"
#include "libhft/protocol/codec.h"
#include "libhft/protocol/reassembler.h"
#include "libhft/protocol/wire.h"

namespace {

using namespace hft::protocol;
using hft::core::monotonicNs;
using hft::core::realtimeNs;
using hft::core::UniqueFd;

// Documented exit codes (docs/performance.md, "Null engine: the floor").
constexpr int kExitOk = 0;       // --duration or --orders reached, or SIGINT/SIGTERM; logged out
constexpr int kExitStartup = 1;  // connect failed, logon rejected or not answered
constexpr int kExitUsage = 2;    // bad command line
constexpr int kExitLost = 3;     // the connection ended before the run did
constexpr int kExitBadFrame = 4; // a malformed frame, or a type the exchange never sends

enum class PollMode : std::uint8_t { Busy, Yield, Epoll };

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string account = "null";
  std::uint32_t symbol = 1; // 0 = every symbol
  std::uint64_t every = 1;  // answer every Nth matching frame
  PollMode poll = PollMode::Epoll;
  double durationSec = 0;      // 0 = until a signal
  std::uint64_t maxOrders = 0; // 0 = no limit
  std::uint32_t heartbeatMs = 1000;
  int core = -1;
};

struct Counters {
  std::uint64_t mdFrames = 0;
  std::uint64_t ordersSent = 0;
  std::uint64_t execReports = 0;
  std::uint64_t heartbeatsSent = 0;
  std::uint64_t heartbeatsReceived = 0;
  std::uint64_t unknownFrames = 0;
  std::uint64_t seqGaps = 0;
};

volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

const char* kUsage =
    "Usage: null_engine --exchange HOST:PORT [options]\n"
    "The floor for tick-to-trade: logs on to exchange-sim, answers MARKET_DATA with a NEW_ORDER\n"
    "(IOC, qty 1, at the frame's first price, so it never trades) whose md_timestamp is the\n"
    "frame's timestamp, and does nothing else.\n\n"
    "  --exchange HOST:PORT   numeric IPv4 address and port of exchange-sim\n"
    "  --symbol ID            answer this symbol's frames only; 0 = every symbol (default 1)\n"
    "  --every N              answer every Nth of those frames (default 1)\n"
    "  --poll-mode MODE       busy (spin on recv), yield (spin, sched_yield when idle) or\n"
    "                         epoll (block in epoll_wait) (default epoll)\n"
    "  --duration S           log out after S seconds (default: run until SIGINT/SIGTERM)\n"
    "  --orders N             log out after N orders\n"
    "  --account NAME         LOGON account (default null)\n"
    "  --heartbeat-ms MS      interval asked for in LOGON (default 1000)\n"
    "  --core N               pin the thread to CPU N\n"
    "  -h, --help             this help\n\n"
    "Exit codes: 0 done (logged out), 1 connect or logon failed, 2 bad command line,\n"
    "3 connection lost, 4 malformed or unexpected frame received.\n";

[[noreturn]] void usageError(const std::string& what) {
  std::fprintf(stderr, "null_engine: %s (see --help)\n", what.c_str());
  std::exit(kExitUsage);
}

std::uint64_t parseUnsigned(std::string_view flag, const char* text, std::uint64_t max) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v > max)
    usageError("invalid value '" + std::string(text) + "' for " + std::string(flag));
  return v;
}

Options parseArgs(int argc, char** argv) {
  Options o;
  bool haveExchange = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(kExitOk);
    }
    if (i + 1 >= argc)
      usageError(std::string(arg).starts_with("--")
                     ? std::string(arg) + " needs a value"
                     : "unexpected argument '" + std::string(arg) + "'");
    const char* value = argv[++i];
    if (arg == "--exchange") {
      const std::string_view v = value;
      const auto colon = v.rfind(':');
      if (colon == std::string_view::npos || colon == 0)
        usageError("--exchange wants HOST:PORT, e.g. 127.0.0.1:9000");
      o.host = std::string(v.substr(0, colon));
      o.port =
          static_cast<std::uint16_t>(parseUnsigned("--exchange port", value + colon + 1, 65535));
      haveExchange = true;
    } else if (arg == "--symbol") {
      o.symbol = static_cast<std::uint32_t>(parseUnsigned(arg, value, UINT32_MAX));
    } else if (arg == "--every") {
      o.every = parseUnsigned(arg, value, UINT32_MAX);
      if (o.every == 0)
        usageError("--every must be at least 1");
    } else if (arg == "--poll-mode") {
      const std::string_view v = value;
      if (v == "busy")
        o.poll = PollMode::Busy;
      else if (v == "yield")
        o.poll = PollMode::Yield;
      else if (v == "epoll")
        o.poll = PollMode::Epoll;
      else
        usageError("--poll-mode is busy, yield or epoll");
    } else if (arg == "--duration") {
      char* end = nullptr;
      o.durationSec = std::strtod(value, &end);
      if (end == value || *end != '\0' || !(o.durationSec > 0) || o.durationSec > 1e6)
        usageError("invalid value '" + std::string(value) + "' for --duration, e.g. --duration 10");
    } else if (arg == "--orders") {
      o.maxOrders = parseUnsigned(arg, value, UINT64_MAX);
    } else if (arg == "--account") {
      o.account = value;
      if (o.account.size() > 16)
        usageError("--account is at most 16 characters");
    } else if (arg == "--heartbeat-ms") {
      o.heartbeatMs = static_cast<std::uint32_t>(parseUnsigned(arg, value, 60000));
    } else if (arg == "--core") {
      o.core = static_cast<int>(parseUnsigned(arg, value, CPU_SETSIZE - 1));
    } else {
      usageError("unknown option '" + std::string(arg) + "'");
    }
  }
  if (!haveExchange)
    usageError("--exchange HOST:PORT is required");
  return o;
}

// The one connection and what it takes to keep it: framing, seq, heartbeats.
class NullEngine {
public:
  NullEngine(const Options& options, UniqueFd fd) : options_(options), fd_(std::move(fd)) {}

  // Returns the exit code.
  int run();

private:
  enum class Step : std::uint8_t { More, Done, Lost, BadFrame, Rejected };

  [[nodiscard]] bool sendFrame(void* frame, std::size_t length) noexcept;
  [[nodiscard]] Step readAndAnswer() noexcept;
  [[nodiscard]] Step onFrame(const FrameView& frame) noexcept;
  void report(const char* how) const;

  const Options& options_;
  UniqueFd fd_;
  StreamReassembler reassembler_;
  SeqCounter txSeq_;
  SeqTracker rxSeq_;
  Counters counters_;
  bool loggedOn_ = false;
  bool logoutReceived_ = false;
  std::uint64_t matching_ = 0; // frames of the answered symbol, for --every
  std::uint64_t nextClOrdId_ = 1;
  std::uint64_t heartbeatNs_ = 1'000'000'000;
  std::uint64_t lastSendNs_ = 0;
  std::uint64_t lastRecvNs_ = 0;
  std::string error_;
};

bool NullEngine::sendFrame(void* frame, std::size_t length) noexcept {
  auto* header = static_cast<Header*>(frame);
  header->seq = txSeq_.next();
  header->timestamp = realtimeNs();
  const auto* p = static_cast<const std::byte*>(frame);
  std::size_t left = length;
  while (left > 0) { // 56 bytes nearly always go at once; a full socket buffer is waited out
    const ssize_t n = ::send(fd_.get(), p, left, MSG_NOSIGNAL);
    if (n > 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      sched_yield();
    } else {
      return false;
    }
  }
  lastSendNs_ = monotonicNs();
  return true;
}

NullEngine::Step NullEngine::onFrame(const FrameView& frame) noexcept {
  const Header h = frame.header();
  counters_.seqGaps += rxSeq_.onSeq(h.seq);
  switch (static_cast<MsgType>(frame.type)) {
  case MsgType::MarketData: {
    ++counters_.mdFrames;
    const auto head = frame.as<MarketDataHead>();
    if (!loggedOn_ || head.numEntries == 0)
      return Step::More;
    if (options_.symbol != 0 && head.symbolId != options_.symbol)
      return Step::More;
    if (matching_++ % options_.every != 0)
      return Step::More;
    const MdEntry first = frame.mdEntry(0);
    NewOrder order{};
    stampHeader(order.header, MsgType::NewOrder, sizeof(order), 0, 0);
    order.clOrdId = nextClOrdId_++;
    order.symbolId = head.symbolId;
    // Buy at a bid or sell at an ask: never marketable, so the IOC expires and nothing rests.
    order.side = static_cast<std::uint8_t>(
        first.side == static_cast<std::uint8_t>(MdSide::Bid) ? Side::Buy : Side::Sell);
    order.tif = static_cast<std::uint8_t>(Tif::Ioc);
    order.price = first.price;
    order.qty = 1;
    order.mdTimestamp = h.timestamp;
    if (!sendFrame(&order, sizeof(order))) {
      error_ = std::string("send failed: ") + std::strerror(errno);
      return Step::Lost;
    }
    ++counters_.ordersSent;
    if (options_.maxOrders != 0 && counters_.ordersSent >= options_.maxOrders)
      return Step::Done;
    return Step::More;
  }
  case MsgType::ExecutionReport: ++counters_.execReports; return Step::More;
  case MsgType::Heartbeat: ++counters_.heartbeatsReceived; return Step::More;
  case MsgType::LogonResponse: {
    const auto r = frame.as<LogonResponse>();
    if (loggedOn_) {
      error_ = "LOGON_RESPONSE on a logged-on session";
      return Step::BadFrame;
    }
    if (r.status != static_cast<std::uint8_t>(LogonStatus::Accepted)) {
      error_ = "logon rejected, reason " + std::to_string(r.reason);
      return Step::Rejected;
    }
    loggedOn_ = true;
    if (r.heartbeatIntervalMs != 0)
      heartbeatNs_ = r.heartbeatIntervalMs * 1'000'000ULL;
    std::printf("Logged on: session %llu, heartbeat %u ms\n",
                static_cast<unsigned long long>(r.sessionId), r.heartbeatIntervalMs);
    std::fflush(stdout);
    return Step::More;
  }
  case MsgType::Logout: {
    const auto l = frame.as<Logout>();
    logoutReceived_ = true;
    error_ = "the exchange logged out, reason " + std::to_string(l.reason);
    return Step::Lost;
  }
  case MsgType::NewOrder:
  case MsgType::CancelOrder:
  case MsgType::Logon:
    error_ = "unexpected frame type " + std::to_string(frame.type) + " (" +
             std::string(describe(static_cast<MsgType>(frame.type))) +
             "): the exchange never sends it";
    return Step::BadFrame;
  }
  ++counters_.unknownFrames; // a valid length and an unknown type: skipped, as the protocol says
  return Step::More;
}

NullEngine::Step NullEngine::readAndAnswer() noexcept {
  const std::span<std::byte> room = reassembler_.writable();
  const ssize_t n = ::recv(fd_.get(), room.data(), room.size(), MSG_DONTWAIT);
  if (n == 0) {
    error_ = reassembler_.buffered() != 0 ? "the exchange closed the connection inside a frame"
                                          : "the exchange closed the connection";
    return Step::Lost;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR)
      return Step::More;
    error_ = std::string("recv failed: ") + std::strerror(errno);
    return Step::Lost;
  }
  lastRecvNs_ = monotonicNs();
  reassembler_.commit(static_cast<std::size_t>(n));
  FrameView frame;
  FrameError why = FrameError::None;
  for (;;) {
    switch (reassembler_.next(frame, why)) {
    case StreamReassembler::Result::NeedMore: return Step::More;
    case StreamReassembler::Result::Malformed:
      error_ = "malformed frame: " + std::string(describe(why));
      return Step::BadFrame;
    case StreamReassembler::Result::Frame:
      if (const Step s = onFrame(frame); s != Step::More)
        return s;
      break;
    }
  }
}

void NullEngine::report(const char* how) const {
  std::printf("Null engine %s: %llu market data frames, %llu orders sent, %llu execution reports, "
              "%llu heartbeats sent, %llu received, %llu unknown frames, %llu seq gaps\n",
              how, static_cast<unsigned long long>(counters_.mdFrames),
              static_cast<unsigned long long>(counters_.ordersSent),
              static_cast<unsigned long long>(counters_.execReports),
              static_cast<unsigned long long>(counters_.heartbeatsSent),
              static_cast<unsigned long long>(counters_.heartbeatsReceived),
              static_cast<unsigned long long>(counters_.unknownFrames),
              static_cast<unsigned long long>(counters_.seqGaps));
  std::fflush(stdout);
}

int NullEngine::run() {
  const std::uint64_t startNs = monotonicNs();
  const std::uint64_t endNs = options_.durationSec > 0
                                  ? startNs + static_cast<std::uint64_t>(options_.durationSec * 1e9)
                                  : 0;
  lastRecvNs_ = startNs;

  Logon logon{};
  stampHeader(logon.header, MsgType::Logon, sizeof(logon), 0, 0);
  logon.protocolVersion = kProtocolVersion;
  logon.heartbeatIntervalMs = options_.heartbeatMs;
  std::memcpy(logon.account, options_.account.data(), options_.account.size());
  if (!sendFrame(&logon, sizeof(logon))) {
    std::fprintf(stderr, "null_engine: sending LOGON failed: %s\n", std::strerror(errno));
    return kExitStartup;
  }
  if (options_.heartbeatMs != 0)
    heartbeatNs_ = options_.heartbeatMs * 1'000'000ULL;

  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (!epoll || ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd_.get(), &ev) != 0) {
    std::fprintf(stderr, "null_engine: epoll: %s\n", std::strerror(errno));
    return kExitStartup;
  }

  Step step = Step::More;
  while (step == Step::More && gStop == 0) {
    if (options_.poll == PollMode::Epoll) {
      epoll_event out;
      // Wake at least every 100 ms for heartbeats and the end of --duration.
      (void)::epoll_wait(epoll.get(), &out, 1, 100);
    }
    const std::uint64_t before = counters_.mdFrames + counters_.execReports;
    step = readAndAnswer();
    if (step != Step::More)
      break;
    const bool idle = counters_.mdFrames + counters_.execReports == before;
    if (!idle && options_.poll != PollMode::Epoll)
      continue; // deliberate busy-wait: the next frame is read the moment it lands
    const std::uint64_t now = monotonicNs();
    if (!loggedOn_ && now - startNs > 3 * heartbeatNs_) {
      error_ = "no LOGON_RESPONSE within three heartbeat intervals";
      step = Step::Rejected;
    } else if (now - lastRecvNs_ >= 3 * heartbeatNs_) {
      Logout bye{};
      stampHeader(bye.header, MsgType::Logout, sizeof(bye), 0, 0);
      bye.reason = static_cast<std::uint8_t>(LogoutReason::HeartbeatTimeout);
      (void)sendFrame(&bye, sizeof(bye));
      error_ = "nothing received for three heartbeat intervals";
      step = Step::Lost;
    } else if (loggedOn_ && now - lastSendNs_ >= heartbeatNs_) {
      Heartbeat hb{};
      stampHeader(hb.header, MsgType::Heartbeat, sizeof(hb), 0, 0);
      if (!sendFrame(&hb, sizeof(hb))) {
        error_ = std::string("send failed: ") + std::strerror(errno);
        step = Step::Lost;
      }
      ++counters_.heartbeatsSent;
    } else if (endNs != 0 && now >= endNs) {
      step = Step::Done;
    } else if (options_.poll == PollMode::Yield) {
      sched_yield(); // idle: let exchange-sim have this CPU (machines with 2 CPUs)
    }
  }

  if (step == Step::More || step == Step::Done) { // done, or SIGINT/SIGTERM: log out cleanly
    Logout bye{};
    stampHeader(bye.header, MsgType::Logout, sizeof(bye), 0, 0);
    if (sendFrame(&bye, sizeof(bye))) {
      // Wait (bounded) for the exchange's LOGOUT or close so it counts a clean logout.
      const std::uint64_t until = monotonicNs() + heartbeatNs_;
      while (!logoutReceived_ && monotonicNs() < until) {
        epoll_event out;
        (void)::epoll_wait(epoll.get(), &out, 1, 10);
        if (readAndAnswer() != Step::More)
          break;
      }
    }
    report("done");
    return kExitOk;
  }
  report(step == Step::BadFrame ? "stopped on a bad frame" : "stopped");
  std::fprintf(stderr, "null_engine: %s:%u: %s\n", options_.host.c_str(), options_.port,
               error_.c_str());
  switch (step) {
  case Step::BadFrame: return kExitBadFrame;
  case Step::Rejected: return kExitStartup;
  default: return kExitLost;
  }
}

} // namespace

int main(int argc, char** argv) {
  const Options options = parseArgs(argc, argv);
  if (options.core >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options.core, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
      std::fprintf(stderr, "null_engine: cannot pin to CPU %d: %s\n", options.core,
                   std::strerror(errno));
      return kExitStartup;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = onSignal; // no SA_RESTART: a signal ends epoll_wait at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "null_engine: '%s' is not a numeric IPv4 address (see --help)\n",
                 options.host.c_str());
    return kExitUsage;
  }
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::fprintf(stderr, "null_engine: cannot connect to %s:%u: %s (is exchange-sim running?)\n",
                 options.host.c_str(), options.port, std::strerror(errno));
    return kExitStartup;
  }
  const int one = 1;
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  NullEngine engine(options, std::move(fd));
  return engine.run();
}

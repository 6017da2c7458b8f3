// SPDX-License-Identifier: MIT
// The engine: workers, rings, session lifecycle and the control seam.
#include "daemon/engine/engine.h"

#include <sys/random.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <system_error>

#include <spdlog/spdlog.h>

#include "daemon/engine/network_worker.h"
#include "daemon/engine/strategy_worker.h"
#include "daemon/order/order_manager.h"
#include "libhft/control/control_protocol.h"
#include "libhft/control/stats_json.h"
#include "libhft/core/clock.h"
#include "libhft/core/cpu.h"
#include "libhft/core/logging.h"
#include "libhft/core/stamp_clock.h"
#include "libhft/protocol/codec.h"

namespace hft::engine {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(5);
constexpr auto kCancelTimeout = std::chrono::seconds(1);
constexpr auto kLogoutTimeout = std::chrono::seconds(3);
constexpr auto kDrainTimeout = std::chrono::seconds(2);

std::string makeSessionId() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  std::uint16_t nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
    nonce = static_cast<std::uint16_t>(core::monotonicNs());
  char id[48];
  std::snprintf(id, sizeof(id), "%s-%04x", stamp, nonce);
  return id;
}

template <typename Predicate, typename Duration> bool waitFor(Predicate&& done, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

const char* linkText(LinkState s) {
  switch (s) {
  case LinkState::Idle: return "idle";
  case LinkState::Connecting: return "connecting";
  case LinkState::LoggedOn: return "trading";
  case LinkState::Reconnecting: return "reconnecting";
  case LinkState::Failed: return "failed";
  case LinkState::Closing: return "stopping";
  }
  return "?";
}

} // namespace

Engine::Engine(config::HftdConfig config) : config_(std::move(config)) {
  // Before any worker exists: the workers' per-hop stamps read the TSC at this calibration.
  core::calibrateStamps();
  spdlog::info("Latency stamps: {}",
               core::stampsUseTsc()
                   ? fmt::format("invariant TSC at {:.3f} GHz", core::stampTicksPerNs())
                   : std::string("CLOCK_MONOTONIC (no invariant TSC)"));
  core::RegionOptions memory;
  memory.hugePages = config_.cpu.hugePages;
  shared_ = std::make_unique<SharedState>(memory, config_.session.journalRing);
  const bool parks = config_.cpu.pollMode == config::PollMode::Yield;
  shared_->networkParker.setActive(parks);
  shared_->strategyParker.setActive(parks);
  network_ = std::make_unique<NetworkWorker>(*shared_, config_);
  strategy_ = std::make_unique<StrategyWorker>(*shared_, config_);
  if (config_.engine.layout == config::EngineLayout::RunToCompletion) {
    network_->runPipelineInline(strategy_.get());
    strategy_->writeOrdersThrough(&network_->orderExit());
  }
  if (config_.cpu.hugePages && core::MappedRegion::hugePageFallbacks() > 0)
    spdlog::warn("hugepages requested ([cpu] huge_pages) but none are free: rings use normal "
                 "pages. Reserve some (vm.nr_hugepages, or scripts/setup_kernel.sh) or set "
                 "huge_pages = false");
}

Engine::~Engine() { shutdown(); }

void Engine::start() {
  startedMonoNs_ = core::monotonicNs();
  const auto online = core::onlineCpus();
  const auto allowed = core::allowedCpus();
  for (const int core : {config_.cpu.networkCore, config_.cpu.strategyCore})
    if (const std::string why = core::checkWorkerCore(core, online, allowed); !why.empty())
      throw config::ConfigError("[cpu]: " + why);

  // Everything that is not a worker runs on the cores the workers leave free. Run to
  // completion has one worker: the strategy core is the off-path work's (records, logs).
  const bool inlinePipeline = config_.engine.layout == config::EngineLayout::RunToCompletion;
  std::vector<int> housekeeping;
  for (const int c : allowed)
    if (c != config_.cpu.networkCore && (inlinePipeline || c != config_.cpu.strategyCore))
      housekeeping.push_back(c);
  if (housekeeping.empty())
    spdlog::warn("no CPU is left for housekeeping besides the worker cores {} and {}: control "
                 "and logging share them (fine with poll_mode = \"yield\", not for production)",
                 config_.cpu.networkCore, config_.cpu.strategyCore);

  networkThread_ = std::thread([this] { network_->run(); });
  if (!inlinePipeline)
    strategyThread_ = std::thread([this] { strategy_->run(); });
  housekeepingThread_ = std::thread([this, housekeeping] {
    core::nameThisThread("hft-house");
    if (!housekeeping.empty()) {
      cpu_set_t set;
      CPU_ZERO(&set);
      for (const int c : housekeeping)
        CPU_SET(c, &set);
      if (const int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); err != 0)
        spdlog::warn("cannot pin the housekeeping thread off the worker cores ({}): it may "
                     "share a worker's core",
                     std::strerror(err));
    }
    housekeepingLoop();
  });
  // Ready means both workers loop on their cores.
  const bool running = waitFor(
      [this] {
        return shared_->net.beats.load(std::memory_order_relaxed) > 0 &&
               shared_->strategy.beats.load(std::memory_order_relaxed) > 0;
      },
      std::chrono::seconds(5));
  if (!running)
    throw std::runtime_error("the worker threads did not start within 5 s");
  if (config_.cpu.fifoPriority > 0) {
    sched_param param{};
    int policy = 0;
    if (pthread_getschedparam(networkThread_.native_handle(), &policy, &param) == 0 &&
        policy != SCHED_FIFO)
      spdlog::warn("SCHED_FIFO priority {} refused for the workers (needs CAP_SYS_NICE or "
                   "LimitRTPRIO=): they run with normal scheduling",
                   config_.cpu.fifoPriority);
  }
  if (inlinePipeline)
    spdlog::info("Workers running: tick-to-trade runs to completion on core {}, off-path work "
                 "(records, logs) off it, poll mode {}",
                 config_.cpu.networkCore, config::describe(config_.cpu.pollMode));
  else
    spdlog::info("Workers running: network thread on core {}, strategy thread on core {}, "
                 "poll mode {} (layout pipeline)",
                 config_.cpu.networkCore, config_.cpu.strategyCore,
                 config::describe(config_.cpu.pollMode));
  spdlog::info("Strategy: {} ([strategy] kind)", config::describe(config_.strategyKind));
}

void Engine::shutdown() {
  if (!networkThread_.joinable())
    return;
  if (sessionActive_.load()) {
    std::lock_guard lock(sessionMutex_);
    if (sessionActive_.load())
      stopSessionLocked("shutdown");
  }
  shared_->stop.store(true);
  shared_->networkParker.notify();
  shared_->strategyParker.notify();
  networkThread_.join();
  if (strategyThread_.joinable())
    strategyThread_.join();
  housekeepingStop_.store(true);
  housekeepingThread_.join();
}

void Engine::wakePipeline() {
  // Whichever thread runs the pipeline: the strategy thread, or the network thread inline.
  shared_->strategyParker.notify();
  shared_->networkParker.notify();
}

void Engine::housekeepingLoop() {
  std::uint64_t lastFlush = 0;
  while (!housekeepingStop_.load(std::memory_order_relaxed)) {
    if (!stallRecords_.load(std::memory_order_relaxed))
      drainRecords();
    drainLogs(shared_->netLog);
    drainLogs(shared_->strategyLog);
    const std::uint64_t now = core::monotonicNs();
    if (now - lastFlush > 50'000'000ULL) {
      recorder_.flush();
      updateRecordsHalt();
      lastFlush = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  drainRecords();
  drainLogs(shared_->netLog);
  drainLogs(shared_->strategyLog);
  recorder_.flush();
}

void Engine::updateRecordsHalt() {
  if (!recorder_.isOpen()) {
    shared_->recordsHalted.store(false, std::memory_order_relaxed); // the next session starts clean
    return;
  }
  const bool halt = recorder_.ordersMustStop();
  if (halt == shared_->recordsHalted.load(std::memory_order_relaxed))
    return;
  shared_->recordsHalted.store(halt, std::memory_order_relaxed);
  if (halt)
    spdlog::error("New orders stopped: the session directory {} is full (on_disk_full = {}); "
                  "open orders are still cancelled and their reports journaled. Free space; "
                  "then `hftctl stop-session` and `hftctl start-session` to trade again",
                  recorder_.directory(), config::describe(config().session.onDiskFull));
  else
    spdlog::warn("The journal is written again: new orders may be sent");
}

void Engine::drainRecords() {
  while (const LatencyRecord* r = shared_->latency.front()) {
    recorder_.record(*r);
    shared_->latency.release();
  }
  while (const JournalEntry* e = shared_->journal.front()) {
    recorder_.journal(*e);
    shared_->journal.release();
  }
  while (const MdRecordingEntry* m = shared_->mdRecording.front()) {
    recorder_.marketData(*m);
    shared_->mdRecording.release();
  }
}

void Engine::drainLogs(core::SpscRing<LogEvent>& ring) {
  LogEvent event;
  while (ring.tryPop(event))
    formatLog(event);
}

void Engine::formatLog(const LogEvent& e) {
  using Kind = LogEvent::Kind;
  const std::string host = config().exchange.host;
  switch (e.kind) {
  case Kind::Connecting: spdlog::info("Connecting to exchange {}:{}", host, e.a); break;
  case Kind::LoggedOn:
    spdlog::info("Connected to exchange {}:{} (exchange session {}, heartbeat {} ms)", host, e.c,
                 e.a, e.b);
    notifyStatus();
    break;
  case Kind::Closed: {
    const auto reason = static_cast<feed::CloseReason>(e.a);
    if (reason == feed::CloseReason::LocalLogout)
      spdlog::info("Logged out of the exchange");
    else
      spdlog::warn("Exchange connection closed: {}{}{}", feed::describe(reason),
                   e.c ? std::string(": ") + std::strerror(static_cast<int>(e.c)) : std::string(),
                   e.b ? " (reason code " + std::to_string(e.b) + ")" : std::string());
    break;
  }
  case Kind::ConnectError:
    spdlog::error("Cannot connect to exchange {}: {}", host, std::strerror(static_cast<int>(e.a)));
    break;
  case Kind::BadFrame: {
    const auto error = static_cast<protocol::FrameError>(e.a);
    if (error <= protocol::FrameError::TooManyEntries)
      spdlog::error("Malformed frame from exchange {}: {}; connection closed", host,
                    protocol::describe(error));
    else
      spdlog::warn("Invalid market data from exchange {} dropped: {}", host,
                   protocol::describe(error));
    break;
  }
  case Kind::UnknownType: spdlog::debug("Skipped a frame of unknown type {}", e.a); break;
  case Kind::Gap: spdlog::debug("Sequence gap: {} frames missing", e.a); break;
  case Kind::OrderSent:
    core::setLogOrderId(e.a);
    spdlog::debug("Order {} sent: symbol {} {} {} @ {:.4f}", e.a, e.b,
                  (e.d >> 32) == 0 ? "buy" : "sell", e.d & 0xffffffffULL,
                  static_cast<double>(e.c) / protocol::kPriceScale);
    core::setLogOrderId(0);
    break;
  case Kind::CancelSent:
    core::setLogOrderId(e.a);
    spdlog::debug("Cancel sent for order {} (symbol {})", e.a, e.b);
    core::setLogOrderId(0);
    break;
  case Kind::Execution:
    core::setLogOrderId(e.a);
    spdlog::debug("Order {}: {} {} @ {:.4f}", e.a,
                  protocol::describe(static_cast<protocol::ExecType>(e.b)), e.d,
                  static_cast<double>(e.c) / protocol::kPriceScale);
    core::setLogOrderId(0);
    break;
  case Kind::OrderUnknownReport:
    if (static_cast<order::ReportOutcome>(e.b) == order::ReportOutcome::Inconsistent)
      spdlog::critical("Execution report for order {} contradicts our state ({}): kill switch "
                       "ON. Reconcile positions with the exchange, then `hftctl kill-switch off`",
                       e.a, order::describe(static_cast<order::ReportOutcome>(e.b)));
    else
      spdlog::warn("Execution report for order {} ignored: {}", e.a,
                   order::describe(static_cast<order::ReportOutcome>(e.b)));
    break;
  case Kind::RiskReject: {
    const std::uint64_t now = core::monotonicNs();
    if (now - lastRiskLogNs_ > 1'000'000'000ULL) { // at most one a second: breaches are counted
      lastRiskLogNs_ = now;
      spdlog::info("Risk check stopped an order on symbol {}: {}", e.b,
                   risk::describe(static_cast<risk::RiskResult>(e.a)));
    }
    break;
  }
  case Kind::UnknownSymbol:
    spdlog::debug("Market data for symbol {} beyond the book table: dropped", e.a);
    break;
  case Kind::KillSwitchCancels: spdlog::warn("Kill switch: cancelling {} open orders", e.a); break;
  case Kind::RingFull:
    spdlog::error("A record ring is full ({}): the housekeeping thread is not keeping up; "
                  "records are counted as dropped",
                  e.a == 1 ? "journal" : "latency");
    break;
  case Kind::JournalRingLow:
    if (e.a == 1)
      spdlog::error("The journal ring is nearly full ({} records waiting): new orders stop so "
                    "that no execution report's record is lost; the housekeeping thread is "
                    "not keeping up",
                    e.b);
    else
      spdlog::warn("The journal ring has room again: new orders may be sent");
    break;
  case Kind::Reconnecting: spdlog::warn("Reconnecting to exchange {} in {} ms", host, e.a); break;
  }
}

config::HftdConfig Engine::config() const {
  std::lock_guard lock(configMutex_);
  return config_;
}

std::string Engine::stateText() const {
  if (stopping_.load())
    return "stopping";
  if (!sessionActive_.load())
    return "idle";
  return linkText(shared_->link.load(std::memory_order_acquire));
}

void Engine::notifyStatus() const {
  std::string id;
  {
    std::lock_guard lock(sessionInfoMutex_);
    id = sessionId_;
  }
  const std::string state = stateText();
  if (id.empty() || state == "idle")
    sd_notifyf(0, "STATUS=%s", state.c_str());
  else
    sd_notifyf(0, "STATUS=%s, session %s", state.c_str(), id.c_str());
}

control::EngineStatus Engine::status() {
  control::EngineStatus s;
  const auto cfg = config();
  s.state = stateText();
  {
    std::lock_guard lock(sessionInfoMutex_);
    s.sessionId = sessionId_;
  }
  s.version = HFT_VERSION;
  s.networkCore = static_cast<std::uint32_t>(cfg.cpu.networkCore);
  s.strategyCore = static_cast<std::uint32_t>(cfg.cpu.strategyCore);
  s.pollMode = std::string(config::describe(cfg.cpu.pollMode));
  s.exchange = cfg.exchange.host + ":" + std::to_string(cfg.exchange.port);
  s.killSwitch = shared_->killSwitch.load();
  s.uptimeNs = core::monotonicNs() - startedMonoNs_;
  return s;
}

control::EngineStats Engine::collectStats() const {
  control::EngineStats s;
  s.state = stateText();
  {
    std::lock_guard lock(sessionInfoMutex_);
    s.sessionId = sessionId_;
    s.sessionStartedNs = sessionStartedNs_;
  }
  const auto& n = shared_->net;
  const auto& t = shared_->strategy;
  constexpr auto r = std::memory_order_relaxed;
  s.killSwitch = shared_->killSwitch.load();
  s.rxPackets = n.rxPackets.load(r);
  s.rxMessages = n.rxMessages.load(r);
  s.mdMessages = n.mdMessages.load(r);
  s.mdGaps = n.mdGaps.load(r);
  // AF_XDP packets of the feed that failed the Ethernet/IP/UDP checks count as malformed.
  s.malformedFrames = n.malformed.load(r) + n.feedPacketDrops.load(r);
  s.ordersSent = n.ordersSent.load(r);
  s.acks = t.acks.load(r);
  s.fills = t.fills.load(r);
  s.partialFills = t.partialFills.load(r);
  s.rejects = t.rejects.load(r);
  for (std::size_t i = 0; i < control::kRejectReasonMembers.size(); ++i)
    s.*control::kRejectReasonMembers[i] = t.rejectsByReason[i].load(r);
  s.riskRejects = t.riskRejects.load(r);
  s.cancels = t.cancels.load(r);
  s.expired = t.expired.load(r);
  s.reconnects = n.reconnects.load(r);
  s.cancelRejects = t.cancelRejects.load(r);
  s.unsentOrders = n.unsentOrders.load(r);
  s.droppedRecords = n.recordDrops.load(r);
  s.writeErrors = recorder_.writeErrors();
  const auto journal = recorder_.journalState();
  s.journalRecords = journal.records;
  s.journalUnwritten = journal.unwritten;
  s.journalLost = journal.lost + n.journalDrops.load(r);
  s.journalComplete = s.journalLost == 0 && s.journalUnwritten == 0 ? 1 : 0;
  s.latencySamplesLost = journal.latencyLost;
  s.mdRecordingLost = journal.mdRecordingLost + n.mdRecordingDrops.load(r);
  s.ordersHeld = t.ordersHeld.load(r);
  s.diskFull = journal.diskFull ? 1 : 0;
  const auto limits = config().risk;
  s.riskMaxOrderQty = limits.maxOrderQty;
  s.riskMaxPosition = static_cast<std::uint64_t>(limits.maxPosition);
  s.riskMaxOpenOrders = limits.maxOpenOrders;
  s.riskMaxOrdersPerSecond = limits.maxOrdersPerSecond;
  s.riskPriceBandBps = limits.priceBandBps;
  s.uptimeNs = core::monotonicNs() - startedMonoNs_;
  for (std::uint32_t id = 0; id < kMaxPublishedSymbols; ++id) {
    const auto& p = shared_->symbols[id];
    if (!p.active.load(std::memory_order_acquire))
      continue;
    control::SymbolStats sym;
    sym.symbolId = id;
    sym.position = p.position.load(r);
    sym.realizedPnl = p.realizedPnl.load(r);
    sym.unrealizedPnl = p.unrealizedPnl.load(r);
    sym.midPrice = p.mid.load(r);
    s.symbols.push_back(sym);
  }
  s.latency = recorder_.latency();
  return s;
}

control::EngineStats Engine::stats() { return collectStats(); }

std::string Engine::startSession(std::uint32_t durationSec) {
  std::lock_guard lock(sessionMutex_);
  if (sessionActive_.load()) {
    std::lock_guard info(sessionInfoMutex_);
    throw control::ControlError(control::kErrorBusy,
                                "a session is already running (" + sessionId_ +
                                    "); stop it first with `hftctl stop-session`");
  }
  const auto cfg = config();
  const std::string id = makeSessionId();
  const std::string dir = cfg.session.directory + "/" + id;
  try {
    recorder_.open(dir, cfg.session.onDiskFull,
                   static_cast<std::uint64_t>(cfg.session.journalReserveMib) << 20,
                   cfg.session.recordMarketData);
    shared_->recordsHalted.store(false, std::memory_order_relaxed);
  } catch (const std::system_error& e) {
    throw control::ControlError(control::kErrorFailed,
                                std::string(e.what()) +
                                    "; set [session] directory to a writable path or fix its "
                                    "permissions");
  }
  {
    std::lock_guard info(sessionInfoMutex_);
    sessionId_ = id;
    sessionDir_ = dir;
    sessionStartedNs_ = core::realtimeNs();
  }
  core::setLogSessionId(id);
  spdlog::info("Session {} starting: exchange {}:{}, data in {}", id, cfg.exchange.host,
               cfg.exchange.port, dir);

  network_->setExchange(cfg.exchange);
  shared_->tradingEnabled.store(false);
  shared_->recordMarketData.store(cfg.session.recordMarketData, std::memory_order_relaxed);
  shared_->wantSession.store(true, std::memory_order_release);
  // release: publishes setExchange() and wantSession to the network thread.
  const std::uint64_t generation =
      shared_->sessionGeneration.fetch_add(1, std::memory_order_release) + 1;
  shared_->networkParker.notify();
  shared_->strategyParker.notify();

  const bool settled = waitFor(
      [&] {
        if (shared_->linkGeneration.load(std::memory_order_acquire) != generation ||
            shared_->strategyGeneration.load(std::memory_order_acquire) != generation)
          return false;
        const auto link = shared_->link.load(std::memory_order_acquire);
        return link == LinkState::LoggedOn || link == LinkState::Failed;
      },
      kStartTimeout);
  if (!settled || shared_->link.load() != LinkState::LoggedOn) {
    const auto reason = static_cast<feed::CloseReason>(shared_->lastCloseReason.load());
    const int error = shared_->lastCloseError.load();
    shared_->wantSession.store(false, std::memory_order_release);
    shared_->networkParker.notify();
    waitFor(
        [this] {
          return shared_->link.load() == LinkState::Idle ||
                 shared_->link.load() == LinkState::Failed;
        },
        kLogoutTimeout);
    std::string why = settled ? feed::describe(reason) : "no logon within 5 s";
    if (error != 0)
      why += std::string(" (") + std::strerror(error) + ")";
    stopSessionLocked("start failed");
    throw control::ControlError(control::kErrorFailed,
                                "cannot start a session with exchange " + cfg.exchange.host + ":" +
                                    std::to_string(cfg.exchange.port) + ": " + why +
                                    ". Is exchange-sim running there? (`systemctl status "
                                    "hft-exchange-sim` or [exchange] host/port)");
  }
  sessionDeadlineNs_.store(durationSec ? core::monotonicNs() + durationSec * 1'000'000'000ULL : 0);
  sessionActive_.store(true);
  shared_->tradingEnabled.store(true, std::memory_order_release);
  wakePipeline();
  spdlog::info("Session {} trading{}", id,
               durationSec ? " for " + std::to_string(durationSec) + " s" : std::string());
  notifyStatus();
  return id;
}

control::SessionSummary Engine::stopSession() {
  std::lock_guard lock(sessionMutex_);
  if (!sessionActive_.load())
    throw control::ControlError(control::kErrorNoSession,
                                "no session is running; start one with `hftctl start-session`");
  return stopSessionLocked("stop-session");
}

control::SessionSummary Engine::stopSessionLocked(const char* why) {
  stopping_.store(true);
  notifyStatus();
  // 1. No new orders; cancel what rests at the exchange.
  shared_->tradingEnabled.store(false, std::memory_order_release);
  shared_->cancelAllGeneration.fetch_add(1, std::memory_order_release);
  wakePipeline();
  const bool linkUp = shared_->link.load() == LinkState::LoggedOn;
  if (linkUp &&
      !waitFor([this] { return shared_->strategy.openOrders.load() == 0; }, kCancelTimeout))
    spdlog::warn("{} orders still open after 1 s of cancels; logging out (the exchange "
                 "cancels them on disconnect)",
                 shared_->strategy.openOrders.load());
  // 2. Log out and wait for the connection to close.
  shared_->wantSession.store(false, std::memory_order_release);
  shared_->networkParker.notify();
  waitFor(
      [this] {
        const auto l = shared_->link.load();
        return l == LinkState::Idle || l == LinkState::Failed;
      },
      kLogoutTimeout);
  // 3. Let the housekeeping thread write every record out, then close the directory.
  waitFor(
      [this] {
        return shared_->latency.size() == 0 && shared_->journal.size() == 0 &&
               shared_->mdRecording.size() == 0 && shared_->inbound.size() == 0;
      },
      kDrainTimeout);
  std::this_thread::sleep_for(std::chrono::milliseconds(5)); // one housekeeping pass
  recorder_.flush(); // the stats say whether the journal is whole on disk
  control::SessionSummary summary;
  summary.stats = collectStats();
  summary.stats.state = "stopped";
  {
    std::lock_guard info(sessionInfoMutex_);
    summary.sessionId = sessionId_;
    summary.directory = sessionDir_;
    summary.stats.sessionStartedNs = sessionStartedNs_;
  }
  summary.stats.sessionEndedNs = core::realtimeNs();
  try {
    recorder_.close(control::statsJson(summary.stats, true) + "\n");
  } catch (const std::system_error& e) {
    spdlog::error("Session {}: could not finish its directory: {}", summary.sessionId, e.what());
  }
  const auto& s = summary.stats;
  spdlog::info("Session {} ended ({}): RX packets {}, RX messages {}, market data {}, gaps {}, "
               "orders {}, acks {}, fills {}, rejects {}, risk rejects {}, cancels {}; data in {}",
               summary.sessionId, why, s.rxPackets, s.rxMessages, s.mdMessages, s.mdGaps,
               s.ordersSent, s.acks, s.fills, s.rejects, s.riskRejects, s.cancels,
               summary.directory);
  for (const auto& l : s.latency)
    if (l.count)
      spdlog::info("  latency {:<16} n={} p50={} p90={} p99={} p99.9={} max={} ns", l.stage,
                   l.count, l.p50, l.p90, l.p99, l.p999, l.max);
  for (const auto& sym : s.symbols)
    spdlog::info("  symbol {} position {} realized PnL {:.2f} unrealized PnL {:.2f}", sym.symbolId,
                 sym.position, sym.realizedPnl, sym.unrealizedPnl);
  sessionActive_.store(false);
  sessionDeadlineNs_.store(0);
  stopping_.store(false);
  core::setLogSessionId("");
  notifyStatus();
  return summary;
}

void Engine::tick() {
  const std::uint64_t deadline = sessionDeadlineNs_.load();
  if (deadline != 0 && core::monotonicNs() >= deadline) {
    std::lock_guard lock(sessionMutex_);
    if (sessionActive_.load() && sessionDeadlineNs_.load() == deadline)
      stopSessionLocked("duration reached");
  }
}

bool Engine::workersAlive() {
  const std::uint64_t net = shared_->net.beats.load(std::memory_order_relaxed);
  const std::uint64_t strat = shared_->strategy.beats.load(std::memory_order_relaxed);
  const bool alive = net != lastNetBeats_ && strat != lastStrategyBeats_;
  lastNetBeats_ = net;
  lastStrategyBeats_ = strat;
  return alive;
}

void Engine::toggleRecordStallForTest() {
  const bool stall = !stallRecords_.load();
  spdlog::warn("Test hook: the housekeeping thread {} journal and latency records "
               "(HFTD_TEST_HOOKS=1)",
               stall ? "stops taking" : "takes again");
  stallRecords_.store(stall);
}

void Engine::stallStrategyForTest() {
  spdlog::warn("Test hook: stalling the strategy thread (HFTD_TEST_HOOKS=1)");
  shared_->stallStrategy.store(true);
}

void Engine::setKillSwitch(bool on) {
  shared_->killSwitch.store(on, std::memory_order_release);
  wakePipeline();
  spdlog::warn("Kill switch {}",
               on ? "ON: open orders cancelled, no new orders" : "off: trading may resume");
}

control::ReloadResult Engine::applyConfig(const config::HftdConfig& next) {
  config::HftdConfig running = config();
  const auto plan = config::planReload(running, next);
  while (!strategy_->offerParams(next.risk, next.strategy, next.marketMaker))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  wakePipeline();
  if (next.log.level != running.log.level)
    spdlog::set_level(spdlog::level::from_str(next.log.level));
  {
    std::lock_guard lock(configMutex_);
    // Keep what only a restart can change; take the rest.
    const auto cpu = config_.cpu;
    const auto control = config_.control;
    const auto iface = config_.exchange.interface;
    const auto autostart = config_.session.autostart;
    const auto kind = config_.strategyKind;
    config_ = next;
    config_.strategyKind = kind;
    config_.cpu = cpu;
    config_.control = control;
    config_.exchange.interface = iface;
    config_.session.autostart = autostart;
  }
  control::ReloadResult result{plan.applied, plan.needsRestart};
  return result;
}

control::ReloadResult Engine::reload() {
  const std::lock_guard serial(reloadMutex_);
  const std::string path = config().path;
  if (path.empty())
    throw control::ControlError(control::kErrorConfig,
                                "hftd runs on built-in defaults (no configuration file): "
                                "nothing to reload; start it with --config FILE");
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%lu", core::monotonicNs() / 1000);
  config::HftdConfig next;
  try {
    next = loader_ ? loader_(path) : config::loadConfig(path);
  } catch (const config::ConfigError& e) {
    sd_notify(0, "READY=1");
    spdlog::error("Reload refused, the running configuration stays: {}", e.what());
    throw control::ControlError(control::kErrorConfig,
                                std::string(e.what()) + " (the running configuration stays)");
  }
  auto result = applyConfig(next);
  sd_notify(0, "READY=1");
  spdlog::info("Configuration reloaded from {}: {} applied, {} need a restart", path,
               result.applied.size(), result.needsRestart.size());
  for (const auto& s : result.needsRestart)
    spdlog::warn("Reload: {} changed but only takes effect after a restart", s);
  return result;
}

} // namespace hft::engine

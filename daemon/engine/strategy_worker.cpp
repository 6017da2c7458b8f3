// SPDX-License-Identifier: MIT
// The strategy thread: books, decisions, risk, orders and positions.
#include "daemon/engine/strategy_worker.h"

#include <cstring>

#include "libhft/core/cpu.h"
#include "libhft/core/stamp_clock.h"

namespace hft::engine {

using namespace hft::protocol;

namespace {
// Constructed in place (guaranteed elision): strategies own large tables and do not move.
AnyStrategy makeStrategy(const config::HftdConfig& config) {
  if (config.strategyKind == config::StrategyKind::MarketMaker)
    return AnyStrategy(std::in_place_type<strategy::MarketMaker>, config.marketMaker);
  return AnyStrategy(std::in_place_type<strategy::MomentumStrategy>, config.strategy);
}
// How often service() calls the strategy's onTimer().
constexpr std::uint64_t kTimerPeriodNs = 1'000'000;
} // namespace

StrategyWorker::StrategyWorker(SharedState& shared, const config::HftdConfig& config)
    : shared_(shared), core_(config.cpu.strategyCore),
      busyPoll_(config.cpu.pollMode == config::PollMode::Busy),
      fifoPriority_(config.cpu.fifoPriority), books_(std::make_unique<book::BookSet>()),
      orders_(std::make_unique<order::OrderManager>()), risk_(config.risk),
      strategy_(makeStrategy(config)),
      warmIntervalNs_(static_cast<std::uint64_t>(config.engine.warmIntervalUs) * 1000ULL) {}

bool StrategyWorker::offerParams(const risk::RiskLimits& limits,
                                 const strategy::StrategyParams& momentum,
                                 const strategy::MarketMakerParams& marketMaker) {
  if (paramsPending_.load(std::memory_order_acquire))
    return false;
  pendingLimits_ = limits;
  pendingMomentum_ = momentum;
  pendingMarketMaker_ = marketMaker;
  // release: the two structs are written before the strategy thread may read them.
  paramsPending_.store(true, std::memory_order_release);
  return true;
}

void StrategyWorker::takeParams() noexcept {
  // acquire: pairs with offerParams()' release.
  if (!paramsPending_.load(std::memory_order_acquire))
    return;
  risk_.setLimits(pendingLimits_);
  if (auto* momentum = std::get_if<strategy::MomentumStrategy>(&strategy_))
    momentum->setParams(pendingMomentum_);
  else if (auto* maker = std::get_if<strategy::MarketMaker>(&strategy_))
    maker->setParams(pendingMarketMaker_);
  paramsPending_.store(false, std::memory_order_release);
}

void StrategyWorker::log(LogEvent::Kind kind, std::uint64_t a, std::uint64_t b, std::int64_t c,
                         std::uint64_t d) noexcept {
  if (!shared_.strategyLog.tryPush(LogEvent{kind, a, b, c, d}))
    bump(shared_.strategy.logDrops);
}

void StrategyWorker::resetForSession() noexcept {
  // A session boundary, not the steady state: the one place this thread allocates.
  // Free the last session's state before allocating the next: never both at once.
  orders_.reset();
  books_.reset();
  orders_ = std::make_unique<order::OrderManager>();
  books_ = std::make_unique<book::BookSet>();
  dirtySymbols_ = 0; // the last session's: their slots are cleared below
  ordersDirty_ = false;
  strategy::dispatch(strategy_, [](auto& s) noexcept { s.reset(); });
  auto& c = shared_.strategy;
  for (auto* counter : {&c.mdApplied, &c.acks, &c.fills, &c.partialFills, &c.rejects, &c.cancels,
                        &c.expired, &c.cancelRejects, &c.riskRejects, &c.unknownSymbols,
                        &c.unknownReports, &c.outboundDrops, &c.ordersHeld, &c.openOrders})
    counter->store(0, std::memory_order_relaxed);
  for (auto& counter : c.rejectsByReason)
    counter.store(0, std::memory_order_relaxed);
  for (auto& s : shared_.symbols) {
    s.active.store(false, std::memory_order_relaxed);
    s.position.store(0, std::memory_order_relaxed);
    s.realizedPnl.store(0.0, std::memory_order_relaxed);
    s.unrealizedPnl.store(0.0, std::memory_order_relaxed);
    s.mid.store(0.0, std::memory_order_relaxed);
  }
}

void StrategyWorker::publishSymbol(std::uint32_t symbolId) noexcept {
  if (symbolId >= kMaxPublishedSymbols)
    return;
  auto& p = shared_.symbols[symbolId];
  const auto& positions = orders_->positions();
  const book::OrderBook* book = books_->find(symbolId);
  const std::int64_t mid = book ? book->mid() : 0;
  constexpr auto r = std::memory_order_relaxed;
  p.position.store(positions.position(symbolId), r);
  p.realizedPnl.store(positions.realizedPnl(symbolId), r);
  p.unrealizedPnl.store(mid ? positions.unrealizedPnl(symbolId, mid) : 0.0, r);
  p.mid.store(static_cast<double>(mid) / kPriceScale, r);
  p.active.store(true, std::memory_order_release);
}

void StrategyWorker::publishOrderCounters() noexcept {
  const auto& o = orders_->counters();
  auto& c = shared_.strategy;
  constexpr auto r = std::memory_order_relaxed;
  c.acks.store(o.acks, r);
  c.fills.store(o.fills + o.partialFills, r);
  c.partialFills.store(o.partialFills, r);
  c.rejects.store(o.rejects, r);
  for (std::size_t i = 0; i < o.rejectsByReason.size(); ++i)
    c.rejectsByReason[i].store(o.rejectsByReason[i], r);
  c.cancels.store(o.cancels, r);
  c.expired.store(o.expired, r);
  c.cancelRejects.store(o.cancelRejects, r);
  c.unknownReports.store(o.unknown + o.duplicates + o.inconsistent, r);
  c.openOrders.store(orders_->openOrders(), r);
}

void StrategyWorker::onMarketData(const FrameView& frame, std::uint64_t rxNs,
                                  std::uint64_t decodedNs) noexcept {
  const auto head = frame.as<MarketDataHead>();
  book::OrderBook* book = books_->find(head.symbolId);
  if (!book) {
    bump(shared_.strategy.unknownSymbols);
    log(LogEvent::Kind::UnknownSymbol, head.symbolId);
    return;
  }
  // The network thread handed over only frames the edge validated: no second check here.
  book->applyValidated(frame);
  const std::uint64_t bookStamp = core::stamp();
  bump(shared_.strategy.mdApplied);
  markSymbol(head.symbolId);
  warmSymbol_ = head.symbolId;
  if (!shared_.tradingEnabled.load(std::memory_order_acquire))
    return;

  const EventStamps stamps{rxNs, decodedNs, bookStamp, core::stampToNs(bookStamp)};
  OrderGateway gw = gateway(stamps);
  const strategy::BookUpdate update{*book, head.symbolId,
                                    orders_->positions().position(head.symbolId), stamps.nowNs,
                                    head.header.timestamp};
  strategy::dispatch(strategy_, [&](auto& s) noexcept { s.onBookUpdate(update, gw); });
}

void StrategyWorker::onExecutionReport(const ExecutionReport& report) noexcept {
  const auto outcome = orders_->onExecutionReport(report);
  if (outcome != order::ReportOutcome::Applied)
    log(LogEvent::Kind::OrderUnknownReport, report.clOrdId, static_cast<std::uint64_t>(outcome));
  if (outcome == order::ReportOutcome::Inconsistent) {
    // Our positions may no longer be the exchange's: stop trading until an operator looks.
    shared_.killSwitch.store(true, std::memory_order_release);
  }
  if (outcome == order::ReportOutcome::Applied) {
    const EventStamps stamps{0, 0, 0, core::stampToNs(core::stamp())};
    OrderGateway gw = gateway(stamps);
    const std::int64_t position = orders_->positions().position(report.symbolId);
    strategy::dispatch(strategy_, [&](auto& s) noexcept { s.onExecution(report, position, gw); });
  }
  ordersDirty_ = true;
  markSymbol(report.symbolId);
}

void StrategyWorker::publishChanged(std::uint64_t nowNs) noexcept {
  publishedNs_ = nowNs;
  if (ordersDirty_) {
    ordersDirty_ = false;
    publishOrderCounters();
  }
  while (dirtySymbols_ != 0) {
    const auto symbolId = static_cast<std::uint32_t>(__builtin_ctzll(dirtySymbols_));
    dirtySymbols_ &= dirtySymbols_ - 1;
    publishSymbol(symbolId);
  }
}

void StrategyWorker::cancelAllOpen() noexcept {
  std::uint64_t count = 0;
  orders_->forEachOpen([&](const order::Order& o) {
    if (o.state == order::OrderState::PendingCancel || o.state == order::OrderState::PendingNew)
      return; // a cancel is already on its way, or the ack will come first and we retry
    OrderCommand* cmd = shared_.orders.claim();
    if (!cmd) {
      bump(shared_.strategy.outboundDrops);
      return;
    }
    *cmd = OrderCommand{};
    cmd->kind = OrderCommand::Kind::Cancel;
    cmd->clOrdId = o.clOrdId;
    cmd->symbolId = o.symbolId;
    shared_.orders.publish();
    ++count;
  });
  orders_->forEachOpen([&](const order::Order& o) {
    if (o.state != order::OrderState::PendingCancel && o.state != order::OrderState::PendingNew)
      (void)orders_->markCancelSent(o.clOrdId);
  });
  ordersDirty_ = true;
  if (count) {
    shared_.networkParker.notify();
    log(LogEvent::Kind::KillSwitchCancels, count);
  }
}

void StrategyWorker::onDisconnected() noexcept {
  orders_->onSessionClosed();
  // Every order of ours is gone with the connection; the book before it is stale.
  strategy::dispatch(strategy_, [](auto& s) noexcept { s.reset(); });
  publishOrderCounters();
}

void StrategyWorker::service(bool busy) noexcept {
  if (!shared_.stallStrategy.load(std::memory_order_relaxed))
    bump(shared_.strategy.beats);

  const std::uint64_t generation = shared_.sessionGeneration.load(std::memory_order_acquire);
  if (generation != generation_) {
    generation_ = generation;
    resetForSession();
    // release: the control thread waits for this before it lets the session trade.
    shared_.strategyGeneration.store(generation, std::memory_order_release);
  }

  // Kill switch on, or a stop-session: cancel what is open, once per request, and again
  // for orders that were still unacknowledged the first time.
  const bool kill = shared_.killSwitch.load(std::memory_order_acquire);
  if (kill != killSwitchSeen_) {
    killSwitchSeen_ = kill;
    risk_.setKillSwitch(kill);
    cancelPending_ = kill;
  }
  const std::uint64_t cancelAll = shared_.cancelAllGeneration.load(std::memory_order_acquire);
  if (cancelAll != cancelAllSeen_) {
    cancelAllSeen_ = cancelAll;
    cancelPending_ = true;
  }
  if (cancelPending_ && !busy) {
    cancelAllOpen();
    cancelPending_ = false;
    orders_->forEachOpen([&](const order::Order& o) {
      if (o.state == order::OrderState::PendingNew)
        cancelPending_ = true;
    });
  }
  takeParams();
  if (const std::uint64_t now = core::stampToNs(core::stamp());
      now - lastTimerNs_ >= kTimerPeriodNs) {
    lastTimerNs_ = now;
    if (shared_.tradingEnabled.load(std::memory_order_acquire)) {
      const EventStamps stamps{0, 0, 0, now};
      OrderGateway gw = gateway(stamps);
      strategy::dispatch(strategy_, [&](auto& s) noexcept { s.onTimer(now, gw); });
    }
  }
  if (dirtySymbols_ != 0 || ordersDirty_) {
    const std::uint64_t now = core::stampToNs(core::stamp());
    if (!busy || now - publishedNs_ >= kPublishPeriodNs)
      publishChanged(now);
  }
  // A quiet round: re-anchor the stamp clock now and then, never between a tick and its order;
  // and keep the order path in cache.
  if (!busy) {
    const std::uint64_t now = core::stampToNs(core::stamp());
    if (now - anchoredNs_ > 100'000'000) {
      anchoredNs_ = now;
      clock_.reanchor();
    }
    if (warmIntervalNs_ != 0 && now - lastWarmNs_ >= warmIntervalNs_) {
      lastWarmNs_ = now;
      warmOrderPath(now);
    }
  }
}

void StrategyWorker::warmOrderPath(std::uint64_t nowNs) noexcept {
  if (!shared_.tradingEnabled.load(std::memory_order_acquire))
    return;
  const book::OrderBook* book = books_->find(warmSymbol_);
  if (book == nullptr || book->mid() <= 0)
    return; // no market yet: nothing an order could be checked against
  risk::OrderIntent intent;
  intent.symbolId = warmSymbol_;
  intent.side = protocol::Side::Buy;
  intent.tif = protocol::Tif::Ioc;
  intent.price = book->mid();
  intent.qty = 1;
  // Not gateway(): a warm-up changes nothing the control plane sees.
  const EventStamps stamps{0, 0, 0, nowNs};
  OrderGateway gw(shared_, *orders_, risk_, *books_, clock_, stamps, exit_);
  ++warmPasses_;
  if (gw.warm(intent) == risk::RiskResult::Accepted)
    ++warmAccepted_;
}

void StrategyWorker::run() noexcept {
  core::nameThisThread("hft-strategy");
  if (fifoPriority_ > 0)
    (void)core::setFifoPriority(fifoPriority_);
  (void)core::pinThisThread(core_);
  core::IdleBackoff idle(busyPoll_);
  bool didWork = false;
  while (!shared_.stop.load(std::memory_order_relaxed)) {
    service(didWork);
    didWork = false;
    if (const InboundEvent* event = shared_.inbound.front()) {
      switch (event->kind) {
      case InboundEvent::Kind::MarketData:
        onMarketData(
            FrameView{event->frame, event->length, static_cast<std::uint16_t>(MsgType::MarketData)},
            event->rxNs, event->decodedNs);
        break;
      case InboundEvent::Kind::ExecutionReport: {
        ExecutionReport report;
        std::memcpy(&report, event->frame, sizeof(report));
        onExecutionReport(report);
        break;
      }
      case InboundEvent::Kind::LoggedOn: break;
      case InboundEvent::Kind::Disconnected: onDisconnected(); break;
      }
      shared_.inbound.release();
      didWork = true;
    }

    if (didWork) {
      idle.worked();
      continue;
    }
    if (idle.shouldPark())
      shared_.strategyParker.park([this] { return shared_.inbound.front() != nullptr; }, -1,
                                  core::IdleBackoff::kParkTimeoutMs);
  }
}

} // namespace hft::engine

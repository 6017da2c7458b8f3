// SPDX-License-Identifier: MIT
// The network thread: exchange socket in, orders out.
#include "daemon/engine/network_worker.h"

#include <sched.h>

#include <cstring>

#include "libhft/core/clock.h"
#include "libhft/core/cpu.h"

namespace hft::engine {

using namespace hft::protocol;

namespace {
constexpr int kSpinsBeforePark = 200;
constexpr int kParkTimeoutMs = 1; // heartbeats and reconnects are timed in milliseconds
} // namespace

NetworkWorker::NetworkWorker(SharedState& shared, const config::HftdConfig& config)
    : shared_(shared), exchange_(config.exchange), core_(config.cpu.networkCore),
      busyPoll_(config.cpu.pollMode == config::PollMode::Busy),
      fifoPriority_(config.cpu.fifoPriority), session_(*this) {}

void NetworkWorker::log(LogEvent::Kind kind, std::uint64_t a, std::uint64_t b, std::int64_t c,
                        std::uint64_t d) noexcept {
  if (!shared_.netLog.tryPush(LogEvent{kind, a, b, c, d}))
    bump(shared_.net.logDrops);
}

void NetworkWorker::startConnect(std::uint64_t nowNs) noexcept {
  feed::SessionParams params;
  params.host = exchange_.host; // copies only at connect time, never per message
  params.port = exchange_.port;
  params.account = exchange_.account;
  params.heartbeatMs = exchange_.heartbeatMs;
  params.connectTimeoutMs = exchange_.connectTimeoutMs;
  log(LogEvent::Kind::Connecting, exchange_.port);
  if (const int rc = session_.connect(params, nowNs); rc < 0) {
    onClosed(feed::CloseReason::ConnectFailed, -rc, 0);
    return;
  }
  shared_.link.store(everLoggedOn_ ? LinkState::Reconnecting : LinkState::Connecting,
                     std::memory_order_release);
}

void NetworkWorker::pushInbound(InboundEvent::Kind kind, const FrameView* frame,
                                std::uint64_t rxNs, std::uint64_t decodedNs) noexcept {
  InboundEvent* slot = shared_.inbound.claim();
  if (!slot) {
    bump(shared_.net.inboundDrops);
    return;
  }
  slot->kind = kind;
  slot->rxNs = rxNs;
  slot->decodedNs = decodedNs;
  slot->length = frame ? frame->length : 0;
  if (frame)
    std::memcpy(slot->frame, frame->data, frame->length);
  shared_.inbound.publish();
  shared_.strategyParker.notify();
}

void NetworkWorker::journal(std::uint8_t direction, const std::byte* frame, std::uint16_t length,
                            std::uint64_t nowNs) noexcept {
  JournalEntry* entry = shared_.journal.claim();
  if (!entry) {
    bump(shared_.net.recordDrops);
    log(LogEvent::Kind::RingFull, 1);
    return;
  }
  entry->localNs = nowNs;
  entry->direction = direction;
  entry->length = length;
  std::memcpy(entry->frame, frame, length);
  shared_.journal.publish();
}

void NetworkWorker::onFrame(const FrameView& frame, std::uint64_t rxNs,
                            std::uint64_t decodedNs) noexcept {
  if (frame.type == static_cast<std::uint16_t>(MsgType::MarketData)) {
    ++mdMessages_;
    pushInbound(InboundEvent::Kind::MarketData, &frame, rxNs, decodedNs);
    return;
  }
  // Execution reports are journaled before the strategy sees them: none may be lost.
  journal(1, frame.data, frame.length, rxNs);
  pushInbound(InboundEvent::Kind::ExecutionReport, &frame, rxNs, decodedNs);
  const auto report = frame.as<ExecutionReport>();
  log(LogEvent::Kind::Execution, report.clOrdId, report.execType,
      static_cast<std::int64_t>(report.lastPx), report.lastQty);
}

void NetworkWorker::onLoggedOn(std::uint64_t exchangeSessionId,
                               std::uint32_t heartbeatMs) noexcept {
  if (everLoggedOn_)
    bump(shared_.net.reconnects);
  everLoggedOn_ = true;
  backoffNs_ = exchange_.reconnectInitialMs * 1'000'000ULL;
  log(LogEvent::Kind::LoggedOn, exchangeSessionId, heartbeatMs, exchange_.port);
  pushInbound(InboundEvent::Kind::LoggedOn, nullptr, core::realtimeNs(), 0);
  shared_.link.store(LinkState::LoggedOn, std::memory_order_release);
}

void NetworkWorker::onClosed(feed::CloseReason reason, int error, std::uint8_t detail) noexcept {
  shared_.lastCloseReason.store(static_cast<std::uint8_t>(reason), std::memory_order_relaxed);
  shared_.lastCloseError.store(error, std::memory_order_relaxed);
  shared_.lastCloseDetail.store(detail, std::memory_order_relaxed);
  log(LogEvent::Kind::Closed, static_cast<std::uint64_t>(reason), detail, error);
  pushInbound(InboundEvent::Kind::Disconnected, nullptr, core::realtimeNs(), 0);
  const bool want = shared_.wantSession.load(std::memory_order_acquire);
  if (want && everLoggedOn_) {
    // Mid-session loss: come back with exponential backoff, as long as the session is wanted.
    reconnectAtNs_ = core::monotonicNs() + backoffNs_;
    log(LogEvent::Kind::Reconnecting, backoffNs_ / 1'000'000ULL);
    backoffNs_ = std::min<std::uint64_t>(backoffNs_ * 2, exchange_.reconnectMaxMs * 1'000'000ULL);
    shared_.link.store(LinkState::Reconnecting, std::memory_order_release);
  } else {
    shared_.link.store(want ? LinkState::Failed : LinkState::Idle, std::memory_order_release);
  }
}

void NetworkWorker::onBadFrame(FrameError error, std::uint16_t type) noexcept {
  if (error == FrameError::None) {
    bump(shared_.net.unknownTypes);
    log(LogEvent::Kind::UnknownType, type);
  } else {
    bump(shared_.net.malformed);
    log(LogEvent::Kind::BadFrame, static_cast<std::uint64_t>(error), type);
  }
}

void NetworkWorker::onGap(std::uint64_t missing) noexcept {
  log(LogEvent::Kind::Gap, missing);
}

bool NetworkWorker::drainOrders() noexcept {
  bool didWork = false;
  while (const OrderCommand* cmd = shared_.orders.front()) {
    didWork = true;
    if (session_.state() != feed::SessionState::LoggedOn) {
      // Not connected: the strategy has been told (Disconnected) and forgets open orders.
      bump(shared_.net.unsentOrders);
      shared_.orders.release();
      continue;
    }
    alignas(8) std::byte bytes[sizeof(NewOrder)];
    std::size_t length = 0;
    if (cmd->kind == OrderCommand::Kind::NewOrder) {
      NewOrder order{};
      stampHeader(order.header, MsgType::NewOrder, sizeof(order), 0, 0);
      order.clOrdId = cmd->clOrdId;
      order.symbolId = cmd->symbolId;
      order.side = static_cast<std::uint8_t>(cmd->side);
      order.tif = static_cast<std::uint8_t>(cmd->tif);
      order.price = cmd->price;
      order.qty = cmd->qty;
      order.mdTimestamp = cmd->mdTimestamp;
      writeFrame(bytes, order);
      length = sizeof(order);
    } else if (cmd->kind == OrderCommand::Kind::Cancel) {
      CancelOrder cancel{};
      stampHeader(cancel.header, MsgType::CancelOrder, sizeof(cancel), 0, 0);
      cancel.clOrdId = cmd->clOrdId;
      cancel.symbolId = cmd->symbolId;
      writeFrame(bytes, cancel);
      length = sizeof(cancel);
    } else {
      shared_.orders.release();
      continue;
    }
    if (!session_.send(bytes, length, core::realtimeNs()))
      break; // the socket is full: keep the command and retry on the next loop
    const std::uint64_t sentNs = core::realtimeNs(); // after send(): written to the socket
    journal(0, bytes, static_cast<std::uint16_t>(length), sentNs);
    if (cmd->kind == OrderCommand::Kind::NewOrder) {
      ++ordersSent_;
      if (LatencyRecord* r = shared_.latency.claim()) {
        *r = LatencyRecord{cmd->clOrdId, cmd->symbolId, cmd->mdTimestamp, cmd->rxNs,
                           cmd->decodedNs, cmd->bookNs,   cmd->decidedNs,   sentNs};
        shared_.latency.publish();
      } else {
        bump(shared_.net.recordDrops);
      }
      log(LogEvent::Kind::OrderSent, cmd->clOrdId, cmd->symbolId, cmd->price,
          (static_cast<std::uint64_t>(cmd->side) << 32) | cmd->qty);
    } else {
      ++cancelsSent_;
      log(LogEvent::Kind::CancelSent, cmd->clOrdId, cmd->symbolId);
    }
    shared_.orders.release();
  }
  return didWork;
}

void NetworkWorker::publishCounters() noexcept {
  const auto& c = session_.counters();
  auto& n = shared_.net;
  n.rxPackets.store(c.rxPackets, std::memory_order_relaxed);
  n.rxMessages.store(c.rxMessages, std::memory_order_relaxed);
  n.mdGaps.store(c.gaps, std::memory_order_relaxed);
  n.mdMessages.store(mdMessages_, std::memory_order_relaxed);
  n.ordersSent.store(ordersSent_, std::memory_order_relaxed);
  n.cancelsSent.store(cancelsSent_, std::memory_order_relaxed);
}

void NetworkWorker::run() noexcept {
  core::nameThisThread("hft-net");
  if (fifoPriority_ > 0)
    (void)core::setFifoPriority(fifoPriority_); // checked once at start-up by the engine
  (void)core::pinThisThread(core_);
  int idleSpins = 0;
  while (!shared_.stop.load(std::memory_order_relaxed)) {
    bump(shared_.net.beats);
    const std::uint64_t now = core::monotonicNs();
    bool didWork = false;

    // acquire: pairs with the control thread's release so setExchange() is visible.
    const std::uint64_t generation = shared_.sessionGeneration.load(std::memory_order_acquire);
    if (generation != currentGeneration_) {
      currentGeneration_ = generation;
      session_.close(feed::CloseReason::None);
      session_.resetCounters();
      ordersSent_ = cancelsSent_ = mdMessages_ = 0;
      shared_.net.reconnects.store(0, std::memory_order_relaxed);
      shared_.net.malformed.store(0, std::memory_order_relaxed);
      shared_.net.unknownTypes.store(0, std::memory_order_relaxed);
      everLoggedOn_ = false;
      backoffNs_ = exchange_.reconnectInitialMs * 1'000'000ULL;
      publishCounters();
      shared_.linkGeneration.store(generation, std::memory_order_release);
      if (shared_.wantSession.load(std::memory_order_acquire))
        startConnect(now);
      didWork = true;
    }

    const bool want = shared_.wantSession.load(std::memory_order_acquire);
    const auto state = session_.state();
    if (!want && state != feed::SessionState::Disconnected &&
        state != feed::SessionState::LoggingOut) {
      // Orders queued before the stop (the cancels of stop-session) go out first.
      drainOrders();
      session_.logout(now);
      shared_.link.store(LinkState::Closing, std::memory_order_release);
    }
    if (want && state == feed::SessionState::Disconnected && everLoggedOn_ &&
        now >= reconnectAtNs_)
      startConnect(now);

    didWork |= session_.poll(now);
    didWork |= drainOrders();
    if (didWork) {
      publishCounters();
      idleSpins = 0;
      continue;
    }
    if (busyPoll_) {
      __builtin_ia32_pause(); // deliberate busy-wait: production keeps the core hot
      continue;
    }
    if (++idleSpins < kSpinsBeforePark) {
      sched_yield(); // yield mode: whoever shares this core (the exchange, a monitor) runs now
      continue;
    }
    shared_.networkParker.park([this] { return shared_.orders.front() != nullptr; },
                               session_.fd(), kParkTimeoutMs);
  }
  if (session_.state() != feed::SessionState::Disconnected)
    session_.close(feed::CloseReason::LocalLogout);
}

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// Where an order leaves hftd: encode, write, journal, latency record.
#include "daemon/engine/order_exit.h"

#include <cstring>

namespace hft::engine {

OrderExit::OrderExit(SharedState& shared, feed::ExchangeSession& session,
                     const core::RealtimeAnchor& clock)
    : shared_(shared), session_(session), clock_(clock),
      journalReserveSlots_(shared.journal.capacity() / 8),
      rxStamps_(std::make_unique<RxStampSlot[]>(kRxStampSlots)), txPending_(1024) {}

void OrderExit::log(LogEvent::Kind kind, std::uint64_t a, std::uint64_t b, std::int64_t c,
                    std::uint64_t d) noexcept {
  if (!shared_.netLog.tryPush(LogEvent{kind, a, b, c, d}))
    bump(shared_.net.logDrops);
}

OrderExit::Write OrderExit::write(const OrderCommand& cmd) noexcept { return pass(cmd, false); }

void OrderExit::warm(const OrderCommand& cmd) noexcept { (void)pass(cmd, true); }

OrderExit::Write OrderExit::pass(const OrderCommand& cmd, bool warm) noexcept {
  if (session_.state() != feed::SessionState::LoggedOn) {
    // Not connected: the strategy has been told (Disconnected) and forgets open orders.
    if (!warm)
      bump(shared_.net.unsentOrders);
    return Write::NotConnected;
  }
  alignas(8) std::byte bytes[kOrderFrameBytes];
  const std::size_t length = encodeOrder(cmd, bytes);
  if (length == 0)
    return Write::NoFrame;
  const std::uint64_t sendNs = clock_.nowRealtimeNs(); // the header's timestamp
  if (warm) {
    // Stop before the write; bring in what the steps after it will fill.
    shared_.journal.prefetchClaim();
    shared_.netLog.prefetchClaim();
    if (session_.kernelTxStamps())
      txPending_.prefetchPush();
    return Write::NoFrame;
  }
  if (!session_.send(bytes, length, sendNs))
    return Write::SocketFull;
  const std::uint64_t sentNs = clock_.nowRealtimeNs(); // after send(): written to the socket
  journal(0, bytes, static_cast<std::uint16_t>(length), sentNs);
  if (cmd.kind == OrderCommand::Kind::Cancel) {
    ++cancelsSent_;
    log(LogEvent::Kind::CancelSent, cmd.clOrdId, cmd.symbolId);
    return Write::Sent;
  }
  ++ordersSent_;
  LatencyRecord record{cmd.clOrdId,   cmd.symbolId, cmd.mdTimestamp, cmd.rxNs,
                       cmd.decodedNs, cmd.bookNs,   cmd.decidedNs,   sentNs};
  record.kernelRxNs = kernelRxFor(cmd.rxNs);
  record.sendNs = sendNs;
  if (session_.kernelTxStamps()) {
    // Completed when its transmit stamp is read, after this pass's writes.
    if (txPending_.full())
      txPending_.popOldest([this](LatencyRecord& r, std::uint64_t) {
        ++txStampsMissing_;
        publishLatency(r);
      });
    txPending_.push(session_.lastSendKey(), sentNs, record);
  } else {
    publishLatency(record);
  }
  log(LogEvent::Kind::OrderSent, cmd.clOrdId, cmd.symbolId, cmd.price,
      (static_cast<std::uint64_t>(cmd.side) << 32) | cmd.qty);
  return Write::Sent;
}

bool OrderExit::drainQueued() noexcept {
  bool didWork = false;
  while (const OrderCommand* cmd = shared_.orders.front()) {
    didWork = true;
    if (write(*cmd) == Write::SocketFull)
      break; // keep the command and retry on the next loop
    shared_.orders.release();
  }
  return didWork;
}

void OrderExit::journal(std::uint8_t direction, const std::byte* frame, std::uint16_t length,
                        std::uint64_t nowNs) noexcept {
  JournalEntry* entry = shared_.journal.claim();
  if (!entry) {
    // Only if the housekeeping thread stalled for the whole reserve: new orders stopped long ago.
    bump(shared_.net.recordDrops);
    bump(shared_.net.journalDrops);
    log(LogEvent::Kind::RingFull, 1);
    return;
  }
  entry->localNs = nowNs;
  entry->direction = direction;
  entry->length = length;
  std::memcpy(entry->frame, frame, length);
  shared_.journal.publish();
  if (!journalRingLow_ && !shared_.journal.hasRoom(journalReserveSlots_)) {
    // What is left is for the reports of orders already out: the strategy sends no new one.
    journalRingLow_ = true;
    shared_.journalRingLow.store(true, std::memory_order_relaxed);
    log(LogEvent::Kind::JournalRingLow, 1, shared_.journal.capacity() - journalReserveSlots_);
  }
}

void OrderExit::checkJournalRoom() noexcept {
  if (journalRingLow_ && shared_.journal.hasRoom(shared_.journal.capacity() / 2)) {
    journalRingLow_ = false;
    shared_.journalRingLow.store(false, std::memory_order_relaxed);
    log(LogEvent::Kind::JournalRingLow, 0);
  }
}

void OrderExit::publishLatency(const LatencyRecord& record) noexcept {
  if (LatencyRecord* r = shared_.latency.claim()) {
    *r = record;
    shared_.latency.publish();
  } else {
    bump(shared_.net.recordDrops);
  }
}

void OrderExit::noteKernelRx(std::uint64_t rxNs, std::uint64_t kernelRxNs) noexcept {
  if (kernelRxNs == 0)
    return;
  // Fibonacci hashing: the receive times of nearby frames land in different slots.
  RxStampSlot& slot = rxStamps_[(rxNs * 0x9E3779B97F4A7C15ULL) >> 52];
  slot.rxNs = rxNs;
  slot.kernelRxNs = kernelRxNs;
}

std::uint64_t OrderExit::kernelRxFor(std::uint64_t rxNs) const noexcept {
  const RxStampSlot& slot = rxStamps_[(rxNs * 0x9E3779B97F4A7C15ULL) >> 52];
  return slot.rxNs == rxNs ? slot.kernelRxNs : 0; // overwritten or never stamped: none
}

void OrderExit::collectTxStamps(std::uint64_t nowNs) noexcept {
  if (!session_.kernelTxStamps())
    return;
  // Read while bytes written have no stamp yet; a stamp that is late (a NIC queue) is looked
  // for again at most every 20 us of idle rounds, so an idle busy loop is not all system calls.
  const std::uint32_t written = session_.txStreamBytes();
  if (written == stampedUpTo_ && txPending_.empty())
    return;
  if (written == lastReadAtBytes_ && nowNs - lastStampReadNs_ < 20'000)
    return;
  if (written != lastReadAtBytes_)
    lastNewBytesNs_ = nowNs;
  lastReadAtBytes_ = written;
  lastStampReadNs_ = nowNs;
  auto complete = [this](LatencyRecord& r, std::uint64_t kernelTxNs) noexcept {
    r.kernelTxNs = kernelTxNs;
    if (kernelTxNs == 0)
      ++txStampsMissing_;
    publishLatency(r);
  };
  feed::TxStamp stamp;
  for (int i = 0; i < 256; ++i) { // bounded: one round never stays here long
    const feed::ErrQueueResult result = session_.readTxStamp(stamp);
    if (result == feed::ErrQueueResult::Empty)
      break;
    if (result != feed::ErrQueueResult::Stamp)
      continue;
    // The stamp of the last byte of a send covers every byte before it.
    if (static_cast<std::int32_t>(stamp.key + 1 - stampedUpTo_) > 0)
      stampedUpTo_ = stamp.key + 1;
    txPending_.match(stamp, complete);
  }
  // Not stamped within 100 ms: the stamp is not coming (the kernel dropped it).
  const std::uint64_t realNow = clock_.nowRealtimeNs();
  txPending_.expire(realNow > 100'000'000 ? realNow - 100'000'000 : 0, complete);
  // Nothing waits and the last bytes (a heartbeat's) found no stamp in 100 ms: stop looking.
  if (txPending_.empty() && nowNs - lastNewBytesNs_ > 100'000'000)
    stampedUpTo_ = written;
}

void OrderExit::releasePendingStamps() noexcept {
  txPending_.clear([this](LatencyRecord& r, std::uint64_t) {
    ++txStampsMissing_;
    publishLatency(r);
  });
  stampedUpTo_ = lastReadAtBytes_ = 0;
}

} // namespace hft::engine

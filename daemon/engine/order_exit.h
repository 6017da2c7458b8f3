// SPDX-License-Identifier: MIT
// Where an order leaves hftd. The OrderGateway (order_gateway.h) decides that an order may go
// (risk, the journal guard, its cl_ord_id); the OrderExit encodes its NEW_ORDER or
// CANCEL_ORDER, writes it to the exchange session, journals it and completes its latency
// record (with the kernel's transmit stamp, when there is one). It lives on the network
// thread, which owns the session:
//   layout = run_to_completion: the gateway calls write() in the pass that decided, on the
//     same core, before anything else happens in that pass;
//   layout = pipeline: the strategy thread queues commands in the orders ring and the network
//     thread's loop hands each to write() (drainQueued()).
// Either way an order the socket cannot take waits in the orders ring, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "daemon/engine/events.h"
#include "daemon/engine/shared_state.h"
#include "daemon/feed/exchange_session.h"
#include "daemon/feed/kernel_stamps.h"
#include "libhft/core/stamp_clock.h"
#include "libhft/protocol/codec.h"

namespace hft::engine {

// The largest frame an order command encodes to.
inline constexpr std::size_t kOrderFrameBytes = sizeof(protocol::NewOrder);

// Encodes a command's frame into `out` (kOrderFrameBytes, 8-aligned), seq and timestamp left 0
// for the session to stamp. Returns its length; 0 for a kind without a frame.
[[nodiscard]] inline std::size_t encodeOrder(const OrderCommand& cmd, std::byte* out) noexcept {
  using namespace protocol;
  if (cmd.kind == OrderCommand::Kind::NewOrder) {
    NewOrder order{};
    stampHeader(order.header, MsgType::NewOrder, sizeof(order), 0, 0);
    order.clOrdId = cmd.clOrdId;
    order.symbolId = cmd.symbolId;
    order.side = static_cast<std::uint8_t>(cmd.side);
    order.tif = static_cast<std::uint8_t>(cmd.tif);
    order.price = cmd.price;
    order.qty = cmd.qty;
    order.mdTimestamp = cmd.mdTimestamp;
    writeFrame(out, order);
    return sizeof(order);
  }
  if (cmd.kind == OrderCommand::Kind::Cancel) {
    CancelOrder cancel{};
    stampHeader(cancel.header, MsgType::CancelOrder, sizeof(cancel), 0, 0);
    cancel.clOrdId = cmd.clOrdId;
    cancel.symbolId = cmd.symbolId;
    writeFrame(out, cancel);
    return sizeof(cancel);
  }
  return 0;
}

class OrderExit {
public:
  enum class Write : std::uint8_t {
    Sent,         // written, journaled, its latency record on its way
    SocketFull,   // the socket took nothing: keep the command and retry (counted by the session)
    NotConnected, // no logged-on session: the order is not sent (counted: unsentOrders)
    NoFrame,      // a command kind without a frame: nothing to do
  };

  OrderExit(SharedState& shared, feed::ExchangeSession& session, const core::RealtimeAnchor& clock);

  // Encodes and writes one command (network thread).
  [[nodiscard]] Write write(const OrderCommand& cmd) noexcept;
  // write()'s own code for `cmd`, stopped before the send(): the frame is encoded, and the
  // ring slots and queue entry the next order fills are brought into cache; nothing is sent,
  // journaled, logged or counted (OrderGateway::warm).
  void warm(const OrderCommand& cmd) noexcept;
  // Writes what waits in the orders ring, oldest first, until it is empty or the socket is
  // full. Returns true if it took any command.
  bool drainQueued() noexcept;

  // Records a frame's journal entry (direction 0 sent, 1 received); the network thread
  // journals the execution reports it reads through here too, so the journal has one writer.
  void journal(std::uint8_t direction, const std::byte* frame, std::uint16_t length,
               std::uint64_t nowNs) noexcept;
  // Clears the journal-ring-low stop once the ring is half empty again.
  void checkJournalRoom() noexcept;

  // Kernel timestamps (docs/performance.md). The receive stamp of the frame that led to an
  // order is found again by its user-space receive time (cmd.rxNs), through a small table.
  void noteKernelRx(std::uint64_t rxNs, std::uint64_t kernelRxNs) noexcept;
  // Reads the transmit stamps queued on the order socket and completes the orders they
  // belong to; never before an order is written (idle rounds, or after the writes).
  void collectTxStamps(std::uint64_t nowNs) noexcept;
  // The socket is gone: every order waiting for its stamp is recorded without one.
  void releasePendingStamps() noexcept;
  [[nodiscard]] std::size_t pendingStamps() const noexcept { return txPending_.size(); }

  // Per-session figures (the network thread publishes them with its own).
  [[nodiscard]] std::uint64_t ordersSent() const noexcept { return ordersSent_; }
  [[nodiscard]] std::uint64_t cancelsSent() const noexcept { return cancelsSent_; }
  [[nodiscard]] std::uint64_t txStampsMissing() const noexcept { return txStampsMissing_; }
  void resetCounters() noexcept { ordersSent_ = cancelsSent_ = txStampsMissing_ = 0; }

private:
  // write() and warm(), one body: `warm` stops before the first effect. Not inlined into
  // either, so that both run the same instructions.
  [[gnu::noinline]] Write pass(const OrderCommand& cmd, bool warm) noexcept;
  [[nodiscard]] std::uint64_t kernelRxFor(std::uint64_t rxNs) const noexcept;
  void publishLatency(const LatencyRecord& record) noexcept;
  void log(LogEvent::Kind kind, std::uint64_t a = 0, std::uint64_t b = 0, std::int64_t c = 0,
           std::uint64_t d = 0) noexcept;

  SharedState& shared_;
  feed::ExchangeSession& session_;
  const core::RealtimeAnchor& clock_;
  std::uint64_t ordersSent_ = 0;
  std::uint64_t cancelsSent_ = 0;
  std::uint64_t txStampsMissing_ = 0; // orders completed without a transmit stamp
  bool journalRingLow_ = false;
  // The last eighth of the journal ring is kept for execution reports of orders already sent:
  // past that, no new order (docs/session-data.md, "No record lost").
  std::size_t journalReserveSlots_ = 0;

  struct RxStampSlot {
    std::uint64_t rxNs = 0;
    std::uint64_t kernelRxNs = 0;
  };
  static constexpr std::size_t kRxStampSlots = 4096; // > the inbound ring: a pipeline's backlog
  std::unique_ptr<RxStampSlot[]> rxStamps_;
  feed::TxStampQueue<LatencyRecord> txPending_; // orders written, waiting for their stamp
  std::uint32_t stampedUpTo_ = 0;     // stream bytes [0, n) whose transmit stamp has been read
  std::uint32_t lastReadAtBytes_ = 0; // txStreamBytes() at the last read of the error queue
  std::uint64_t lastStampReadNs_ = 0;
  std::uint64_t lastNewBytesNs_ = 0; // when the error queue was first read for the latest bytes
};

} // namespace hft::engine

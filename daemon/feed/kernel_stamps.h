// SPDX-License-Identifier: MIT
// Kernel timestamps (SO_TIMESTAMPING): receive stamps from recvmsg/recvmmsg control data,
// transmit stamps from the socket's error queue, and the queue that matches transmit stamps
// back to the orders they belong to. docs/performance.md, "Kernel timestamps".
#pragma once

#include <time.h> // linux/errqueue.h uses struct timespec without including it

#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace hft::feed {

// What an interface can stamp, from ETHTOOL_GET_TS_INFO.
struct TimestampCaps {
  bool softwareRx = false;
  bool softwareTx = false;
  bool hardwareRx = false; // the NIC stamps received packets (SOF_TIMESTAMPING_RX_HARDWARE)
  bool hardwareTx = false;
  bool rawHardware = false; // it reports them (SOF_TIMESTAMPING_RAW_HARDWARE)
  int phcIndex = -1;
};

// Asks the driver of `interface` (any socket will do for the ioctl). Returns 0 or -errno
// (ENODEV: no such interface; EOPNOTSUPP: the driver does not say).
[[nodiscard]] int queryTimestampCaps(int fd, const char* interface, TimestampCaps& out) noexcept;

// The SO_TIMESTAMPING flags hftd asks for: software receive stamps (and hardware ones when
// `hardware`), and with `transmit` software transmit stamps keyed by OPT_ID, delivered without
// the packet (OPT_TSONLY).
[[nodiscard]] std::uint32_t timestampingFlags(bool transmit, bool hardware) noexcept;
// setsockopt(SO_TIMESTAMPING); 0 or -errno. For TCP, call it on a connected socket: OPT_ID
// keys count from the bytes sent after this call (the first byte sent after it is key 0).
[[nodiscard]] int enableTimestamping(int fd, std::uint32_t flags) noexcept;

// Room for the control data of one received message (SCM_TIMESTAMPING and, on the error
// queue, the sock_extended_err): preallocated per message by the callers.
inline constexpr std::size_t kStampControlBytes = 256;

// The receive stamp in a recvmsg's control data as CLOCK_REALTIME ns: the hardware stamp
// when there is one, else the software one; 0 when the message carries none.
[[nodiscard]] std::uint64_t receiveStampNs(const msghdr& message) noexcept;

// One transmit stamp from the error queue.
struct TxStamp {
  std::uint32_t key = 0; // OPT_ID: for TCP, the offset of the last byte of the send it stamps
  std::uint64_t ns = 0;  // CLOCK_REALTIME ns (software stamp, or hardware when only that)
};

enum class ErrQueueResult : std::uint8_t { Stamp, Other, Empty };

// Parses one error-queue message: Stamp when it is a SCM_TSTAMP_SND timestamp notification
// (other stamp types and real errors are Other).
[[nodiscard]] ErrQueueResult parseTxStamp(const msghdr& message, TxStamp& out) noexcept;

// Reads one message from fd's error queue (MSG_ERRQUEUE | MSG_DONTWAIT) and parses it.
[[nodiscard]] ErrQueueResult readTxStamp(int fd, TxStamp& out) noexcept;

// Orders written and waiting for their transmit stamp, in send order (their keys grow, modulo
// 2^32). Fixed capacity, allocated once; noexcept and allocation-free after that.
template <typename T> class TxStampQueue {
public:
  explicit TxStampQueue(std::size_t capacityPowerOfTwo)
      : mask_(capacityPowerOfTwo - 1), entries_(std::make_unique<Entry[]>(capacityPowerOfTwo)) {}

  [[nodiscard]] bool empty() const noexcept { return head_ == tail_; }
  [[nodiscard]] bool full() const noexcept { return tail_ - head_ == mask_ + 1; }
  [[nodiscard]] std::size_t size() const noexcept { return tail_ - head_; }

  // Queues one item sent at `sentNs` whose last byte has `key`. The caller makes room first
  // (popOldest) when full().
  void push(std::uint32_t key, std::uint64_t sentNs, const T& item) noexcept {
    Entry& e = entries_[tail_++ & mask_];
    e.key = key;
    e.sentNs = sentNs;
    e.item = item;
  }

  // Brings the entry the next push() fills into this core's cache (nothing is queued).
  void prefetchPush() const noexcept { __builtin_prefetch(&entries_[tail_ & mask_], 1, 3); }

  // A stamp for `stamp.key` completes every queued item whose last byte is at or before it:
  // the exact one gets its own stamp; an older one that got none (its bytes were merged into
  // a later segment) gets this later stamp, an upper bound. Stamps older than every queued
  // item (heartbeats, items already completed) change nothing. Returns the items completed.
  template <typename F> std::size_t match(const TxStamp& stamp, F&& complete) noexcept {
    std::size_t n = 0;
    // Signed difference: keys are byte offsets that wrap at 2^32.
    while (!empty() && static_cast<std::int32_t>(entries_[head_ & mask_].key - stamp.key) <= 0) {
      complete(entries_[head_ & mask_].item, stamp.ns);
      ++head_;
      ++n;
    }
    return n;
  }

  // Completes, without a stamp (0), the items sent before `cutoffNs`: a stamp that never came.
  template <typename F> std::size_t expire(std::uint64_t cutoffNs, F&& complete) noexcept {
    std::size_t n = 0;
    while (!empty() && entries_[head_ & mask_].sentNs < cutoffNs) {
      complete(entries_[head_ & mask_].item, 0);
      ++head_;
      ++n;
    }
    return n;
  }

  template <typename F> void popOldest(F&& complete) noexcept {
    if (empty())
      return;
    complete(entries_[head_ & mask_].item, 0);
    ++head_;
  }

  template <typename F> void clear(F&& complete) noexcept {
    while (!empty())
      popOldest(complete);
  }

private:
  struct Entry {
    std::uint32_t key = 0;
    std::uint64_t sentNs = 0;
    T item{};
  };
  std::size_t mask_;
  std::unique_ptr<Entry[]> entries_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

} // namespace hft::feed

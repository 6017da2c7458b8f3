// SPDX-License-Identifier: MIT
// Writes a session's directory: journal, per-order latency samples, histograms, final stats.
// Runs on the housekeeping thread, off the critical cores.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/config/hftd_config.h"
#include "daemon/control/control_target.h"
#include "daemon/engine/events.h"
#include "libhft/core/fd.h"
#include "libhft/core/hdr_log.h"
#include "libhft/core/histogram.h"
#include "libhft/protocol/md_recording.h"

namespace hft::engine {

// The measured stages of the path from market data to order, in order.
enum class Stage : std::uint8_t {
  MdWire,        // exchange's md timestamp -> bytes read (crosses processes: same host clock)
  RxToDecoded,   // bytes read -> frame validated
  DecodedToBook, // -> book updated (includes the hop to the strategy thread)
  BookToDecided, // -> strategy decided and risk passed
  DecidedToSent, // -> written to the socket (includes the hop back to the network thread)
  RxToSent,      // bytes read -> order written: the engine's whole internal latency
  // Kernel timestamps (only orders that have both stamps; docs/performance.md):
  KernelRxToRx,       // kernel receive stamp -> bytes read (wake-up, copy, system call)
  SendToKernelTx,     // send() called -> kernel transmit stamp (the kernel's send path)
  KernelRxToKernelTx, // kernel receive stamp -> kernel transmit stamp: the host's whole latency
};
inline constexpr std::size_t kStageCount = 9;
inline constexpr std::size_t kFirstKernelStage = 6;
inline constexpr std::array<const char*, kStageCount> kStageNames = {
    "md_wire",         "rx_to_decoded",     "decoded_to_book",
    "book_to_decided", "decided_to_sent",   "rx_to_sent",
    "kernel_rx_to_rx", "send_to_kernel_tx", "kernel_rx_to_kernel_tx"};

class SessionRecorder {
public:
  SessionRecorder() = default;
  SessionRecorder(const SessionRecorder&) = delete;
  SessionRecorder& operator=(const SessionRecorder&) = delete;
  ~SessionRecorder();

  // Creates the directory and its files, and claims `journalReserveBytes` of disk for the
  // journal; with `recordMarketData`, market_data.rec too. Throws std::system_error with the
  // path on failure.
  void open(const std::string& directory, config::OnDiskFull onDiskFull = {},
            std::uint64_t journalReserveBytes = 0, bool recordMarketData = false);
  // Writes histograms.json and stats.json, syncs and closes everything.
  void close(const std::string& statsJson);
  [[nodiscard]] bool isOpen() const;
  [[nodiscard]] std::string directory() const;

  void record(const LatencyRecord& record);
  void journal(const JournalEntry& entry);
  // Appends one received frame to market_data.rec (when recorded); a failed write is counted.
  void marketData(const MdRecordingEntry& entry);
  // Pushes buffered journal bytes to the file (one write per batch) and latency rows. A journal
  // write that fails leaves the file at its last whole record and keeps the records in memory
  // for the next flush; failed latency rows are dropped and counted.
  void flush();
  // True while new orders must not be sent: the journal cannot be written, or (stop_trading)
  // any file of the session could not be written since it opened.
  [[nodiscard]] bool ordersMustStop() const;

  // Per-stage latency summaries for the stats.
  [[nodiscard]] std::vector<control::StageLatency> latency() const;
  [[nodiscard]] std::uint64_t journalRecords() const;
  [[nodiscard]] std::uint64_t writeErrors() const;
  struct JournalState {
    std::uint64_t records = 0;     // accepted into the journal: on disk or held in memory
    std::uint64_t unwritten = 0;   // held in memory: the disk had no room for them yet
    std::uint64_t lost = 0;        // never reached journal.bin (memory cap, or closed unwritten)
    std::uint64_t latencyLost = 0; // latency.csv rows dropped on a failed write
    bool diskFull = false;         // a write of this session failed (ENOSPC, EIO...)
    std::uint64_t mdRecordingLost = 0; // market_data.rec frames lost to a failed write
  };
  [[nodiscard]] JournalState journalState() const;
  // Journal records dropped before they reached the recorder (a full ring), for completeness.
  void countLostRecords(std::uint64_t n);

private:
  void flushLocked();
  void flushJournalLocked();
  void flushLatencyLocked();
  void mdRecordingFailedLocked();
  void hlogFailedLocked(int error);
  [[nodiscard]] const char* onDiskFullConsequence() const;
  [[nodiscard]] std::string histogramsJsonLocked() const;
  void writeIntervalsLocked(std::uint64_t endNs);

  static constexpr std::uint64_t kIntervalNs = 1'000'000'000;

  mutable std::mutex mutex_;
  std::string directory_;
  config::OnDiskFull onDiskFull_ = config::OnDiskFull::StopTrading;
  core::UniqueFd journalFd_;
  core::UniqueFd latencyFd_;
  std::vector<std::byte> journalBuffer_;
  std::string latencyBuffer_;
  std::uint64_t journalBytes_ = 0; // journal.bin's size: whole records only
  std::uint64_t latencyBytes_ = 0; // latency.csv's size: whole rows only
  std::uint64_t latencyRows_ = 0;  // rows in latencyBuffer_
  bool journalFault_ = false;      // the last journal write failed: records are held
  bool latencyFault_ = false;
  bool hlogFault_ = false; // a latency.hlog write failed this session (logged once)
  bool diskFull_ = false;  // sticky for the session
  bool memoryCapLogged_ = false;
  std::array<core::Histogram, kStageCount> histograms_;
  // latency.hlog: one HdrHistogram per stage for the current second, keyed by sent time.
  std::string hlogPath_;
  core::HdrLogWriter hlog_;
  std::array<core::HdrHistogram, kStageCount> intervals_;
  std::uint64_t intervalStartNs_ = 0;
  std::uint64_t journalRecords_ = 0;
  std::uint64_t journalUnwritten_ = 0;
  std::uint64_t journalLost_ = 0;
  std::uint64_t latencyLost_ = 0;
  std::unique_ptr<protocol::MdRecordingWriter> mdRecording_; // null: not recorded
  std::uint64_t mdRecordingLost_ = 0;
  std::uint64_t mdHanded_ = 0; // frames given to marketData() this session
  std::uint64_t writeErrors_ = 0;
};

} // namespace hft::engine

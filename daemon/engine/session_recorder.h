// SPDX-License-Identifier: MIT
// Writes a session's directory: journal, per-order latency samples, histograms, final stats.
// Runs on the housekeeping thread, off the critical cores.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/control/control_target.h"
#include "daemon/engine/events.h"
#include "libhft/core/fd.h"
#include "libhft/core/hdr_log.h"
#include "libhft/core/histogram.h"

namespace hft::engine {

// The measured stages of the path from market data to order, in order.
enum class Stage : std::uint8_t {
  MdWire,        // exchange's md timestamp -> bytes read (crosses processes: same host clock)
  RxToDecoded,   // bytes read -> frame validated
  DecodedToBook, // -> book updated (includes the hop to the strategy thread)
  BookToDecided, // -> strategy decided and risk passed
  DecidedToSent, // -> written to the socket (includes the hop back to the network thread)
  RxToSent,      // bytes read -> order written: the engine's whole internal latency
};
inline constexpr std::size_t kStageCount = 6;
inline constexpr std::array<const char*, kStageCount> kStageNames = {
    "md_wire",         "rx_to_decoded",   "decoded_to_book",
    "book_to_decided", "decided_to_sent", "rx_to_sent"};

class SessionRecorder {
public:
  SessionRecorder() = default;
  SessionRecorder(const SessionRecorder&) = delete;
  SessionRecorder& operator=(const SessionRecorder&) = delete;
  ~SessionRecorder();

  // Creates the directory and its files. Throws std::system_error with the path on failure.
  void open(const std::string& directory);
  // Writes histograms.json and stats.json, syncs and closes everything.
  void close(const std::string& statsJson);
  [[nodiscard]] bool isOpen() const;
  [[nodiscard]] std::string directory() const;

  void record(const LatencyRecord& record);
  void journal(const JournalEntry& entry);
  // Pushes buffered journal bytes to the file (one write per batch) and latency rows.
  void flush();

  // Per-stage latency summaries for the stats.
  [[nodiscard]] std::vector<control::StageLatency> latency() const;
  [[nodiscard]] std::uint64_t journalRecords() const;
  [[nodiscard]] std::uint64_t writeErrors() const;

private:
  void flushLocked();
  [[nodiscard]] std::string histogramsJsonLocked() const;
  void writeIntervalsLocked(std::uint64_t endNs);

  static constexpr std::uint64_t kIntervalNs = 1'000'000'000;

  mutable std::mutex mutex_;
  std::string directory_;
  core::UniqueFd journalFd_;
  std::FILE* latencyFile_ = nullptr;
  std::vector<std::byte> journalBuffer_;
  std::array<core::Histogram, kStageCount> histograms_;
  // latency.hlog: one HdrHistogram per stage for the current second, keyed by sent time.
  std::string hlogPath_;
  core::HdrLogWriter hlog_;
  std::array<core::HdrHistogram, kStageCount> intervals_;
  std::uint64_t intervalStartNs_ = 0;
  std::uint64_t journalRecords_ = 0;
  std::uint64_t writeErrors_ = 0;
};

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// Writes a session's directory (docs/session-data.md).
#include "daemon/engine/session_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

#include <spdlog/spdlog.h>

#include "daemon/engine/journal.h"
#include "libhft/core/json.h"

namespace hft::engine {
namespace {

void writeFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  core::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd)
    throw std::system_error(errno, std::generic_category(), "cannot write " + tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::system_error(errno, std::generic_category(), "cannot write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd.get());
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot rename " + tmp);
}

} // namespace

namespace {

// The most journal bytes held in memory while the disk has no room: about 600 000 records.
constexpr std::size_t kMaxHeldJournalBytes = 64u << 20;

// Writes all of `data` at the end of an O_APPEND file; false with errno on failure. `written`
// is how much reached the file before that.
bool writeAll(int fd, const void* data, std::size_t size, std::size_t& written) {
  written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, static_cast<const char*>(data) + written, size - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace

SessionRecorder::~SessionRecorder() = default;

void SessionRecorder::open(const std::string& directory, config::OnDiskFull onDiskFull,
                           std::uint64_t journalReserveBytes, bool recordMarketData) {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec)
    throw std::system_error(ec, "cannot create session directory " + directory);
  const std::string journalPath = directory + "/journal.bin";
  core::UniqueFd fd(
      ::open(journalPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644));
  if (!fd)
    throw std::system_error(errno, std::generic_category(), "cannot create " + journalPath);
  if (journalReserveBytes != 0 &&
      ::fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(journalReserveBytes)) != 0) {
    if (errno != EOPNOTSUPP)
      throw std::system_error(errno, std::generic_category(),
                              "cannot reserve " + std::to_string(journalReserveBytes >> 20) +
                                  " MiB for " + journalPath +
                                  " (free space, or lower [session] journal_reserve_mib)");
    spdlog::warn("{}: the filesystem cannot reserve space (fallocate unsupported); the journal "
                 "has no room set aside for a full disk",
                 journalPath);
  }
  std::size_t written = 0;
  if (!writeAll(fd.get(), kJournalMagic, sizeof(kJournalMagic), written))
    throw std::system_error(errno, std::generic_category(), "cannot write " + journalPath);
  const std::string latencyPath = directory + "/latency.csv";
  core::UniqueFd latency(
      ::open(latencyPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644));
  if (!latency)
    throw std::system_error(errno, std::generic_category(), "cannot create " + latencyPath);
  static constexpr std::string_view kLatencyHeader =
      "cl_ord_id,symbol_id,md_timestamp_ns,rx_ns,decoded_ns,book_ns,decided_ns,sent_ns,"
      "kernel_rx_ns,send_ns,kernel_tx_ns\n";
  if (!writeAll(latency.get(), kLatencyHeader.data(), kLatencyHeader.size(), written))
    throw std::system_error(errno, std::generic_category(), "cannot write " + latencyPath);
  std::unique_ptr<protocol::MdRecordingWriter> mdRecording;
  if (recordMarketData) {
    try {
      mdRecording = std::make_unique<protocol::MdRecordingWriter>(directory + "/market_data.rec");
    } catch (const protocol::MdRecordingError& e) {
      throw std::system_error(std::make_error_code(std::errc::io_error), e.what());
    }
  }
  journalFd_ = std::move(fd);
  latencyFd_ = std::move(latency);
  mdRecording_ = std::move(mdRecording);
  mdRecordingLost_ = mdHanded_ = 0;
  directory_ = directory;
  onDiskFull_ = onDiskFull;
  journalBuffer_.clear();
  journalBuffer_.reserve(1 << 20);
  latencyBuffer_.clear();
  latencyBuffer_.reserve(1 << 16);
  journalBytes_ = sizeof(kJournalMagic);
  latencyBytes_ = kLatencyHeader.size();
  latencyRows_ = 0;
  journalFault_ = latencyFault_ = hlogFault_ = diskFull_ = memoryCapLogged_ = false;
  for (auto& h : histograms_)
    h.reset();
  for (auto& h : intervals_)
    h.reset();
  hlog_.close();
  hlogPath_ = directory + "/latency.hlog";
  intervalStartNs_ = 0;
  journalRecords_ = journalUnwritten_ = journalLost_ = latencyLost_ = 0;
  writeErrors_ = 0;
}

bool SessionRecorder::isOpen() const {
  std::lock_guard lock(mutex_);
  return journalFd_.valid();
}

std::string SessionRecorder::directory() const {
  std::lock_guard lock(mutex_);
  return directory_;
}

void SessionRecorder::record(const LatencyRecord& r) {
  std::lock_guard lock(mutex_);
  auto span = [](std::uint64_t from, std::uint64_t to) { return to >= from ? to - from : 0; };
  const bool hasMdWire = r.mdTimestamp != 0 && r.rxNs >= r.mdTimestamp;
  // A kernel stage needs both of its stamps; 0 means the kernel gave none.
  const bool hasKernelRx = r.kernelRxNs != 0;
  const bool hasKernelTx = r.kernelTxNs != 0 && r.sendNs != 0;
  const std::array<std::uint64_t, kStageCount> v = {hasMdWire ? r.rxNs - r.mdTimestamp : 0,
                                                    span(r.rxNs, r.decodedNs),
                                                    span(r.decodedNs, r.bookNs),
                                                    span(r.bookNs, r.decidedNs),
                                                    span(r.decidedNs, r.sentNs),
                                                    span(r.rxNs, r.sentNs),
                                                    span(r.kernelRxNs, r.rxNs),
                                                    span(r.sendNs, r.kernelTxNs),
                                                    span(r.kernelRxNs, r.kernelTxNs)};
  const std::array<bool, kStageCount> has = {hasMdWire,   true,        true,
                                             true,        true,        true,
                                             hasKernelRx, hasKernelTx, hasKernelRx && hasKernelTx};
  if (!hlogPath_.empty()) {
    // Intervals are whole seconds of the orders' sent times (latency.csv's clock); one closes
    // when the first order of a later second arrives, or at close. A late order joins the open one.
    if (intervalStartNs_ == 0) {
      intervalStartNs_ = r.sentNs - r.sentNs % kIntervalNs;
    } else if (r.sentNs >= intervalStartNs_ + kIntervalNs) {
      writeIntervalsLocked(intervalStartNs_ + kIntervalNs);
      intervalStartNs_ = r.sentNs - r.sentNs % kIntervalNs;
    }
  }
  for (std::size_t i = 0; i < kStageCount; ++i) {
    if (!has[i])
      continue;
    histograms_[i].record(v[i]);
    intervals_[i].record(v[i]);
  }
  if (!latencyFd_)
    return;
  char row[256];
  const int n = std::snprintf(row, sizeof(row), "%lu,%u,%lu,%lu,%lu,%lu,%lu,%lu,%lu,%lu,%lu\n",
                              r.clOrdId, r.symbolId, r.mdTimestamp, r.rxNs, r.decodedNs, r.bookNs,
                              r.decidedNs, r.sentNs, r.kernelRxNs, r.sendNs, r.kernelTxNs);
  if (n > 0 && static_cast<std::size_t>(n) < sizeof(row)) {
    latencyBuffer_.append(row, static_cast<std::size_t>(n));
    ++latencyRows_;
  }
}

void SessionRecorder::journal(const JournalEntry& e) {
  std::lock_guard lock(mutex_);
  if (!journalFd_)
    return;
  if (journalBuffer_.size() >= kMaxHeldJournalBytes) {
    // The disk has had no room for a long time: the journal is no longer complete.
    ++journalLost_;
    if (!memoryCapLogged_) {
      memoryCapLogged_ = true;
      spdlog::critical("session journal {}/journal.bin: {} MiB of records held in memory and "
                       "the disk still has no room: records are now lost (counted in "
                       "journal_lost); free space in the session directory",
                       directory_, kMaxHeldJournalBytes >> 20);
    }
    return;
  }
  encodeJournalRecord(journalBuffer_, e.localNs, e.direction, e.frame, e.length);
  ++journalRecords_;
  ++journalUnwritten_;
}

void SessionRecorder::countLostRecords(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  journalLost_ += n;
}

void SessionRecorder::flush() {
  std::lock_guard lock(mutex_);
  flushLocked();
}

void SessionRecorder::flushLocked() {
  flushJournalLocked();
  flushLatencyLocked();
  if (mdRecording_ && !mdRecording_->failed() && !mdRecording_->flush())
    mdRecordingFailedLocked();
  if (!hlog_.flush())
    hlogFailedLocked(errno);
}

const char* SessionRecorder::onDiskFullConsequence() const {
  return onDiskFull_ == config::OnDiskFull::StopTrading
             ? "; on_disk_full = stop_trading: no new orders this session"
             : "; on_disk_full = keep_trading: trading goes on";
}

void SessionRecorder::hlogFailedLocked(int error) {
  // The histogram log is the first file to reach the disk on some runs (it flushes whole
  // intervals): its failure makes the disk full for the session, so it must say so.
  ++writeErrors_;
  diskFull_ = true;
  if (hlogFault_)
    return;
  hlogFault_ = true;
  spdlog::error("session {}/latency.hlog: write failed: {}; latency intervals are lost while "
                "the disk is full{}",
                directory_, std::strerror(error), onDiskFullConsequence());
}

void SessionRecorder::flushJournalLocked() {
  if (!journalFd_ || journalBuffer_.empty())
    return;
  std::size_t written = 0;
  if (writeAll(journalFd_.get(), journalBuffer_.data(), journalBuffer_.size(), written)) {
    journalBytes_ += journalBuffer_.size();
    journalBuffer_.clear();
    journalUnwritten_ = 0;
    if (journalFault_) {
      journalFault_ = false;
      spdlog::warn("session journal {}/journal.bin: written again, no record lost", directory_);
    }
    return;
  }
  const int error = errno;
  ++writeErrors_;
  diskFull_ = true;
  // Part of a batch may have reached the file: cut it back to the last whole record, so the
  // journal always reads back with every checksum valid, and keep the batch for the next try.
  if (written != 0 && ::ftruncate(journalFd_.get(), static_cast<off_t>(journalBytes_)) != 0)
    spdlog::error("session journal {}/journal.bin: cannot cut a torn write back to {} bytes: "
                  "{}; the reader stops at the torn record",
                  directory_, journalBytes_, std::strerror(errno));
  if (!journalFault_) {
    journalFault_ = true;
    spdlog::error("session journal {}/journal.bin: write failed: {}; {} records ({} bytes) held "
                  "in memory and retried, no new orders until they are written",
                  directory_, std::strerror(error), journalUnwritten_, journalBuffer_.size());
  }
}

void SessionRecorder::flushLatencyLocked() {
  if (!latencyFd_ || latencyBuffer_.empty())
    return;
  std::size_t written = 0;
  if (writeAll(latencyFd_.get(), latencyBuffer_.data(), latencyBuffer_.size(), written)) {
    latencyBytes_ += latencyBuffer_.size();
    latencyBuffer_.clear();
    latencyRows_ = 0;
    latencyFault_ = false;
    return;
  }
  const int error = errno;
  ++writeErrors_;
  diskFull_ = true;
  if (written != 0 && ::ftruncate(latencyFd_.get(), static_cast<off_t>(latencyBytes_)) != 0)
    spdlog::error("session {}/latency.csv: cannot cut a torn write back: {}", directory_,
                  std::strerror(errno));
  if (!latencyFault_) {
    latencyFault_ = true;
    spdlog::error("session {}/latency.csv: write failed: {}; latency samples are lost while "
                  "the disk is full (counted in latency_samples_lost){}",
                  directory_, std::strerror(error), onDiskFullConsequence());
  }
  latencyLost_ += latencyRows_;
  latencyBuffer_.clear();
  latencyRows_ = 0;
}

bool SessionRecorder::ordersMustStop() const {
  std::lock_guard lock(mutex_);
  return journalFault_ || (diskFull_ && onDiskFull_ == config::OnDiskFull::StopTrading);
}

SessionRecorder::JournalState SessionRecorder::journalState() const {
  std::lock_guard lock(mutex_);
  return {journalRecords_, journalUnwritten_, journalLost_,
          latencyLost_,    diskFull_,         mdRecordingLost_};
}

void SessionRecorder::marketData(const MdRecordingEntry& entry) {
  std::lock_guard lock(mutex_);
  if (!mdRecording_)
    return;
  ++mdHanded_;
  if (mdRecording_->failed()) {
    ++mdRecordingLost_;
    return;
  }
  if (!mdRecording_->append(entry.rxNs, std::span(entry.frame, entry.length)))
    mdRecordingFailedLocked();
}

void SessionRecorder::mdRecordingFailedLocked() {
  // The file was cut back to its last good flush: every frame handed since is lost.
  mdRecordingLost_ = mdHanded_ - mdRecording_->flushedRecords();
  ++writeErrors_;
  spdlog::error("{}/market_data.rec: a write failed ({}): the file keeps its first {} frames, the "
                "rest of the session's market data is not recorded (counted in "
                "md_recording_lost); trading goes on",
                directory_, std::strerror(errno), mdRecording_->flushedRecords());
}

void SessionRecorder::writeIntervalsLocked(std::uint64_t endNs) {
  try {
    if (!hlog_.isOpen())
      hlog_.open(hlogPath_, intervalStartNs_);
    for (std::size_t i = 0; i < kStageCount; ++i) {
      if (intervals_[i].count() != 0 &&
          !hlog_.writeInterval(kStageNames[i], intervalStartNs_, endNs, intervals_[i]))
        hlogFailedLocked(errno);
      intervals_[i].reset();
    }
  } catch (const std::exception& e) {
    ++writeErrors_;
    spdlog::error("session {}: latency.hlog: {}", directory_, e.what());
    for (auto& h : intervals_)
      h.reset();
  }
}

std::string SessionRecorder::histogramsJsonLocked() const {
  core::Json stages = core::Json::object();
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto& h = histograms_[i];
    core::Json buckets = core::Json::array();
    h.forEachBucket([&buckets](std::uint64_t low, std::uint64_t high, std::uint64_t count) {
      buckets.push_back(core::Json::array({low, high, count}));
    });
    stages[kStageNames[i]] = core::Json{{"count", h.count()},
                                        {"min", h.min()},
                                        {"max", h.max()},
                                        {"mean", h.mean()},
                                        {"p50", h.percentile(50)},
                                        {"p90", h.percentile(90)},
                                        {"p99", h.percentile(99)},
                                        {"p99_9", h.percentile(99.9)},
                                        {"buckets", std::move(buckets)}};
  }
  return core::dumpJson(core::Json{{"stages", std::move(stages)}}, true) + "\n";
}

void SessionRecorder::close(const std::string& statsJson) {
  std::lock_guard lock(mutex_);
  if (!journalFd_)
    return;
  flushLocked();
  if (mdRecording_) {
    const bool failedBefore = mdRecording_->failed();
    try {
      mdRecording_->close();
    } catch (const protocol::MdRecordingError& e) {
      if (!failedBefore) {
        mdRecordingLost_ = mdHanded_ - mdRecording_->flushedRecords();
        ++writeErrors_;
        spdlog::error("{}", e.what());
      }
    }
    mdRecording_.reset();
  }
  if (journalUnwritten_ != 0) {
    spdlog::error("session journal {}/journal.bin: closed with {} records the disk had no room "
                  "for: they are lost; the file reads back whole up to them",
                  directory_, journalUnwritten_);
    journalLost_ += journalUnwritten_;
    journalUnwritten_ = 0;
    journalBuffer_.clear();
  }
  if (::fsync(journalFd_.get()) != 0)
    ++writeErrors_;
  journalFd_.reset();
  if (latencyFd_ && ::fsync(latencyFd_.get()) != 0)
    ++writeErrors_;
  latencyFd_.reset();
  if (intervalStartNs_ != 0) {
    // The last second, written even if the session stopped part-way through it.
    writeIntervalsLocked(intervalStartNs_ + kIntervalNs);
  }
  hlog_.close();
  hlogPath_.clear();
  writeFileAtomically(directory_ + "/histograms.json", histogramsJsonLocked());
  writeFileAtomically(directory_ + "/stats.json", statsJson);
}

std::vector<control::StageLatency> SessionRecorder::latency() const {
  std::lock_guard lock(mutex_);
  std::vector<control::StageLatency> out;
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto& h = histograms_[i];
    control::StageLatency s;
    s.stage = kStageNames[i];
    s.count = h.count();
    s.min = h.min();
    s.p50 = h.percentile(50);
    s.p90 = h.percentile(90);
    s.p99 = h.percentile(99);
    s.p999 = h.percentile(99.9);
    s.max = h.max();
    s.mean = h.mean();
    out.push_back(s);
  }
  return out;
}

std::uint64_t SessionRecorder::journalRecords() const {
  std::lock_guard lock(mutex_);
  return journalRecords_;
}

std::uint64_t SessionRecorder::writeErrors() const {
  std::lock_guard lock(mutex_);
  return writeErrors_;
}

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// Writes a session's directory (docs/session-data.md).
#include "daemon/engine/session_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <spdlog/spdlog.h>

#include "daemon/engine/journal.h"
#include "libhft/core/json_writer.h"

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

SessionRecorder::~SessionRecorder() {
  if (latencyFile_)
    std::fclose(latencyFile_);
}

void SessionRecorder::open(const std::string& directory) {
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
  if (::write(fd.get(), kJournalMagic, sizeof(kJournalMagic)) !=
      static_cast<ssize_t>(sizeof(kJournalMagic)))
    throw std::system_error(errno, std::generic_category(), "cannot write " + journalPath);
  const std::string latencyPath = directory + "/latency.csv";
  std::FILE* latency = std::fopen(latencyPath.c_str(), "we");
  if (!latency)
    throw std::system_error(errno, std::generic_category(), "cannot create " + latencyPath);
  std::fputs("cl_ord_id,symbol_id,md_timestamp_ns,rx_ns,decoded_ns,book_ns,decided_ns,sent_ns\n",
             latency);
  journalFd_ = std::move(fd);
  latencyFile_ = latency;
  directory_ = directory;
  journalBuffer_.clear();
  journalBuffer_.reserve(1 << 20);
  for (auto& h : histograms_)
    h.reset();
  for (auto& h : intervals_)
    h.reset();
  hlog_.close();
  hlogPath_ = directory + "/latency.hlog";
  intervalStartNs_ = 0;
  journalRecords_ = 0;
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
  const std::array<std::uint64_t, kStageCount> v = {hasMdWire ? r.rxNs - r.mdTimestamp : 0,
                                                    span(r.rxNs, r.decodedNs),
                                                    span(r.decodedNs, r.bookNs),
                                                    span(r.bookNs, r.decidedNs),
                                                    span(r.decidedNs, r.sentNs),
                                                    span(r.rxNs, r.sentNs)};
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
    if (i == 0 && !hasMdWire)
      continue;
    histograms_[i].record(v[i]);
    intervals_[i].record(v[i]);
  }
  if (latencyFile_ &&
      std::fprintf(latencyFile_, "%lu,%u,%lu,%lu,%lu,%lu,%lu,%lu\n", r.clOrdId, r.symbolId,
                   r.mdTimestamp, r.rxNs, r.decodedNs, r.bookNs, r.decidedNs, r.sentNs) < 0)
    ++writeErrors_;
}

void SessionRecorder::journal(const JournalEntry& e) {
  std::lock_guard lock(mutex_);
  if (!journalFd_)
    return;
  encodeJournalRecord(journalBuffer_, e.localNs, e.direction, e.frame, e.length);
  ++journalRecords_;
}

void SessionRecorder::flush() {
  std::lock_guard lock(mutex_);
  flushLocked();
}

void SessionRecorder::flushLocked() {
  if (journalFd_ && !journalBuffer_.empty()) {
    std::size_t done = 0;
    while (done < journalBuffer_.size()) {
      const ssize_t n =
          ::write(journalFd_.get(), journalBuffer_.data() + done, journalBuffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        ++writeErrors_;
        spdlog::error("session journal {}/journal.bin: write failed: {}; records are lost "
                      "until the disk has room",
                      directory_, std::strerror(errno));
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    journalBuffer_.clear();
  }
  if (latencyFile_ && std::fflush(latencyFile_) != 0)
    ++writeErrors_;
  if (!hlog_.flush())
    ++writeErrors_;
}

void SessionRecorder::writeIntervalsLocked(std::uint64_t endNs) {
  try {
    if (!hlog_.isOpen())
      hlog_.open(hlogPath_, intervalStartNs_);
    for (std::size_t i = 0; i < kStageCount; ++i) {
      if (intervals_[i].count() != 0 &&
          !hlog_.writeInterval(kStageNames[i], intervalStartNs_, endNs, intervals_[i]))
        ++writeErrors_;
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
  core::JsonWriter w(true);
  w.beginObject().key("stages").beginObject();
  for (std::size_t i = 0; i < kStageCount; ++i) {
    const auto& h = histograms_[i];
    w.key(kStageNames[i]).beginObject();
    w.field("count", h.count()).field("min", h.min()).field("max", h.max());
    w.field("mean", h.mean());
    w.field("p50", h.percentile(50)).field("p90", h.percentile(90));
    w.field("p99", h.percentile(99)).field("p99_9", h.percentile(99.9));
    w.key("buckets").beginArray();
    h.forEachBucket([&w](std::uint64_t low, std::uint64_t high, std::uint64_t count) {
      w.beginArray().value(low).value(high).value(count).endArray();
    });
    w.endArray().endObject();
  }
  w.endObject().endObject();
  return w.str() + "\n";
}

void SessionRecorder::close(const std::string& statsJson) {
  std::lock_guard lock(mutex_);
  if (!journalFd_)
    return;
  flushLocked();
  ::fsync(journalFd_.get());
  journalFd_.reset();
  if (latencyFile_) {
    std::fflush(latencyFile_);
    ::fsync(fileno(latencyFile_));
    std::fclose(latencyFile_);
    latencyFile_ = nullptr;
  }
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

// SPDX-License-Identifier: MIT
// Market-data recording: a 16-byte file header, then MARKET_DATA frames each behind its receive
// timestamp (docs/exchange-sim.md, "Recording format"). One reader and one writer for every
// program that records or replays.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace hft::protocol {

inline constexpr char kMdRecordingMagic[8] = {'H', 'F', 'T', 'M', 'D', 'R', 'E', 'C'};
inline constexpr std::uint16_t kMdRecordingVersion = 1;
inline constexpr std::size_t kMdRecordingHeaderSize = 16;
inline constexpr std::size_t kMdRecordPrefixSize = 8; // receive timestamp u64, little-endian

// A recording that cannot be opened, read or written; what() names the file, the byte offset
// and the reason.
class MdRecordingError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// One recorded frame: `frame` points into the reader's buffer and stays valid while it lives.
struct MdRecord {
  std::uint64_t receiveNs = 0;        // receiver's CLOCK_REALTIME when the frame arrived
  std::span<const std::byte> frame{}; // the whole MARKET_DATA frame, header included
};

// Appends records to a new file (truncating an existing one). append() is cheap: it copies
// into stdio's buffer; errors surface at append() or close() as false / an exception.
class MdRecordingWriter {
public:
  explicit MdRecordingWriter(const std::string& path); // throws MdRecordingError
  MdRecordingWriter(const MdRecordingWriter&) = delete;
  MdRecordingWriter& operator=(const MdRecordingWriter&) = delete;
  ~MdRecordingWriter();

  // `frame` is one whole frame (msg_length bytes); false when the write failed.
  [[nodiscard]] bool append(std::uint64_t receiveNs, std::span<const std::byte> frame) noexcept;
  // Pushes buffered records to the file; false when that failed. After any failure the file is
  // cut back to the records of the last flush that succeeded (whole records only) and nothing
  // more is written.
  [[nodiscard]] bool flush() noexcept;
  // Flushes and closes; throws MdRecordingError when the data did not reach the file.
  void close();
  [[nodiscard]] std::uint64_t records() const noexcept { return records_; }
  // Records known to be in the file: those before the last flush that succeeded.
  [[nodiscard]] std::uint64_t flushedRecords() const noexcept { return flushedRecords_; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  // After a failure: true when the file could not be cut back to its last flush either, so
  // it may end in a torn record (a reader reports and stops there).
  [[nodiscard]] bool tornTail() const noexcept { return tornTail_; }

private:
  struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  void fail() noexcept;

  std::uint64_t records_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t flushedRecords_ = 0;
  std::uint64_t flushedBytes_ = 0;
  bool failed_ = false;
  bool tornTail_ = false;
};

// Reads and checks a whole recording at construction, so a bad file fails before any replay.
class MdRecordingReader {
public:
  explicit MdRecordingReader(const std::string& path); // throws MdRecordingError
  // Parses bytes already in memory; `name` appears in error messages.
  MdRecordingReader(std::vector<std::byte> bytes, const std::string& name);
  // Records point into bytes_: a copy would point into the original; a move keeps the buffer.
  MdRecordingReader(const MdRecordingReader&) = delete;
  MdRecordingReader& operator=(const MdRecordingReader&) = delete;
  MdRecordingReader(MdRecordingReader&&) noexcept = default;
  MdRecordingReader& operator=(MdRecordingReader&&) noexcept = default;

  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }
  [[nodiscard]] const MdRecord& operator[](std::size_t i) const noexcept { return records_[i]; }
  [[nodiscard]] std::uint16_t version() const noexcept { return version_; }

private:
  void parse(const std::string& name);

  std::vector<std::byte> bytes_;
  std::vector<MdRecord> records_;
  std::uint16_t version_ = 0;
};

} // namespace hft::protocol

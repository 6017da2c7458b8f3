// SPDX-License-Identifier: MIT
// Market-data recording reader and writer.
#include "libhft/protocol/md_recording.h"

#include <stdio_ext.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "libhft/protocol/codec.h"
#include "libhft/protocol/wire.h"

namespace hft::protocol {

namespace {

#pragma pack(push, 1)
struct FileHeader {
  char magic[8];
  std::uint16_t version;
  std::uint16_t headerSize;
  std::uint32_t reserved;
};
#pragma pack(pop)
static_assert(sizeof(FileHeader) == kMdRecordingHeaderSize);

[[noreturn]] void fail(const std::string& name, std::size_t offset, const std::string& why) {
  throw MdRecordingError(name + ": offset " + std::to_string(offset) + ": " + why);
}

} // namespace

MdRecordingWriter::MdRecordingWriter(const std::string& path) : path_(path) {
  file_.reset(std::fopen(path.c_str(), "wb"));
  if (!file_)
    throw MdRecordingError(path + ": cannot create the recording: " + std::strerror(errno));
  FileHeader h{};
  std::memcpy(h.magic, kMdRecordingMagic, sizeof(h.magic));
  h.version = kMdRecordingVersion;
  h.headerSize = kMdRecordingHeaderSize;
  if (std::fwrite(&h, sizeof(h), 1, file_.get()) != 1)
    throw MdRecordingError(path + ": cannot write the recording header: " + std::strerror(errno));
  bytes_ = sizeof(h); // flushedBytes_ stays 0: a failure before the first flush empties the file
}

void MdRecordingWriter::fail() noexcept {
  const int err = errno;
  failed_ = true;
  // Drop what stdio still holds and cut off a torn record: the file stays readable.
  __fpurge(file_.get());
  // If even the cut fails, the file may end in a torn record: tornTail() says so.
  tornTail_ = ::ftruncate(::fileno(file_.get()), static_cast<off_t>(flushedBytes_)) != 0;
  errno = err;
}

bool MdRecordingWriter::flush() noexcept {
  if (!file_ || failed_)
    return false;
  if (std::fflush(file_.get()) != 0) {
    fail();
    return false;
  }
  flushedRecords_ = records_;
  flushedBytes_ = bytes_;
  return true;
}

MdRecordingWriter::~MdRecordingWriter() = default;

bool MdRecordingWriter::append(std::uint64_t receiveNs, std::span<const std::byte> frame) noexcept {
  if (!file_ || failed_)
    return false;
  if (std::fwrite(&receiveNs, sizeof(receiveNs), 1, file_.get()) != 1 ||
      std::fwrite(frame.data(), 1, frame.size(), file_.get()) != frame.size()) {
    fail();
    return false;
  }
  ++records_;
  bytes_ += sizeof(receiveNs) + frame.size();
  return true;
}

void MdRecordingWriter::close() {
  if (!file_)
    return;
  const bool flushed = flush();
  const int err = errno;
  const bool closed = std::fclose(file_.release()) == 0;
  if (failed_ || !flushed || !closed)
    throw MdRecordingError(path_ + ": the recording is incomplete: " + std::strerror(err));
}

MdRecordingReader::MdRecordingReader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw MdRecordingError(path + ": cannot open the recording: " + std::strerror(errno));
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw MdRecordingError(path + ": cannot read the recording: " + std::strerror(errno));
  bytes_.resize(raw.size());
  std::memcpy(bytes_.data(), raw.data(), raw.size());
  parse(path);
}

MdRecordingReader::MdRecordingReader(std::vector<std::byte> bytes, const std::string& name)
    : bytes_(std::move(bytes)) {
  parse(name);
}

void MdRecordingReader::parse(const std::string& name) {
  if (bytes_.size() < sizeof(FileHeader))
    fail(name, 0,
         "truncated file header (" + std::to_string(bytes_.size()) +
             " bytes, need 16): not a market-data recording");
  FileHeader h;
  std::memcpy(&h, bytes_.data(), sizeof(h));
  if (std::memcmp(h.magic, kMdRecordingMagic, sizeof(h.magic)) != 0)
    fail(name, 0, "bad magic (expected \"HFTMDREC\"): not a market-data recording");
  if (h.version != kMdRecordingVersion)
    fail(name, 8,
         "unsupported recording version " + std::to_string(h.version) +
             " (this build reads version 1)");
  if (h.headerSize < sizeof(FileHeader) || h.headerSize > bytes_.size())
    fail(name, 10, "bad header size " + std::to_string(h.headerSize));
  version_ = h.version;

  std::size_t at = h.headerSize;
  while (at < bytes_.size()) {
    const std::size_t left = bytes_.size() - at;
    if (left < kMdRecordPrefixSize + kHeaderSize)
      fail(name, at, "truncated record (" + std::to_string(left) + " bytes left)");
    MdRecord r;
    std::memcpy(&r.receiveNs, bytes_.data() + at, sizeof(r.receiveNs));
    Header fh;
    std::memcpy(&fh, bytes_.data() + at + kMdRecordPrefixSize, sizeof(fh));
    if (fh.msgLength > left - kMdRecordPrefixSize)
      fail(name, at,
           "truncated frame (msg_length " + std::to_string(fh.msgLength) + ", " +
               std::to_string(left - kMdRecordPrefixSize) + " bytes left)");
    const std::span<const std::byte> frame(bytes_.data() + at + kMdRecordPrefixSize, fh.msgLength);
    if (const FrameError e = checkFrame(frame); e != FrameError::None)
      fail(name, at, "malformed frame: " + std::string(describe(e)));
    if (fh.msgType != static_cast<std::uint16_t>(MsgType::MarketData))
      fail(name, at, "frame of type " + std::to_string(fh.msgType) + " is not MARKET_DATA");
    const FrameView view{frame.data(), fh.msgLength, fh.msgType};
    if (const FrameError e = checkMarketDataContent(view); e != FrameError::None)
      fail(name, at, "invalid MARKET_DATA: " + std::string(describe(e)));
    r.frame = frame;
    records_.push_back(r);
    at += kMdRecordPrefixSize + fh.msgLength;
  }
}

} // namespace hft::protocol

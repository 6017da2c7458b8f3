// SPDX-License-Identifier: MIT
// The session journal's record format and reader.
#include "daemon/engine/journal.h"

#include <cstring>
#include <fstream>
#include <iterator>

#include "libhft/core/crc32.h"

namespace hft::engine {

void encodeJournalRecord(std::vector<std::byte>& out, std::uint64_t localNs, std::uint8_t direction,
                         const std::byte* frame, std::uint16_t length) {
  const std::uint32_t payloadLength = static_cast<std::uint32_t>(kJournalPayloadHead + length);
  const std::size_t at = out.size();
  out.resize(at + kJournalRecordHead + payloadLength);
  std::byte* p = out.data() + at;
  std::byte* payload = p + kJournalRecordHead;
  std::memcpy(payload, &localNs, 8);
  payload[8] = std::byte{direction};
  payload[9] = std::byte{0};
  std::memcpy(payload + 10, &length, 2);
  std::memcpy(payload + kJournalPayloadHead, frame, length);
  const std::uint32_t crc = core::crc32(payload, payloadLength);
  std::memcpy(p, &payloadLength, 4);
  std::memcpy(p + 4, &crc, 4);
}

JournalReadResult readJournal(const std::string& path) {
  JournalReadResult result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.error = "cannot open " + path;
    return result;
  }
  const std::vector<char> data((std::istreambuf_iterator<char>(in)), {});
  if (data.size() < sizeof(kJournalMagic) ||
      std::memcmp(data.data(), kJournalMagic, sizeof(kJournalMagic)) != 0) {
    result.error = path + ": not a journal (no HFTJRNL1 header)";
    return result;
  }
  std::size_t pos = sizeof(kJournalMagic);
  result.validBytes = pos;
  while (pos < data.size()) {
    if (data.size() - pos < kJournalRecordHead) {
      result.error = "torn record header at byte " + std::to_string(pos);
      break;
    }
    std::uint32_t length, crc;
    std::memcpy(&length, data.data() + pos, 4);
    std::memcpy(&crc, data.data() + pos + 4, 4);
    if (length < kJournalPayloadHead || length > 64 * 1024 ||
        data.size() - pos - kJournalRecordHead < length) {
      result.error = "torn or corrupt record at byte " + std::to_string(pos);
      break;
    }
    const char* payload = data.data() + pos + kJournalRecordHead;
    if (core::crc32(payload, length) != crc) {
      result.error = "checksum mismatch at byte " + std::to_string(pos);
      break;
    }
    JournalRecord record;
    std::memcpy(&record.localNs, payload, 8);
    record.direction = static_cast<std::uint8_t>(payload[8]);
    std::uint16_t frameLength;
    std::memcpy(&frameLength, payload + 10, 2);
    if (frameLength != length - kJournalPayloadHead) {
      result.error = "frame length disagrees with record length at byte " + std::to_string(pos);
      break;
    }
    record.frame.resize(frameLength);
    std::memcpy(record.frame.data(), payload + kJournalPayloadHead, frameLength);
    result.records.push_back(std::move(record));
    pos += kJournalRecordHead + length;
    result.validBytes = pos;
  }
  result.trailingBytes = data.size() - result.validBytes;
  return result;
}

} // namespace hft::engine

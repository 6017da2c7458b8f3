// SPDX-License-Identifier: MIT
// The session journal: an append-only file of every order sent and every execution report
// received, each record checksummed (format in docs/session-data.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hft::engine {

// File header: 8 bytes "HFTJRNL1".
inline constexpr char kJournalMagic[8] = {'H', 'F', 'T', 'J', 'R', 'N', 'L', '1'};

// Record: u32 payload length, u32 CRC-32 of the payload, then the payload:
//   u64 local CLOCK_REALTIME ns, u8 direction (0 sent, 1 received), u8 reserved,
//   u16 frame length, the frame's bytes exactly as on the wire.
inline constexpr std::size_t kJournalRecordHead = 8;
inline constexpr std::size_t kJournalPayloadHead = 12;

// Appends one record's bytes to `out`.
void encodeJournalRecord(std::vector<std::byte>& out, std::uint64_t localNs, std::uint8_t direction,
                         const std::byte* frame, std::uint16_t length);

struct JournalRecord {
  std::uint64_t localNs = 0;
  std::uint8_t direction = 0;
  std::vector<std::byte> frame;
};

struct JournalReadResult {
  std::vector<JournalRecord> records;
  std::size_t validBytes = 0;    // through the last good record
  std::size_t trailingBytes = 0; // a torn or corrupt tail after it (a crash mid-write)
  std::string error;             // "" when the file reads back whole
};

// Reads a journal back, stopping at the first record whose length or checksum is wrong.
[[nodiscard]] JournalReadResult readJournal(const std::string& path);

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// The session journal reads back record for record, and stops cleanly at a torn tail.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/engine/journal.h"
#include "daemon/engine/session_recorder.h"
#include "libhft/core/crc32.h"
#include "libhft/protocol/codec.h"
#include "tests/unit/temp_dir.h"

using namespace hft;

namespace {

engine::JournalEntry orderEntry(std::uint64_t clOrdId) {
  protocol::NewOrder order{};
  protocol::stampHeader(order.header, protocol::MsgType::NewOrder, sizeof(order), 1, 2);
  order.clOrdId = clOrdId;
  order.qty = 10;
  engine::JournalEntry e{};
  e.localNs = 1000 + clOrdId;
  e.direction = 0;
  e.length = sizeof(order);
  std::memcpy(e.frame, &order, sizeof(order));
  return e;
}

} // namespace

TEST_CASE("crc32: matches the zlib value Python's zlib.crc32 gives") {
  CHECK(core::crc32("123456789", 9) == 0xCBF43926U);
  CHECK(core::crc32("", 0) == 0U);
  // Continued from a running value, as a record's CRC would be over two buffers.
  CHECK(core::crc32("56789", 5, core::crc32("1234", 4)) == 0xCBF43926U);
}

TEST_CASE("journal: every record written reads back with its frame") {
  const hft::test::TempDir dir("hft-journal");
  const std::string session = (dir.path / "s1").string();
  engine::SessionRecorder recorder;
  recorder.open(session);
  for (std::uint64_t id = 1; id <= 100; ++id)
    recorder.journal(orderEntry(id));
  recorder.flush();
  // Read back before close(): what a SIGKILL would leave behind.
  const auto live = engine::readJournal(session + "/journal.bin");
  CHECK(live.error.empty());
  REQUIRE(live.records.size() == 100);
  recorder.close("{}\n");
  const auto result = engine::readJournal(session + "/journal.bin");
  REQUIRE(result.records.size() == 100);
  CHECK(result.trailingBytes == 0);
  const auto& last = result.records.back();
  CHECK(last.localNs == 1100);
  protocol::NewOrder order;
  REQUIRE(last.frame.size() == sizeof(order));
  std::memcpy(&order, last.frame.data(), sizeof(order));
  CHECK(order.clOrdId == 100);
  CHECK(std::filesystem::exists(session + "/stats.json"));
  CHECK(std::filesystem::exists(session + "/histograms.json"));
  CHECK(std::filesystem::exists(session + "/latency.csv"));
}

TEST_CASE("journal: a torn last record is reported and the rest reads back") {
  const hft::test::TempDir dir("hft-journal");
  const std::string session = (dir.path / "s2").string();
  engine::SessionRecorder recorder;
  recorder.open(session);
  for (std::uint64_t id = 1; id <= 10; ++id)
    recorder.journal(orderEntry(id));
  recorder.close("{}\n");
  const std::string path = session + "/journal.bin";
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 5); // a crash in the middle of the last write
  const auto result = engine::readJournal(path);
  CHECK(result.records.size() == 9);
  CHECK_FALSE(result.error.empty());
  CHECK(result.trailingBytes > 0);
}

TEST_CASE("journal: a flipped bit fails the checksum of that record") {
  const hft::test::TempDir dir("hft-journal");
  const std::string session = (dir.path / "s3").string();
  engine::SessionRecorder recorder;
  recorder.open(session);
  for (std::uint64_t id = 1; id <= 3; ++id)
    recorder.journal(orderEntry(id));
  recorder.close("{}\n");
  const std::string path = session + "/journal.bin";
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(8 + 8 + 20); // inside the first record's payload
  f.put('\x7f');
  f.close();
  const auto result = engine::readJournal(path);
  CHECK(result.records.empty());
  CHECK(result.error.find("checksum") != std::string::npos);
}

TEST_CASE("recorder: latency stages come from the timestamps of each order") {
  const hft::test::TempDir dir("hft-journal");
  engine::SessionRecorder recorder;
  recorder.open((dir.path / "s4").string());
  for (std::uint64_t i = 1; i <= 100; ++i)
    recorder.record({i, 1, 1000, 2000, 2000 + i, 2100 + i, 2200 + i, 2300 + 2 * i});
  const auto stages = recorder.latency();
  REQUIRE(stages.size() == engine::kStageCount);
  CHECK(stages[0].stage == std::string("md_wire"));
  CHECK(stages[0].p50 == 1000);
  CHECK(stages[1].max == 100); // rx -> decoded: i
  CHECK(stages[2].p50 == 100); // decoded -> book: always 100
  CHECK(stages[5].max == 500); // rx -> sent: 300 + 2i
  recorder.close("{}\n");
  std::ifstream csv(dir.path / "s4" / "latency.csv");
  std::string header, first;
  std::getline(csv, header);
  std::getline(csv, first);
  CHECK(header == "cl_ord_id,symbol_id,md_timestamp_ns,rx_ns,decoded_ns,book_ns,decided_ns,"
                  "sent_ns,kernel_rx_ns,send_ns,kernel_tx_ns");
  CHECK(first == "1,1,1000,2000,2001,2101,2201,2302,0,0,0");
  // No kernel stamps: the kernel stages stay empty rather than count zeros.
  for (std::size_t i = engine::kFirstKernelStage; i < engine::kStageCount; ++i)
    CHECK(stages[i].count == 0);
}

TEST_CASE("recorder: the kernel stages need both of their stamps") {
  const hft::test::TempDir dir("hft-journal");
  engine::SessionRecorder recorder;
  recorder.open((dir.path / "s5").string());
  engine::LatencyRecord both{1, 1, 1000, 2000, 2010, 2020, 2030, 2500};
  both.kernelRxNs = 1900;
  both.sendNs = 2400;
  both.kernelTxNs = 2450;
  recorder.record(both);
  engine::LatencyRecord rxOnly = both;
  rxOnly.clOrdId = 2;
  rxOnly.kernelTxNs = 0; // the transmit stamp never came
  recorder.record(rxOnly);
  const auto stages = recorder.latency();
  CHECK(stages[engine::kFirstKernelStage].stage == std::string("kernel_rx_to_rx"));
  CHECK(stages[engine::kFirstKernelStage].count == 2);
  CHECK(stages[engine::kFirstKernelStage].max == 100);
  CHECK(stages[engine::kFirstKernelStage + 1].stage == std::string("send_to_kernel_tx"));
  CHECK(stages[engine::kFirstKernelStage + 1].count == 1);
  CHECK(stages[engine::kFirstKernelStage + 1].max == 50);
  CHECK(stages[engine::kFirstKernelStage + 2].stage == std::string("kernel_rx_to_kernel_tx"));
  CHECK(stages[engine::kFirstKernelStage + 2].count == 1);
  CHECK(stages[engine::kFirstKernelStage + 2].max == 550);
  recorder.close("{}\n");
  std::ifstream csv(dir.path / "s5" / "latency.csv");
  std::string header, first, second;
  std::getline(csv, header);
  std::getline(csv, first);
  std::getline(csv, second);
  CHECK(first == "1,1,1000,2000,2010,2020,2030,2500,1900,2400,2450");
  CHECK(second == "2,1,1000,2000,2010,2020,2030,2500,1900,2400,0");
}

TEST_CASE("recorder: a session directory that cannot be created is a clear error") {
  engine::SessionRecorder recorder;
  CHECK_THROWS_WITH_AS(recorder.open("/proc/hft-cannot-exist/s"),
                       doctest::Contains("/proc/hft-cannot-exist/s"), std::system_error);
}

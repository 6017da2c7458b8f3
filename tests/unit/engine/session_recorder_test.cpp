// SPDX-License-Identifier: MIT
// SessionRecorder's market_data.rec: what the housekeeping thread is handed reads back whole.
#include "daemon/engine/session_recorder.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "libhft/protocol/codec.h"
#include "libhft/protocol/md_recording.h"
#include "tests/unit/temp_dir.h"

using namespace hft;

namespace {

engine::MdRecordingEntry entry(std::uint32_t seq, std::uint64_t rxNs, std::int64_t bid) {
  const std::array<protocol::MdEntry, 2> levels{
      protocol::MdEntry{bid, 10, static_cast<std::uint8_t>(protocol::MdSide::Bid), 0, 0},
      protocol::MdEntry{bid + 100, 20, static_cast<std::uint8_t>(protocol::MdSide::Ask), 0, 0}};
  engine::MdRecordingEntry e{};
  e.rxNs = rxNs;
  e.length =
      static_cast<std::uint16_t>(protocol::encodeMarketData(e.frame, seq, rxNs - 500, 1, levels));
  return e;
}

} // namespace

TEST_CASE("SessionRecorder: market data handed to it reads back as a replayable recording") {
  test::TempDir dir("session_recorder");
  const std::string sdir = (dir.path / "s1").string();
  engine::SessionRecorder recorder;
  recorder.open(sdir, {}, 0, true);
  const std::array<engine::MdRecordingEntry, 3> sent{
      entry(1, 1'000'000, 10'000), entry(2, 2'000'000, 10'100), entry(3, 3'000'000, 9'900)};
  for (const auto& e : sent)
    recorder.marketData(e);
  recorder.close("{}\n");
  CHECK(recorder.journalState().mdRecordingLost == 0);

  const protocol::MdRecordingReader reader(sdir + "/market_data.rec");
  REQUIRE(reader.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CHECK(reader[i].receiveNs == sent[i].rxNs);
    REQUIRE(reader[i].frame.size() == sent[i].length);
    CHECK(std::memcmp(reader[i].frame.data(), sent[i].frame, sent[i].length) == 0);
  }
}

TEST_CASE("SessionRecorder: with record_market_data off there is no market_data.rec") {
  test::TempDir dir("session_recorder");
  const std::string sdir = (dir.path / "s1").string();
  engine::SessionRecorder recorder;
  recorder.open(sdir, {}, 0, false);
  recorder.marketData(entry(1, 1'000'000, 10'000));
  recorder.close("{}\n");
  CHECK_FALSE(std::filesystem::exists(sdir + "/market_data.rec"));
  CHECK(std::filesystem::exists(sdir + "/journal.bin"));
}

TEST_CASE("SessionRecorder: a market-data write that fails is counted, not thrown") {
  if (!std::filesystem::exists("/dev/full"))
    return;
  test::TempDir dir("session_recorder");
  const std::string sdir = (dir.path / "s1").string();
  std::filesystem::create_directories(sdir);
  // market_data.rec is a link to /dev/full: every write fails with ENOSPC.
  std::filesystem::create_symlink("/dev/full", sdir + "/market_data.rec");
  engine::SessionRecorder recorder;
  recorder.open(sdir, {}, 0, true);
  // stdio buffers; enough frames to make it write.
  std::uint64_t handed = 0;
  for (std::uint32_t i = 1; i <= 2000; ++i, ++handed)
    recorder.marketData(entry(i, 1'000'000 + i, 10'000));
  recorder.close("{}\n");
  // /dev/full holds nothing: every frame handed over is lost, and counted.
  CHECK(recorder.journalState().mdRecordingLost == handed);
  CHECK(recorder.writeErrors() == 1);
}

TEST_CASE("SessionRecorder: a latency.hlog write that fails makes the disk full, and says so") {
  if (!std::filesystem::exists("/dev/full"))
    return;
  test::TempDir dir("session_recorder");
  const std::string sdir = (dir.path / "s1").string();
  std::filesystem::create_directories(sdir);
  // latency.hlog is the only file on a full disk: it may be the first to fail, and then it is
  // the only evidence of why new orders stopped.
  std::filesystem::create_symlink("/dev/full", sdir + "/latency.hlog");
  const auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  spdlog::default_logger()->sinks().push_back(sink);
  engine::SessionRecorder recorder;
  recorder.open(sdir, config::OnDiskFull::StopTrading, 0, false);
  CHECK_FALSE(recorder.ordersMustStop());
  // An order in a later second closes the interval; the flush writes it to /dev/full.
  // Each later second closes one more, and each flush fails again.
  for (const std::uint64_t sent : {5'000'000'000ULL, 6'200'000'000ULL, 7'400'000'000ULL}) {
    engine::LatencyRecord r{};
    r.clOrdId = sent;
    r.rxNs = sent - 900;
    r.decodedNs = sent - 700;
    r.bookNs = sent - 500;
    r.decidedNs = sent - 300;
    r.sentNs = sent;
    recorder.record(r);
    recorder.flush();
  }
  spdlog::default_logger()->sinks().pop_back();
  CHECK(recorder.journalState().diskFull);
  CHECK(recorder.ordersMustStop());
  CHECK(recorder.writeErrors() == 2);
  const auto lines = sink->last_formatted();
  std::size_t said = 0;
  for (const auto& line : lines)
    if (line.find("latency.hlog: write failed: No space left on device") != std::string::npos) {
      ++said;
      CHECK(line.find("stop_trading") != std::string::npos);
    }
  CHECK(said == 1); // counted each time, logged once
  recorder.close("{}\n");
}

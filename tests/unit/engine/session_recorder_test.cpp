// SPDX-License-Identifier: MIT
// SessionRecorder's market_data.rec: what the housekeeping thread is handed reads back whole.
#include "daemon/engine/session_recorder.h"

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <filesystem>
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

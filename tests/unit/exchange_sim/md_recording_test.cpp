// SPDX-License-Identifier: MIT
// The market-data recording: round trip through a file, and clear errors on bad files.
#include "libhft/protocol/md_recording.h"

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "libhft/protocol/codec.h"
#include "tests/unit/temp_dir.h"

using namespace hft::protocol;

namespace {

std::vector<std::byte> mdFrame(std::uint32_t seq, std::uint64_t ts, std::int64_t bid) {
  const std::array<MdEntry, 2> entries{
      MdEntry{bid, 10, static_cast<std::uint8_t>(MdSide::Bid), 0, 0},
      MdEntry{bid + 100, 20, static_cast<std::uint8_t>(MdSide::Ask), 0, 0}};
  std::vector<std::byte> out(marketDataSize(entries.size()));
  out.resize(encodeMarketData(out.data(), seq, ts, 1, entries));
  return out;
}

std::vector<std::byte> fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

std::string errorOf(std::vector<std::byte> bytes) {
  try {
    MdRecordingReader r(std::move(bytes), "rec.bin");
  } catch (const MdRecordingError& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("MdRecording: frames and receive timestamps survive a round trip") {
  hft::test::TempDir dir("md_recording");
  const std::string path = dir.path.string() + "/rec.bin";
  const auto f1 = mdFrame(1, 111, 1'000'000);
  const auto f2 = mdFrame(2, 222, 1'000'100);
  {
    MdRecordingWriter w(path);
    CHECK(w.append(1000, f1));
    CHECK(w.append(2000, f2));
    CHECK(w.records() == 2);
    w.close();
  }
  MdRecordingReader r(path);
  REQUIRE(r.size() == 2);
  CHECK(r.version() == 1);
  CHECK(r[0].receiveNs == 1000);
  CHECK(r[1].receiveNs == 2000);
  CHECK(std::equal(r[0].frame.begin(), r[0].frame.end(), f1.begin(), f1.end()));
  CHECK(std::equal(r[1].frame.begin(), r[1].frame.end(), f2.begin(), f2.end()));
  // The file is exactly header + (8 + frame) per record.
  CHECK(fileBytes(path).size() == 16 + 8 + f1.size() + 8 + f2.size());
}

TEST_CASE("MdRecording: an empty recording has a header and no records") {
  hft::test::TempDir dir("md_recording");
  const std::string path = dir.path.string() + "/empty.bin";
  MdRecordingWriter(path).close();
  CHECK(MdRecordingReader(path).size() == 0);
}

TEST_CASE("MdRecording: bad magic, bad version and truncation are clear errors") {
  hft::test::TempDir dir("md_recording");
  const std::string path = dir.path.string() + "/rec.bin";
  {
    MdRecordingWriter w(path);
    CHECK(w.append(1000, mdFrame(1, 111, 1'000'000)));
    w.close();
  }
  const auto good = fileBytes(path);

  auto badMagic = good;
  badMagic[0] = std::byte{'X'};
  CHECK(errorOf(badMagic).find("bad magic") != std::string::npos);

  auto badVersion = good;
  badVersion[8] = std::byte{7};
  CHECK(errorOf(badVersion).find("unsupported recording version 7") != std::string::npos);

  CHECK(errorOf(std::vector<std::byte>(good.begin(), good.begin() + 10))
            .find("truncated file header") != std::string::npos);
  // Cut inside the frame: the message names the record's offset.
  const std::string cut = errorOf(std::vector<std::byte>(good.begin(), good.end() - 5));
  CHECK(cut.find("rec.bin: offset 16: truncated frame") != std::string::npos);
  // Cut inside the timestamp prefix.
  CHECK(errorOf(std::vector<std::byte>(good.begin(), good.begin() + 20)).find("truncated record") !=
        std::string::npos);

  auto notMd = good;
  notMd[16 + 8 + 2] = std::byte{7}; // msg_type HEARTBEAT with a MARKET_DATA length
  CHECK(errorOf(notMd).find("offset 16") != std::string::npos);

  CHECK_THROWS_AS(MdRecordingReader(dir.path.string() + "/missing.bin"), MdRecordingError);
}

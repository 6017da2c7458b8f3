// SPDX-License-Identifier: MIT
// HdrHistogram V2 encoding, pinned byte for byte against hand-computed cases.
#include <zlib.h>

#include <doctest/doctest.h>

#include "libhft/core/hdr_log.h"

using hft::core::HdrHistogram;

namespace {

std::vector<std::uint8_t> header(std::uint32_t payload) {
  std::vector<std::uint8_t> h = {0x1c, 0x84, 0x93, 0x03};
  for (int s = 24; s >= 0; s -= 8)
    h.push_back(static_cast<std::uint8_t>(payload >> s));
  const std::uint8_t rest[] = {0,    0,    0,    0,                            // index offset
                               0,    0,    0,    3,                            // digits
                               0,    0,    0,    0,    0,    0,    0,    1,    // lowest
                               0,    0,    0x03, 0x46, 0x30, 0xb8, 0xa0, 0x00, // 3.6e12
                               0x3f, 0xf0, 0,    0,    0,    0,    0,    0};   // 1.0
  h.insert(h.end(), std::begin(rest), std::end(rest));
  return h;
}

} // namespace

TEST_CASE("HdrHistogram: the standard 3-digit layout: exact below 2048, then 1024 per bucket") {
  CHECK(HdrHistogram::indexOf(1000) == 1000);
  CHECK(HdrHistogram::indexOf(2047) == 2047);
  CHECK(HdrHistogram::indexOf(2048) == 2048);
  CHECK(HdrHistogram::indexOf(2049) == 2048); // 2048..2049 share a sub-bucket
  CHECK(HdrHistogram::indexOf(4096) == 3072);
  CHECK(HdrHistogram::indexOf(5000) == 3298); // bucket 2, sub-bucket 5000 >> 2 = 1250
}

TEST_CASE("HdrHistogram: values 1..1000 encode as a single zero then a thousand counts of 1") {
  HdrHistogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v)
    h.record(v);
  std::vector<std::uint8_t> want = header(1001);
  want.push_back(0x00);                // index 0: one zero is written as a count of 0
  want.insert(want.end(), 1000, 0x02); // ZigZag(1) = 2
  CHECK(h.encode() == want);
}

TEST_CASE("HdrHistogram: a zero run and a large count use multi-byte ZigZag LEB128") {
  HdrHistogram h;
  for (int i = 0; i < 300; ++i)
    h.record(5000);
  // 3298 zeros: ZigZag(-3298) = 6595 = 0xC3 0x33; then ZigZag(300) = 600 = 0xD8 0x04.
  std::vector<std::uint8_t> want = header(4);
  want.insert(want.end(), {0xc3, 0x33, 0xd8, 0x04});
  CHECK(h.encode() == want);
}

TEST_CASE("HdrHistogram: the compressed form is cookie 0x1c849304, length, zlib of the encoding") {
  HdrHistogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v)
    h.record(v * 997);
  const auto raw = h.encode();
  const auto z = h.encodeCompressed();
  REQUIRE(z.size() > 8);
  CHECK(std::vector<std::uint8_t>(z.begin(), z.begin() + 4) ==
        std::vector<std::uint8_t>{0x1c, 0x84, 0x93, 0x04});
  const std::uint32_t len =
      (std::uint32_t{z[4]} << 24) | (std::uint32_t{z[5]} << 16) | (std::uint32_t{z[6]} << 8) | z[7];
  CHECK(len == z.size() - 8);
  std::vector<std::uint8_t> back(raw.size() + 16);
  uLongf backLen = back.size();
  REQUIRE(uncompress(back.data(), &backLen, z.data() + 8, len) == Z_OK);
  back.resize(backLen);
  CHECK(back == raw);
}

TEST_CASE("HdrHistogram: values past one hour are clipped to the highest trackable value") {
  HdrHistogram h;
  h.record(~0ULL);
  CHECK(h.count() == 1);
  CHECK(h.max() == HdrHistogram::kHighestTrackable);
}

TEST_CASE("base64Encode: the RFC 4648 test vectors") {
  auto b = [](const char* s) {
    return hft::core::base64Encode(
        std::vector<std::uint8_t>(s, s + std::char_traits<char>::length(s)));
  };
  CHECK(b("") == "");
  CHECK(b("f") == "Zg==");
  CHECK(b("fo") == "Zm8=");
  CHECK(b("foo") == "Zm9v");
  CHECK(b("foob") == "Zm9vYg==");
  CHECK(b("fooba") == "Zm9vYmE=");
  CHECK(b("foobar") == "Zm9vYmFy");
  CHECK(hft::core::base64Encode({0xff, 0xfe, 0x3e}) == "//4+");
}

// SPDX-License-Identifier: MIT
// Histogram percentiles against sorted samples; the SPSC ring across two threads; the IPv4
// endpoint parser; the poll loops' idle policy.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "libhft/core/endpoint.h"
#include "libhft/core/histogram.h"
#include "libhft/core/parker.h"
#include "libhft/core/spsc_ring.h"

using hft::core::Histogram;
using hft::core::SpscRing;

TEST_CASE("histogram: values below 256 are exact") {
  Histogram h;
  for (std::uint64_t v = 1; v <= 200; ++v)
    h.record(v);
  CHECK(h.count() == 200);
  CHECK(h.min() == 1);
  CHECK(h.max() == 200);
  CHECK(h.percentile(50) == 100);
  CHECK(h.percentile(99) == 198);
  CHECK(h.percentile(100) == 200);
  CHECK(h.mean() == doctest::Approx(100.5));
}

TEST_CASE("histogram: percentiles match sorted samples within the bucket precision") {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(8.0, 1.2); // ~3 us median, long tail
  std::vector<std::uint64_t> samples;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng)) + 1;
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    // Nearest rank, computed exactly: ceil(p/100 * n) with p in thousandths.
    const auto milli = static_cast<std::size_t>(std::llround(p * 1000.0));
    const std::size_t rank = (milli * samples.size() + 99'999) / 100'000;
    const double exact = static_cast<double>(samples[rank - 1]);
    const double got = static_cast<double>(h.percentile(p));
    CHECK_MESSAGE(got >= exact, "p" << p);
    CHECK_MESSAGE(got <= exact * (1.0 + 1.0 / 128.0) + 1.0, "p" << p);
  }
}

TEST_CASE("histogram: bucket bounds cover every value exactly once") {
  for (std::uint64_t v : {0ULL, 255ULL, 256ULL, 257ULL, 1000ULL, 123456789ULL, ~0ULL}) {
    const auto i = Histogram::indexOf(v);
    CHECK(Histogram::lowestOf(i) <= v);
    CHECK(Histogram::highestOf(i) >= v);
  }
  for (std::size_t i = 1; i < Histogram::kBuckets; ++i)
    CHECK(Histogram::lowestOf(i) == Histogram::highestOf(i - 1) + 1);
}

TEST_CASE("histogram: merge adds counts and keeps extremes") {
  Histogram a, b;
  a.record(10);
  b.record(5000);
  b.record(7);
  a.merge(b);
  CHECK(a.count() == 3);
  CHECK(a.min() == 7);
  CHECK(a.max() == 5000);
}

TEST_CASE("spsc ring: full and empty are reported, order is kept") {
  SpscRing<int> r(4);
  CHECK(r.capacity() == 4);
  int out = 0;
  CHECK_FALSE(r.tryPop(out));
  for (int i = 0; i < 4; ++i)
    CHECK(r.tryPush(i));
  CHECK_FALSE(r.tryPush(99));
  for (int i = 0; i < 4; ++i) {
    REQUIRE(r.tryPop(out));
    CHECK(out == i);
  }
  CHECK_FALSE(r.tryPop(out));
}

TEST_CASE("spsc ring: hasRoom sees the consumer's progress only when the cached view is short") {
  SpscRing<int> r(8);
  CHECK(r.hasRoom(8));
  CHECK_FALSE(r.hasRoom(9));
  for (int i = 0; i < 6; ++i)
    REQUIRE(r.tryPush(i));
  CHECK(r.hasRoom(2));
  CHECK_FALSE(r.hasRoom(3));
  int out = 0;
  REQUIRE(r.tryPop(out));
  REQUIRE(r.tryPop(out));
  CHECK(r.hasRoom(4)); // refreshed from the consumer's index
  CHECK_FALSE(r.hasRoom(5));
}

TEST_CASE("spsc ring: a million items cross threads in order and intact") {
  SpscRing<std::uint64_t> r(1024);
  constexpr std::uint64_t kCount = 1'000'000;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kCount; ++i)
      while (!r.tryPush(i))
        std::this_thread::yield();
  });
  std::uint64_t expected = 0;
  std::uint64_t v = 0;
  while (expected < kCount) {
    if (r.tryPop(v)) {
      REQUIRE(v == expected);
      ++expected;
    } else {
      std::this_thread::yield();
    }
  }
  producer.join();
  CHECK(expected == kCount);
}

TEST_CASE("histogram: p99.9 of 1..1000 is the 999th sample (nearest rank, no rounding drift)") {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v)
    h.record(v);
  // Values above 256 share buckets of 4: the answer is the top of 999's bucket, not 1000.
  CHECK(h.percentile(99.9) == Histogram::highestOf(Histogram::indexOf(999)));
  CHECK(h.percentile(99.9) < 1000);
  CHECK(h.percentile(50) == Histogram::highestOf(Histogram::indexOf(500)));
}

TEST_CASE("parseIpv4Endpoint: accepts A.B.C.D:PORT, sets both parts") {
  std::string address = "unchanged";
  std::uint16_t port = 7;
  REQUIRE(hft::core::parseIpv4Endpoint("127.0.0.1:9001", address, port));
  CHECK(address == "127.0.0.1");
  CHECK(port == 9001);
  REQUIRE(hft::core::parseIpv4Endpoint("239.1.1.1:65535", address, port));
  CHECK(address == "239.1.1.1");
  CHECK(port == 65535);
  REQUIRE(hft::core::parseIpv4Endpoint("0.0.0.0:1", address, port));
  CHECK(address == "0.0.0.0");
  CHECK(port == 1);
}

TEST_CASE("parseIpv4Endpoint: refuses everything else and leaves the outputs alone") {
  for (const char* bad :
       {"", ":", "127.0.0.1", "127.0.0.1:", ":9001", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:99999999999999999999", "127.0.0.1:-1", "127.0.0.1:+1", "127.0.0.1:90a",
        "127.0.0.1: 9001", "127.0.0.1:9001 ", "localhost:9001", "256.0.0.1:9001", "::1:9001",
        "[::1]:9001", "1.2.3:9001", "127.0.0.1:9001:1"}) {
    CAPTURE(bad);
    std::string address = "unchanged";
    std::uint16_t port = 7;
    CHECK_FALSE(hft::core::parseIpv4Endpoint(bad, address, port));
    CHECK(address == "unchanged");
    CHECK(port == 7);
  }
}

TEST_CASE("IdleBackoff: busy mode never parks; yield mode parks after its spins, until work") {
  hft::core::IdleBackoff busy(true);
  for (int i = 0; i < 10 * hft::core::IdleBackoff::kSpinsBeforePark; ++i)
    REQUIRE_FALSE(busy.shouldPark());

  hft::core::IdleBackoff yield(false);
  for (int round = 0; round < 2; ++round) {
    for (int i = 1; i < hft::core::IdleBackoff::kSpinsBeforePark; ++i)
      REQUIRE_FALSE(yield.shouldPark());
    CHECK(yield.shouldPark());
    CHECK(yield.shouldPark()); // still idle: parks again at once
    yield.worked();            // work came: spins again before the next park
  }
}

// SPDX-License-Identifier: MIT
// The latency model's distributions with a fixed seed, and the applied-delay statistics.
#include "exchange-sim/market/latency_model.h"

#include <doctest/doctest.h>

#include <string>

using namespace hft::market;

namespace {

DelayStats draw(const LatencyParams& p, std::uint64_t seed, int n, int* spikes = nullptr,
                std::uint64_t spikeAbove = 0) {
  LatencyModel m(p, seed);
  DelayStats s;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t d = m.sample();
    if (spikes && d > spikeAbove)
      ++*spikes;
    s.record(d);
  }
  return s;
}

} // namespace

TEST_CASE("LatencyModel: the zero default delays nothing") {
  const DelayStats s = draw(LatencyParams{}, 1, 1000);
  CHECK(s.count() == 1000);
  CHECK(s.meanNs() == 0.0);
  CHECK(s.percentileNs(99) == 0);
}

TEST_CASE("LatencyModel: constant plus uniform jitter stays in range with the right mean") {
  LatencyParams p;
  p.constantNs = 10'000'000;
  p.jitter = Jitter::Uniform;
  p.jitterNs = 1'000'000;
  const DelayStats s = draw(p, 42, 100'000);
  CHECK(s.percentileNs(0.001) >= 10'000'000);
  CHECK(s.percentileNs(100) <= 11'000'000);
  CHECK(s.meanNs() == doctest::Approx(10'500'000).epsilon(0.005));
  CHECK(s.percentileNs(50) == doctest::Approx(10'500'000).epsilon(0.005));
  CHECK(s.percentileNs(99) == doctest::Approx(10'990'000).epsilon(0.002));
}

TEST_CASE("LatencyModel: exponential jitter has its mean and its median at ln 2 of it") {
  LatencyParams p;
  p.jitter = Jitter::Exponential;
  p.jitterNs = 100'000;
  const DelayStats s = draw(p, 7, 200'000);
  CHECK(s.meanNs() == doctest::Approx(100'000).epsilon(0.02));
  CHECK(s.percentileNs(50) == doctest::Approx(69'315).epsilon(0.03));
  CHECK(s.percentileNs(99) == doctest::Approx(460'517).epsilon(0.05)); // -ln(0.01) * mean
}

TEST_CASE("LatencyModel: spikes come at their rate and add their size") {
  LatencyParams p;
  p.constantNs = 1'000;
  p.spikePercent = 2.0;
  p.spikeNs = 5'000'000;
  int spikes = 0;
  const DelayStats s = draw(p, 3, 100'000, &spikes, 1'000);
  CHECK(spikes == doctest::Approx(2'000).epsilon(0.1));
  CHECK(s.percentileNs(50) == 1'000);
  CHECK(s.percentileNs(100) == 5'001'000);
}

TEST_CASE("LatencyModel: the same seed gives the same delays") {
  LatencyParams p;
  p.jitter = Jitter::Exponential;
  p.jitterNs = 1'000;
  LatencyModel a(p, 9), b(p, 9);
  for (int i = 0; i < 100; ++i)
    CHECK(a.sample() == b.sample());
}

TEST_CASE("LatencyModel: validate names a bad spike probability and an absurd delay") {
  LatencyParams p;
  CHECK(std::string(LatencyModel::validate(p)).empty());
  p.spikePercent = 101;
  CHECK(std::string(LatencyModel::validate(p)).find("spike") != std::string::npos);
  p.spikePercent = 0;
  p.constantNs = 20'000'000'000ULL;
  CHECK(std::string(LatencyModel::validate(p)).find("10 s") != std::string::npos);
}

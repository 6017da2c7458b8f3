// SPDX-License-Identifier: MIT
// Benchmark: one market-maker decision (MarketMaker::onBookUpdate, its quotes through the risk
// checks and its cancels), ns; the gateway is the engine's risk check without the rings.
#include <cstdio>
#include <cstring>
#include <vector>

#include "daemon/book/order_book.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/market_maker.h"
#include "tests/bench/bench_common.h"

using namespace hft;

namespace {
// Risk-checks each quote as the engine does; keeps the ids so they can be acknowledged.
struct BenchGateway {
  risk::RiskChecker& risk;
  std::int64_t mid = 0;
  std::uint64_t nowNs = 0;
  std::uint64_t nextId = 1;
  std::uint64_t cancels = 0;
  std::vector<std::uint64_t>& pending;

  std::uint64_t send(const risk::OrderIntent& intent) noexcept {
    if (risk.check(intent, 0, 0, 0, 0, mid, nowNs) != risk::RiskResult::Accepted)
      return 0;
    risk.onOrderSent(nowNs);
    if (pending.size() < pending.capacity())
      pending.push_back(nextId);
    return nextId++;
  }
  bool cancel(std::uint64_t) noexcept {
    ++cancels;
    return true;
  }
};
} // namespace

int main() {
  bench::printMachine("market-maker decision (onBookUpdate: quotes, risk checks, cancels)");
  constexpr std::size_t kFrames = 8192;
  constexpr int kRuns = 15;
  constexpr int kPasses = 8;
  const bench::MarketDataSet md = bench::makeMarketData(kFrames);
  const double nsPerTick = bench::pinAndCalibrateTimer().nsPerTick;

  // Default parameters but no requote interval, so every mid move of requote_ticks replaces
  // the quotes and the whole path (cancel, quote, risk) is what gets measured.
  strategy::MarketMakerParams params;
  params.minRequoteNs = 0;
  std::printf("market maker: qty %u, half spread %u ticks, requote %u ticks, interval 0 "
              "(default 250 ms)\n",
              params.orderQty, params.halfSpreadTicks, params.requoteTicks);
  strategy::MarketMaker maker(params);
  risk::RiskLimits limits;
  limits.maxOrdersPerSecond = risk::kMaxOrdersPerSecondLimit;
  risk::RiskChecker risk(limits);
  book::BookSet books;
  std::vector<std::uint64_t> pending;
  pending.reserve(16);
  BenchGateway gateway{risk, 0, 0, 1, 0, pending};

  bench::Spread allP50, allP99, actP50, actP99, share;
  std::uint64_t simNs = 0;
  for (int run = -1; run < kRuns; ++run) {
    core::Histogram all, acted;
    for (int pass = 0; pass < kPasses; ++pass) {
      for (std::size_t i = 0; i < md.size(); ++i) {
        const auto bytes = md.frame(i);
        protocol::MarketDataHead head;
        std::memcpy(&head, bytes.data(), sizeof(head));
        book::OrderBook& book = *books.find(head.symbolId);
        if (!book.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}))
          return 1;
        simNs += 2'500'000;
        gateway.mid = book.mid();
        gateway.nowNs = simNs;
        const std::uint64_t sentBefore = gateway.nextId;
        const std::uint64_t t0 = bench::ticks();
        maker.onBookUpdate({book, head.symbolId, 0, simNs, simNs}, gateway);
        const std::uint64_t t1 = bench::ticks();
        all.record(t1 - t0);
        if (gateway.nextId != sentBefore)
          acted.record(t1 - t0);
        // The exchange acknowledges the new quotes before the next frame (not timed).
        for (const std::uint64_t id : pending) {
          protocol::ExecutionReport ack{};
          ack.clOrdId = id;
          ack.symbolId = head.symbolId;
          ack.execType = static_cast<std::uint8_t>(protocol::ExecType::New);
          maker.onExecution(ack, 0, gateway);
        }
        pending.clear();
      }
    }
    if (run < 0)
      continue;
    allP50.add(static_cast<double>(all.percentile(50)) * nsPerTick);
    allP99.add(static_cast<double>(all.percentile(99)) * nsPerTick);
    actP50.add(static_cast<double>(acted.percentile(50)) * nsPerTick);
    actP99.add(static_cast<double>(acted.percentile(99)) * nsPerTick);
    share.add(100.0 * static_cast<double>(acted.count()) / static_cast<double>(all.count()));
  }
  std::printf("results (%d runs x %zu snapshots):\n", kRuns, kPasses * md.size());
  allP50.print("every decision p50", "ns");
  allP99.print("every decision p99", "ns");
  actP50.print("decision -> quotes p50", "ns");
  actP99.print("decision -> quotes p99", "ns");
  share.print("snapshots ending in new quotes", "%");
  std::printf("  quotes sent %llu, cancels %llu, requotes %llu\n",
              static_cast<unsigned long long>(maker.quotesSent()),
              static_cast<unsigned long long>(gateway.cancels),
              static_cast<unsigned long long>(maker.requotes()));
  return 0;
}

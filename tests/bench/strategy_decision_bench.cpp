// SPDX-License-Identifier: MIT
// Benchmark: one strategy decision (MomentumStrategy::onBookUpdate + RiskChecker::check), ns.
#include <cstdio>
#include <cstring>

#include "daemon/book/order_book.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/momentum_strategy.h"
#include "tests/bench/bench_common.h"

using namespace hft;

int main() {
  bench::printMachine("strategy decision (onBookUpdate + risk check when it wants to trade)");
  constexpr std::size_t kFrames = 8192;
  constexpr int kRuns = 15;
  constexpr int kPasses = 8;
  const bench::MarketDataSet md = bench::makeMarketData(kFrames);
  const double nsPerTick = bench::pinAndCalibrateTimer().nsPerTick;

  // Default parameters but no cooldown, so that many snapshots end in an order and the full
  // path (signal, cap, price, risk) is what gets measured; limits that never stop the run.
  strategy::StrategyParams params;
  params.cooldownNs = 0;
  std::printf("strategy: lookback %u, threshold %u ticks, qty %u, cooldown 0 (default 200 ms)\n",
              params.lookback, params.thresholdTicks, params.orderQty);
  strategy::MomentumStrategy momentum(params);
  risk::RiskLimits limits;
  limits.maxOrdersPerSecond = risk::kMaxOrdersPerSecondLimit;
  risk::RiskChecker risk(limits);
  book::BookSet books;

  bench::Spread allP50, allP99, orderP50, orderP99, share;
  std::uint64_t simNs = 0; // 2.5 ms per snapshot, as the frames' timestamps
  risk::OrderIntent intent;
  for (int run = -1; run < kRuns; ++run) {
    core::Histogram all, ordered;
    for (int pass = 0; pass < kPasses; ++pass) {
      for (std::size_t i = 0; i < md.size(); ++i) {
        const auto bytes = md.frame(i);
        protocol::MarketDataHead head;
        std::memcpy(&head, bytes.data(), sizeof(head));
        book::OrderBook& book = *books.find(head.symbolId);
        if (!book.applySnapshot({bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}))
          return 1;
        simNs += 2'500'000;
        const std::uint64_t t0 = bench::ticks();
        bool accepted = false;
        if (momentum.onBookUpdate(book, head.symbolId, 0, simNs, head.header.timestamp, intent))
          accepted =
              risk.check(intent, 0, 0, 0, 0, book.mid(), simNs) == risk::RiskResult::Accepted;
        const std::uint64_t t1 = bench::ticks();
        all.record(t1 - t0);
        if (accepted) {
          ordered.record(t1 - t0);
          risk.onOrderSent(simNs);
        }
      }
    }
    if (run < 0)
      continue;
    allP50.add(static_cast<double>(all.percentile(50)) * nsPerTick);
    allP99.add(static_cast<double>(all.percentile(99)) * nsPerTick);
    orderP50.add(static_cast<double>(ordered.percentile(50)) * nsPerTick);
    orderP99.add(static_cast<double>(ordered.percentile(99)) * nsPerTick);
    share.add(100.0 * static_cast<double>(ordered.count()) / static_cast<double>(all.count()));
  }
  std::printf("results (%d runs x %zu snapshots):\n", kRuns, kPasses * md.size());
  allP50.print("every decision p50", "ns");
  allP99.print("every decision p99", "ns");
  orderP50.print("decision -> order p50", "ns");
  orderP99.print("decision -> order p99", "ns");
  share.print("snapshots ending in an order", "%");
  std::printf("  risk results: accepted %llu, refused %llu\n",
              static_cast<unsigned long long>(risk.count(risk::RiskResult::Accepted)),
              static_cast<unsigned long long>(risk.count(risk::RiskResult::PriceBand) +
                                              risk.count(risk::RiskResult::MaxOrderRate) +
                                              risk.count(risk::RiskResult::MaxPosition)));
  return 0;
}

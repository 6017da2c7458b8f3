// SPDX-License-Identifier: MIT
// Benchmark: MARKET_DATA bytes in to NEW_ORDER bytes out on one core (the tick-to-order core).
#include <cstdio>
#include <cstring>

#include "daemon/book/order_book.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/momentum_strategy.h"
#include "libhft/core/clock.h"
#include "tests/bench/bench_common.h"

using namespace hft;

int main() {
  bench::printMachine("frame decoded to order encoded (checkFrame + applySnapshot + strategy + "
                      "risk + NEW_ORDER bytes)");
  constexpr std::size_t kFrames = 8192;
  constexpr int kRuns = 15;
  constexpr int kPasses = 8;
  const bench::MarketDataSet md = bench::makeMarketData(kFrames);
  const double nsPerTick = bench::pinAndCalibrateTimer().nsPerTick;
  std::printf("path per frame: checkFrame, BookSet::find, applySnapshot, onBookUpdate, and for "
              "a signal: RiskChecker::check, a CLOCK_REALTIME read for the header, the 56 "
              "NEW_ORDER bytes written, RiskChecker::onOrderSent\n");

  strategy::StrategyParams params;
  params.cooldownNs = 0; // so that many frames end in an order (default 200 ms)
  strategy::MomentumStrategy momentum(params);
  risk::RiskLimits limits;
  limits.maxOrdersPerSecond = risk::kMaxOrdersPerSecondLimit;
  risk::RiskChecker risk(limits);
  book::BookSet books;
  protocol::SeqCounter seq;
  std::uint64_t clOrdId = 0;
  alignas(64) std::byte out[64][sizeof(protocol::NewOrder)]; // a send buffer to write into

  bench::Spread orderP50, orderP90, orderP99, allP50, share;
  core::Histogram everyOrder;
  std::uint64_t simNs = 0;
  risk::OrderIntent intent;
  for (int run = -1; run < kRuns; ++run) {
    core::Histogram all, ordered;
    for (int pass = 0; pass < kPasses; ++pass) {
      for (std::size_t i = 0; i < md.size(); ++i) {
        const auto bytes = md.frame(i);
        simNs += 2'500'000;
        bool sent = false;
        const std::uint64_t t0 = bench::ticks();
        if (protocol::checkFrame(bytes) == protocol::FrameError::None) {
          const protocol::FrameView view{bytes.data(), static_cast<std::uint16_t>(bytes.size()),
                                         static_cast<std::uint16_t>(protocol::MsgType::MarketData)};
          const auto head = view.as<protocol::MarketDataHead>();
          book::OrderBook* book = books.find(head.symbolId);
          if (book != nullptr && book->applySnapshot(view) &&
              momentum.onBookUpdate(*book, head.symbolId, 0, simNs, head.header.timestamp,
                                    intent) &&
              risk.check(intent, 0, 0, 0, 0, book->mid(), simNs) == risk::RiskResult::Accepted) {
            protocol::NewOrder order{};
            protocol::stampHeader(order.header, protocol::MsgType::NewOrder, sizeof(order),
                                  seq.next(), core::realtimeNs());
            order.clOrdId = ++clOrdId;
            order.symbolId = intent.symbolId;
            order.side = static_cast<std::uint8_t>(intent.side);
            order.tif = static_cast<std::uint8_t>(intent.tif);
            order.price = intent.price;
            order.qty = intent.qty;
            order.mdTimestamp = intent.mdTimestamp;
            protocol::writeFrame(out[clOrdId & 63], order);
            risk.onOrderSent(simNs);
            sent = true;
          }
        }
        const std::uint64_t t1 = bench::ticks();
        all.record(t1 - t0);
        if (sent)
          ordered.record(t1 - t0);
      }
    }
    bench::keep(out);
    if (run < 0)
      continue;
    const auto ns = [nsPerTick](const core::Histogram& h, double pct) {
      return static_cast<double>(h.percentile(pct)) * nsPerTick;
    };
    orderP50.add(ns(ordered, 50));
    orderP90.add(ns(ordered, 90));
    orderP99.add(ns(ordered, 99));
    allP50.add(ns(all, 50));
    share.add(100.0 * static_cast<double>(ordered.count()) / static_cast<double>(all.count()));
    everyOrder.merge(ordered);
  }
  std::printf("results (%d runs x %zu frames):\n", kRuns, kPasses * md.size());
  orderP50.print("frame -> order p50", "ns");
  orderP90.print("frame -> order p90", "ns");
  orderP99.print("frame -> order p99", "ns");
  allP50.print("any frame (order or not) p50", "ns");
  share.print("frames ending in an order", "%");
  std::printf("  all %llu orders: p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns, max %.0f ns; "
              "target p50 < 250 ns: %s\n",
              static_cast<unsigned long long>(everyOrder.count()),
              static_cast<double>(everyOrder.percentile(50)) * nsPerTick,
              static_cast<double>(everyOrder.percentile(99)) * nsPerTick,
              static_cast<double>(everyOrder.percentile(99.9)) * nsPerTick,
              static_cast<double>(everyOrder.max()) * nsPerTick,
              bench::median(orderP50.runs) < 250 ? "met" : "NOT met");
  return 0;
}

// SPDX-License-Identifier: MIT
// Benchmark: MARKET_DATA bytes in to NEW_ORDER bytes out on one core (the tick-to-order core).
#include <cstdio>
#include <cstring>

#include "daemon/book/order_book.h"
#include "daemon/engine/order_exit.h"
#include "daemon/engine/order_gateway.h"
#include "daemon/order/order_manager.h"
#include "daemon/risk/risk_checker.h"
#include "daemon/strategy/momentum_strategy.h"
#include "libhft/core/stamp_clock.h"
#include "tests/bench/bench_common.h"

using namespace hft;

int main() {
  bench::printMachine("frame read to order bytes ready, the engine's code (edge validation, "
                      "book, strategy, OrderGateway, encodeOrder)");
  constexpr std::size_t kFrames = 8192;
  constexpr int kRuns = 15;
  constexpr int kPasses = 8;
  const bench::MarketDataSet md = bench::makeMarketData(kFrames);
  const double nsPerTick = bench::pinAndCalibrateTimer().nsPerTick;
  core::calibrateStamps();
  std::printf("path per frame, as hftd runs it (run_to_completion) up to send(): checkFrame and "
              "checkMarketDataContent (the edge's one validation), BookSet::find, "
              "applyValidated, MomentumStrategy::onBookUpdate, and for a signal: the "
              "OrderGateway (risk check, order table, cl_ord_id, stamps), encodeOrder and the "
              "header's timestamp from the stamp clock; the OrderExit's send() and journal copy "
              "are not in it\n");

  strategy::StrategyParams params;
  params.cooldownNs = 0; // so that many frames end in an order (default 200 ms)
  strategy::MomentumStrategy momentum(params);
  risk::RiskLimits limits;
  limits.maxOrdersPerSecond = risk::kMaxOrdersPerSecondLimit;
  risk::RiskChecker risk(limits);
  auto books = std::make_unique<book::BookSet>();
  auto orders = std::make_unique<order::OrderManager>();
  engine::SharedState shared({}, 1024);
  shared.tradingEnabled.store(true);
  core::RealtimeAnchor clock;
  alignas(64) std::byte out[64][engine::kOrderFrameBytes]; // a send buffer to write into
  std::uint64_t written = 0;

  bench::Spread orderP50, orderP90, orderP99, allP50, share;
  core::Histogram everyOrder;
  std::uint64_t simNs = 0;
  for (int run = -1; run < kRuns; ++run) {
    core::Histogram all, ordered;
    for (int pass = 0; pass < kPasses; ++pass) {
      for (std::size_t i = 0; i < md.size(); ++i) {
        const auto bytes = md.frame(i);
        simNs += 2'500'000;
        bool sent = false;
        const std::uint64_t t0 = bench::ticks();
        const protocol::FrameView view{bytes.data(), static_cast<std::uint16_t>(bytes.size()),
                                       static_cast<std::uint16_t>(protocol::MsgType::MarketData)};
        if (protocol::checkFrame(bytes) == protocol::FrameError::None &&
            protocol::checkMarketDataContent(view) == protocol::FrameError::None) {
          const auto head = view.as<protocol::MarketDataHead>();
          if (book::OrderBook* book = books->find(head.symbolId)) {
            book->applyValidated(view);
            const std::uint64_t bookStamp = core::stamp();
            const engine::EventStamps stamps{clock.realtimeNs(t0), clock.realtimeNs(t0), bookStamp,
                                             simNs};
            engine::OrderGateway gateway(shared, *orders, risk, *books, clock, stamps, nullptr);
            const strategy::BookUpdate update{*book, head.symbolId, 0, simNs,
                                              head.header.timestamp};
            momentum.onBookUpdate(update, gateway);
            // What OrderExit::write() does before send(): encode, stamp the header.
            if (const engine::OrderCommand* cmd = shared.orders.front()) {
              std::byte* frame = out[written++ & 63];
              const std::size_t length = engine::encodeOrder(*cmd, frame);
              const std::uint64_t sendNs = clock.nowRealtimeNs();
              std::memcpy(frame + offsetof(protocol::Header, timestamp), &sendNs, sizeof(sendNs));
              sent = length != 0;
              shared.orders.release();
            }
          }
        }
        const std::uint64_t t1 = bench::ticks();
        all.record(t1 - t0);
        if (sent) {
          ordered.record(t1 - t0);
          // Off the clock: the exchange's answer (an IOC that did not trade), so the order
          // table and max_open_orders see the order done, as they would in a session.
          protocol::NewOrder sentOrder;
          std::memcpy(&sentOrder, out[(written - 1) & 63], sizeof(sentOrder));
          protocol::ExecutionReport report{};
          report.clOrdId = sentOrder.clOrdId;
          report.orderId = written;
          report.execId = written;
          report.symbolId = sentOrder.symbolId;
          report.side = sentOrder.side;
          report.price = sentOrder.price;
          report.execType = static_cast<std::uint8_t>(protocol::ExecType::Expired);
          (void)orders->onExecutionReport(report);
        }
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
              "target p50 < 100 ns (issue #11): %s\n",
              static_cast<unsigned long long>(everyOrder.count()),
              static_cast<double>(everyOrder.percentile(50)) * nsPerTick,
              static_cast<double>(everyOrder.percentile(99)) * nsPerTick,
              static_cast<double>(everyOrder.percentile(99.9)) * nsPerTick,
              static_cast<double>(everyOrder.max()) * nsPerTick,
              bench::median(orderP50.runs) < 100 ? "met" : "NOT met");
  return 0;
}

// SPDX-License-Identifier: MIT
// Benchmark: checkFrame + OrderBook::applySnapshot over realistic MARKET_DATA, messages/s.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "daemon/book/order_book.h"
#include "tests/bench/bench_common.h"

using namespace hft;

int main() {
  bench::printMachine("decode plus book update (checkFrame + BookSet::find + applySnapshot)");
  constexpr std::size_t kFrames = 8192;
  constexpr int kPasses = 64; // over the frames, per run
  constexpr int kRuns = 15;
  const bench::MarketDataSet md = bench::makeMarketData(kFrames);
  std::printf("input: %zu frames, 4 symbols, 5 levels a side (%u bytes each), %zu KiB in all; "
              "%d passes per run\n",
              md.size(), md.lengths[0], md.bytes.size() / 1024, kPasses);
  (void)core::pinThisThread(core::allowedCpus().back());

  book::BookSet books;
  std::uint64_t refused = 0;
  bench::Spread rate, perMessage;
  for (int run = -1; run < kRuns; ++run) { // run -1 warms caches and branch predictors
    const auto t0 = std::chrono::steady_clock::now();
    for (int pass = 0; pass < kPasses; ++pass) {
      for (std::size_t i = 0; i < md.size(); ++i) {
        const std::span<const std::byte> bytes = md.frame(i);
        if (protocol::checkFrame(bytes) != protocol::FrameError::None) {
          ++refused;
          continue;
        }
        const protocol::FrameView view{bytes.data(), static_cast<std::uint16_t>(bytes.size()),
                                       static_cast<std::uint16_t>(protocol::MsgType::MarketData)};
        std::uint32_t symbol;
        std::memcpy(&symbol, bytes.data() + offsetof(protocol::MarketDataHead, symbolId),
                    sizeof(symbol));
        book::OrderBook* book = books.find(symbol);
        if (book == nullptr || !book->applySnapshot(view))
          ++refused;
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (run < 0)
      continue;
    const double seconds = std::chrono::duration<double>(t1 - t0).count();
    const double messages = static_cast<double>(kPasses) * static_cast<double>(md.size());
    rate.add(messages / seconds / 1e6);
    perMessage.add(seconds * 1e9 / messages);
  }
  bench::keep(books.find(1)->mid());
  std::printf("results (one core):\n");
  rate.print("throughput", "M msg/s");
  perMessage.print("time per message", "ns");
  std::printf("  refused frames: %llu (expected 0); target > 20 M msg/s: %s\n",
              static_cast<unsigned long long>(refused),
              bench::median(rate.runs) > 20 ? "met" : "NOT met");
  return 0;
}

// SPDX-License-Identifier: MIT
// The strategy plug-in interface: what the concept accepts and refuses, one visit dispatching
// to the strategy a variant holds, and the engine's gateway putting every order the strategy
// emits through the risk checks and every cancel through the order table, and the order
// leaving through the OrderExit in the same call (run to completion) or through the ring.
#include <doctest/doctest.h>

#include <fcntl.h>

#include <cstdint>
#include <cstring>
#include <variant>
#include <vector>

#include "daemon/engine/order_exit.h"
#include "daemon/engine/order_gateway.h"
#include "daemon/engine/strategy_worker.h"
#include "libhft/protocol/codec.h"
#include "tests/unit/feed/loopback_exchange.h"

using namespace hft;
using engine::EventStamps;
using engine::OrderCommand;
using engine::OrderGateway;
using protocol::ExecType;
using protocol::Side;

namespace {

constexpr std::uint32_t kSym = 5;

// The smallest strategy: on every book update it bids `qty` at the best bid; on the ack of an
// order it cancels it; it counts its timers and resets.
class EchoStrategy {
public:
  struct Params {
    std::uint32_t qty = 10;
  };
  explicit EchoStrategy(const Params& p) : params_(p) {}

  template <strategy::OrderGateway G>
  void onBookUpdate(const strategy::BookUpdate& u, G& gateway) noexcept {
    ++updates;
    risk::OrderIntent intent;
    intent.symbolId = u.symbolId;
    intent.side = Side::Buy;
    intent.tif = protocol::Tif::Day;
    intent.price = u.book.bestBid().price;
    intent.qty = params_.qty;
    intent.mdTimestamp = u.mdTimestamp;
    lastSent = gateway.send(intent);
  }
  template <strategy::OrderGateway G>
  void onExecution(const protocol::ExecutionReport& r, std::int64_t, G& gateway) noexcept {
    if (r.execType == static_cast<std::uint8_t>(ExecType::New))
      lastCancel = gateway.cancel(r.clOrdId);
  }
  template <strategy::OrderGateway G> void onTimer(std::uint64_t, G&) noexcept { ++timers; }
  void reset() noexcept { ++resets; }
  void setParams(const Params& p) noexcept { params_ = p; }
  [[nodiscard]] const Params& params() const noexcept { return params_; }

  int updates = 0;
  int timers = 0;
  int resets = 0;
  std::uint64_t lastSent = 0;
  bool lastCancel = false;

private:
  Params params_;
};

// Lacks onTimer: not a strategy.
struct NoTimer {
  struct Params {};
  template <typename G> void onBookUpdate(const strategy::BookUpdate&, G&) noexcept {}
  template <typename G>
  void onExecution(const protocol::ExecutionReport&, std::int64_t, G&) noexcept {}
  void reset() noexcept {}
  void setParams(const Params&) noexcept {}
  const Params& params() const noexcept { return p; }
  Params p;
};
// A hot-path call that may throw: not a strategy either.
struct MayThrow : NoTimer {
  template <typename G> void onTimer(std::uint64_t, G&) {}
};
struct WithTimer : NoTimer {
  template <typename G> void onTimer(std::uint64_t, G&) noexcept {}
};

static_assert(strategy::Strategy<EchoStrategy, OrderGateway>);
static_assert(strategy::Strategy<WithTimer, OrderGateway>);
static_assert(!strategy::Strategy<NoTimer, OrderGateway>);
static_assert(!strategy::Strategy<MayThrow, OrderGateway>);
static_assert(!strategy::OrderGateway<int>);

// The engine's pieces a strategy's orders pass through, without threads or sockets.
struct Pipeline {
  explicit Pipeline(const risk::RiskLimits& l = limits()) : shared({}, 1024), risk(l) {
    shared.tradingEnabled.store(true);
    const protocol::MdEntry e[2] = {{999'900, 40, 0, 0, 0}, {1'000'100, 40, 1, 0, 0}};
    std::vector<std::byte> bytes(protocol::marketDataSize(2));
    REQUIRE(protocol::encodeMarketData(bytes.data(), 1, 77, kSym, e) == bytes.size());
    REQUIRE(books.find(kSym)->applySnapshot(
        {bytes.data(), static_cast<std::uint16_t>(bytes.size()), 1}));
  }
  static risk::RiskLimits limits() {
    risk::RiskLimits l;
    l.maxOrderQty = 20;
    l.maxPosition = 25;
    l.maxOpenOrders = 8;
    l.maxOrdersPerSecond = 50;
    l.priceBandBps = 100;
    return l;
  }
  OrderGateway gateway() { return OrderGateway(shared, orders, risk, books, clock, stamps, exit); }
  strategy::BookUpdate update() const {
    return {*books.find(kSym), kSym, orders.positions().position(kSym), stamps.nowNs, 77};
  }
  // The commands in the orders ring, oldest first; empties it.
  std::vector<OrderCommand> drain() {
    std::vector<OrderCommand> out;
    while (const OrderCommand* c = shared.orders.front()) {
      out.push_back(*c);
      shared.orders.release();
    }
    return out;
  }
  protocol::ExecutionReport ack(std::uint64_t clOrdId, std::uint32_t qty) {
    protocol::ExecutionReport r{};
    r.clOrdId = clOrdId;
    r.orderId = 1000 + clOrdId;
    r.execId = ++execId;
    r.symbolId = kSym;
    r.execType = static_cast<std::uint8_t>(ExecType::New);
    r.side = static_cast<std::uint8_t>(Side::Buy);
    r.price = 999'900;
    r.leavesQty = qty;
    REQUIRE(orders.onExecutionReport(r) == order::ReportOutcome::Applied);
    return r;
  }

  engine::SharedState shared;
  order::OrderManager orders;
  risk::RiskChecker risk;
  book::BookSet books;
  core::RealtimeAnchor clock;
  EventStamps stamps{1, 2, core::stamp(), 5'000'000'000};
  std::uint64_t execId = 0;
  engine::OrderExit* exit = nullptr; // set: run to completion's direct write
};

struct NoListener final : feed::SessionListener {
  void onFrame(const protocol::FrameView&, std::uint64_t) noexcept override {}
  void onLoggedOn(std::uint64_t, std::uint32_t) noexcept override {}
  void onClosed(feed::CloseReason, int, std::uint8_t) noexcept override {}
  void onBadFrame(protocol::FrameError, std::uint16_t) noexcept override {}
  void onGap(std::uint64_t) noexcept override {}
};

// A Pipeline whose gateway writes through an OrderExit on a session logged on to a loopback
// exchange (the test reads the other end).
struct WiredPipeline {
  explicit WiredPipeline(const risk::RiskLimits& l = Pipeline::limits()) : p(l) {
    core::calibrateStamps();
    session.setKernelTimestamps(false, false);
    feed::SessionParams params;
    params.port = exchange.port();
    REQUIRE(session.connect(params, hft::testing::monotonicNs()) == 0);
    hft::testing::pollUntil(session,
                            [&] { return session.state() == feed::SessionState::LogonSent; });
    exchange.acceptLogon();
    exchange.logOn(session);
    p.exit = &exit;
  }
  // The next frame the exchange side reads.
  template <typename T> T read() {
    alignas(8) std::byte bytes[sizeof(T)];
    hft::testing::readExactly(exchange.peer(), sizeof(T), bytes);
    T frame;
    std::memcpy(&frame, bytes, sizeof(T));
    return frame;
  }

  Pipeline p;
  hft::testing::LoopbackExchange exchange;
  NoListener listener;
  feed::ExchangeSession session{listener};
  core::RealtimeAnchor clock;
  engine::OrderExit exit{p.shared, session, clock};
};

using TestVariant = std::variant<EchoStrategy, strategy::MomentumStrategy>;

} // namespace

TEST_CASE("Strategy interface: one visit reaches the strategy the variant holds") {
  Pipeline p;
  TestVariant v(std::in_place_type<EchoStrategy>, EchoStrategy::Params{10});
  OrderGateway gw = p.gateway();
  const auto u = p.update();
  strategy::dispatch(v, [&](auto& s) noexcept { s.onBookUpdate(u, gw); });
  strategy::dispatch(v, [&](auto& s) noexcept { s.onTimer(1, gw); });
  strategy::dispatch(v, [&](auto& s) noexcept { s.onTimer(2, gw); });
  strategy::dispatch(v, [](auto& s) noexcept { s.reset(); });
  const auto& echo = std::get<EchoStrategy>(v);
  CHECK(echo.updates == 1);
  CHECK(echo.timers == 2);
  CHECK(echo.resets == 1);
  CHECK(echo.lastSent == 1);

  // The same visit, the other alternative: the momentum taker has no signal on one update.
  TestVariant m(std::in_place_type<strategy::MomentumStrategy>, strategy::StrategyParams{});
  strategy::dispatch(m, [&](auto& s) noexcept { s.onBookUpdate(u, gw); });
  CHECK(std::get<strategy::MomentumStrategy>(m).signals() == 0);
  CHECK(p.drain().size() == 1); // only the echo strategy's order
}

TEST_CASE("Strategy interface: an accepted order is recorded and written to the orders ring") {
  Pipeline p;
  EchoStrategy echo({10});
  OrderGateway gw = p.gateway();
  echo.onBookUpdate(p.update(), gw);
  REQUIRE(echo.lastSent != 0);
  const auto cmds = p.drain();
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].kind == OrderCommand::Kind::NewOrder);
  CHECK(cmds[0].clOrdId == echo.lastSent);
  CHECK(cmds[0].symbolId == kSym);
  CHECK(cmds[0].price == 999'900);
  CHECK(cmds[0].qty == 10);
  CHECK(cmds[0].mdTimestamp == 77);
  CHECK(cmds[0].rxNs == 1);
  CHECK(p.orders.openQty(kSym, Side::Buy) == 10);
  CHECK(p.risk.ordersSent() == 1);
  CHECK(p.shared.strategy.riskRejects.load() == 0);
}

TEST_CASE("Strategy interface: the risk checks refuse a strategy's order, counted, nothing sent") {
  Pipeline p;
  SUBCASE("qty above max_order_qty") {
    EchoStrategy echo({21});
    OrderGateway gw = p.gateway();
    echo.onBookUpdate(p.update(), gw);
    CHECK(echo.lastSent == 0);
    CHECK(p.risk.count(risk::RiskResult::MaxOrderQty) == 1);
  }
  SUBCASE("open qty would breach max_position") {
    EchoStrategy echo({15});
    OrderGateway gw = p.gateway();
    echo.onBookUpdate(p.update(), gw);
    REQUIRE(echo.lastSent != 0);
    p.drain();
    echo.onBookUpdate(p.update(), gw); // 15 open + 15 > 25
    CHECK(echo.lastSent == 0);
    CHECK(p.risk.count(risk::RiskResult::MaxPosition) == 1);
  }
  SUBCASE("kill switch") {
    p.risk.setKillSwitch(true);
    EchoStrategy echo({10});
    OrderGateway gw = p.gateway();
    echo.onBookUpdate(p.update(), gw);
    CHECK(echo.lastSent == 0);
    CHECK(p.risk.count(risk::RiskResult::KillSwitch) == 1);
  }
  CHECK(p.shared.strategy.riskRejects.load() == 1);
  CHECK(p.drain().empty());
}

TEST_CASE("Strategy interface: nothing leaves while trading is off or the journal is guarded") {
  Pipeline p;
  EchoStrategy echo({10});
  OrderGateway gw = p.gateway();
  p.shared.tradingEnabled.store(false);
  echo.onBookUpdate(p.update(), gw);
  CHECK(echo.lastSent == 0);
  p.shared.tradingEnabled.store(true);
  p.shared.journalRingLow.store(true);
  echo.onBookUpdate(p.update(), gw);
  CHECK(echo.lastSent == 0);
  CHECK(p.shared.strategy.ordersHeld.load() == 1);
  CHECK(p.drain().empty());
}

TEST_CASE("Strategy interface: a cancel needs a live order of ours, once") {
  Pipeline p;
  EchoStrategy echo({10});
  OrderGateway gw = p.gateway();
  echo.onBookUpdate(p.update(), gw);
  const std::uint64_t id = echo.lastSent;
  REQUIRE(id != 0);
  p.drain();
  CHECK_FALSE(gw.cancel(id + 50)); // not ours
  CHECK_FALSE(gw.cancel(0));
  const auto ack = p.ack(id, 10);
  echo.onExecution(ack, 0, gw); // the strategy cancels on the ack
  CHECK(echo.lastCancel);
  const auto cmds = p.drain();
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].kind == OrderCommand::Kind::Cancel);
  CHECK(cmds[0].clOrdId == id);
  CHECK(cmds[0].symbolId == kSym);
  CHECK(p.orders.find(id)->state == order::OrderState::PendingCancel);
  CHECK_FALSE(gw.cancel(id)); // already on its way
  CHECK(p.drain().empty());

  // An order not acknowledged yet may be canceled (the exchange has its NEW_ORDER first).
  echo.onBookUpdate(p.update(), gw);
  const std::uint64_t second = echo.lastSent;
  REQUIRE(second > id);
  p.drain();
  CHECK(gw.cancel(second));
  CHECK(p.orders.find(second)->state == order::OrderState::PendingCancel);
  CHECK(p.drain().size() == 1);
}

TEST_CASE("Strategy interface: the engine's variant holds the kind the configuration names") {
  config::HftdConfig c;
  engine::SharedState shared({}, 1024);
  {
    engine::StrategyWorker w(shared, c);
    CHECK(std::holds_alternative<strategy::MomentumStrategy>(w.strategy()));
  }
  c.strategyKind = config::StrategyKind::MarketMaker;
  c.marketMaker.orderQty = 7;
  engine::StrategyWorker w(shared, c);
  REQUIRE(std::holds_alternative<strategy::MarketMaker>(w.strategy()));
  CHECK(std::get<strategy::MarketMaker>(w.strategy()).params().orderQty == 7);
}

TEST_CASE("Order exit: a command encodes to the NEW_ORDER or CANCEL_ORDER the protocol defines") {
  OrderCommand cmd{OrderCommand::Kind::NewOrder,
                   9,
                   kSym,
                   Side::Sell,
                   protocol::Tif::Ioc,
                   1'000'100,
                   12,
                   77,
                   0,
                   0,
                   0,
                   0};
  alignas(8) std::byte bytes[engine::kOrderFrameBytes];
  REQUIRE(engine::encodeOrder(cmd, bytes) == sizeof(protocol::NewOrder));
  REQUIRE(protocol::checkFrame({bytes, sizeof(protocol::NewOrder)}) == protocol::FrameError::None);
  protocol::NewOrder order;
  std::memcpy(&order, bytes, sizeof(order));
  CHECK(order.header.msgType == static_cast<std::uint16_t>(protocol::MsgType::NewOrder));
  CHECK(order.clOrdId == 9);
  CHECK(order.symbolId == kSym);
  CHECK(order.side == static_cast<std::uint8_t>(Side::Sell));
  CHECK(order.tif == static_cast<std::uint8_t>(protocol::Tif::Ioc));
  CHECK(order.price == 1'000'100);
  CHECK(order.qty == 12);
  CHECK(order.mdTimestamp == 77);

  cmd.kind = OrderCommand::Kind::Cancel;
  REQUIRE(engine::encodeOrder(cmd, bytes) == sizeof(protocol::CancelOrder));
  protocol::CancelOrder cancel;
  std::memcpy(&cancel, bytes, sizeof(cancel));
  CHECK(cancel.header.msgType == static_cast<std::uint16_t>(protocol::MsgType::CancelOrder));
  CHECK(cancel.clOrdId == 9);
  CHECK(cancel.symbolId == kSym);

  cmd.kind = OrderCommand::Kind::Logout;
  CHECK(engine::encodeOrder(cmd, bytes) == 0);
}

TEST_CASE("Order exit: without a logged-on session an order is counted unsent, not queued") {
  Pipeline p;
  NoListener listener;
  feed::ExchangeSession session(listener);
  core::RealtimeAnchor clock;
  engine::OrderExit exit(p.shared, session, clock);
  p.exit = &exit;
  EchoStrategy echo({10});
  OrderGateway gw = p.gateway();
  echo.onBookUpdate(p.update(), gw);
  CHECK(echo.lastSent != 0); // risk accepted it
  CHECK(p.shared.net.unsentOrders.load() == 1);
  CHECK(p.shared.orders.size() == 0);
  CHECK(exit.ordersSent() == 0);
}

TEST_CASE("Order exit: run to completion writes the order in the call that decided it") {
  WiredPipeline w;
  EchoStrategy echo({10});
  OrderGateway gw = w.p.gateway();
  echo.onBookUpdate(w.p.update(), gw);
  REQUIRE(echo.lastSent != 0);
  // Nothing was queued: the bytes are already on the wire.
  CHECK(w.p.shared.orders.size() == 0);
  const auto order = w.read<protocol::NewOrder>();
  CHECK(order.header.msgType == static_cast<std::uint16_t>(protocol::MsgType::NewOrder));
  CHECK(order.header.seq == 2); // after the LOGON
  CHECK(order.clOrdId == echo.lastSent);
  CHECK(order.price == 999'900);
  CHECK(order.qty == 10);
  CHECK(order.mdTimestamp == 77);
  CHECK(w.exit.ordersSent() == 1);

  // Journaled as sent, and its latency record carries the event's stamps.
  engine::JournalEntry entry;
  REQUIRE(w.p.shared.journal.tryPop(entry));
  CHECK(entry.direction == 0);
  CHECK(entry.length == sizeof(protocol::NewOrder));
  CHECK(std::memcmp(entry.frame, &order, sizeof(order)) == 0);
  engine::LatencyRecord record;
  REQUIRE(w.p.shared.latency.tryPop(record));
  CHECK(record.clOrdId == echo.lastSent);
  CHECK(record.rxNs == 1);
  CHECK(record.decodedNs == 2);
  CHECK(record.sendNs >= record.decidedNs);
  CHECK(record.sentNs >= record.sendNs);
  CHECK(record.sentNs == entry.localNs);

  // The cancel on the ack leaves the same way.
  echo.onExecution(w.p.ack(echo.lastSent, 10), 0, gw);
  REQUIRE(echo.lastCancel);
  CHECK(w.p.shared.orders.size() == 0);
  const auto cancel = w.read<protocol::CancelOrder>();
  CHECK(cancel.header.msgType == static_cast<std::uint16_t>(protocol::MsgType::CancelOrder));
  CHECK(cancel.clOrdId == echo.lastSent);
  CHECK(w.exit.cancelsSent() == 1);
}

TEST_CASE("Order exit: an order the socket cannot take waits in the ring, and the next behind "
          "it") {
  risk::RiskLimits l = Pipeline::limits();
  l.maxOrderQty = 1;
  l.maxPosition = 1'000'000;
  l.maxOpenOrders = 4000;
  l.maxOrdersPerSecond = risk::kMaxOrdersPerSecondLimit;
  WiredPipeline w(l);
  EchoStrategy echo({1});
  OrderGateway gw = w.p.gateway();
  // Fill the kernel's buffers, then the session's own 64 KiB, until an order is queued.
  const int fd = w.session.fd();
  std::vector<std::byte> filler(4096);
  std::size_t fillerBytes = 0;
  for (ssize_t n; (n = ::send(fd, filler.data(), filler.size(), MSG_DONTWAIT)) > 0;)
    fillerBytes += static_cast<std::size_t>(n);
  REQUIRE(fillerBytes > 0);
  std::uint64_t sent = 0;
  while (w.p.shared.orders.size() == 0 && sent < 3000) {
    echo.onBookUpdate(w.p.update(), gw);
    REQUIRE(echo.lastSent == sent + 1);
    ++sent;
    // As the housekeeping thread does: the journal and latency records are taken away.
    engine::JournalEntry entry;
    engine::LatencyRecord record;
    while (w.p.shared.journal.tryPop(entry) || w.p.shared.latency.tryPop(record)) {
    }
  }
  REQUIRE(w.p.shared.orders.size() == 1);
  // The ring is not empty: the next order queues behind it instead of overtaking it.
  echo.onBookUpdate(w.p.update(), gw);
  ++sent;
  CHECK(w.p.shared.orders.size() == 2);
  CHECK(w.exit.drainQueued());          // it tries,
  CHECK(w.p.shared.orders.size() == 2); // but the socket is still full

  // The exchange reads: the filler, then every order in cl_ord_id order, none lost.
  hft::testing::readExactly(w.exchange.peer(), fillerBytes);
  const int flags = ::fcntl(w.exchange.peer(), F_GETFL);
  REQUIRE(::fcntl(w.exchange.peer(), F_SETFL, flags | O_NONBLOCK) == 0);
  std::vector<std::byte> stream;
  std::byte buf[65536];
  for (int i = 0; i < 100'000 && stream.size() < sent * sizeof(protocol::NewOrder); ++i) {
    w.session.poll(hft::testing::monotonicNs()); // flushes the session's pending bytes
    w.exit.drainQueued();
    const ssize_t n = ::recv(w.exchange.peer(), buf, sizeof(buf), 0);
    if (n > 0)
      stream.insert(stream.end(), buf, buf + n);
    else
      ::usleep(50);
  }
  CHECK(w.p.shared.orders.size() == 0);
  REQUIRE(stream.size() == sent * sizeof(protocol::NewOrder));
  for (std::uint64_t i = 0; i < sent; ++i) {
    protocol::NewOrder o;
    std::memcpy(&o, stream.data() + i * sizeof(o), sizeof(o));
    REQUIRE(o.clOrdId == i + 1);
  }
  CHECK(w.exit.ordersSent() == sent);
  CHECK(w.p.shared.strategy.outboundDrops.load() == 0);
}

TEST_CASE("Order gateway: warm() runs the order path and leaves no trace") {
  WiredPipeline w;
  risk::OrderIntent intent;
  intent.symbolId = kSym;
  intent.side = Side::Buy;
  intent.price = w.p.books.find(kSym)->mid();
  intent.qty = 1;
  OrderGateway gw = w.p.gateway();
  CHECK(gw.warm(intent) == risk::RiskResult::Accepted);
  // The verdict is risk's own: the same intent beyond max_order_qty is refused, uncounted.
  risk::OrderIntent big = intent;
  big.qty = 21;
  CHECK(gw.warm(big) == risk::RiskResult::MaxOrderQty);
  w.p.risk.setKillSwitch(true);
  CHECK(gw.warm(intent) == risk::RiskResult::KillSwitch);
  w.p.risk.setKillSwitch(false);
  for (std::size_t r = 0; r < risk::kRiskResultCount; ++r)
    CHECK(w.p.risk.count(static_cast<risk::RiskResult>(r)) == 0);
  CHECK(w.p.risk.ordersSent() == 0);
  CHECK(w.p.orders.openOrders() == 0);
  CHECK(w.p.orders.counters().sent == 0);
  CHECK(w.p.orders.openQty(kSym, Side::Buy) == 0);
  CHECK(w.exit.ordersSent() == 0);
  CHECK(w.p.shared.orders.size() == 0);
  CHECK(w.p.shared.journal.size() == 0);
  CHECK(w.p.shared.latency.size() == 0);
  CHECK(w.p.shared.netLog.size() == 0);
  CHECK(w.p.shared.strategyLog.size() == 0);

  // Nothing reached the wire and no id was taken: the first real order is seq 2, id 1.
  const std::uint64_t id = gw.send(intent);
  CHECK(id == 1);
  const auto order = w.read<protocol::NewOrder>();
  CHECK(order.header.seq == 2);
  CHECK(order.clOrdId == 1);
  CHECK(w.exit.ordersSent() == 1);
}

TEST_CASE("Order gateway: in the pipeline, warm() queues nothing") {
  Pipeline p;
  risk::OrderIntent intent;
  intent.symbolId = kSym;
  intent.side = Side::Sell;
  intent.price = p.books.find(kSym)->mid();
  intent.qty = 1;
  OrderGateway gw = p.gateway();
  CHECK(gw.warm(intent) == risk::RiskResult::Accepted);
  CHECK(p.shared.orders.size() == 0);
  CHECK(p.orders.openOrders() == 0);
  CHECK(p.risk.count(risk::RiskResult::Accepted) == 0);
}

TEST_CASE("Strategy worker: quiet rounds warm the order path at [engine] warm_interval_us") {
  const protocol::MdEntry e[2] = {{999'900, 40, 0, 0, 0}, {1'000'100, 40, 1, 0, 0}};
  std::vector<std::byte> bytes(protocol::marketDataSize(2));
  REQUIRE(protocol::encodeMarketData(bytes.data(), 1, 77, kSym, e) == bytes.size());
  const protocol::FrameView frame{bytes.data(), static_cast<std::uint16_t>(bytes.size()),
                                  static_cast<std::uint16_t>(protocol::MsgType::MarketData)};
  config::HftdConfig c;
  c.engine.warmIntervalUs = 1;
  engine::SharedState shared({}, 1024);
  engine::StrategyWorker w(shared, c);
  w.service(false);
  CHECK(w.warmPasses() == 0); // no book yet, and not trading: nothing to warm
  shared.tradingEnabled.store(true);
  w.onMarketData(frame, 1, 2);
  for (int i = 0; i < 1'000'000 && w.warmPasses() < 3; ++i)
    w.service(false);
  CHECK(w.warmPasses() >= 3);
  CHECK(w.warmAccepted() == w.warmPasses());
  // A busy round never warms: the next frame may be waiting.
  const std::uint64_t passes = w.warmPasses();
  for (int i = 0; i < 1000; ++i)
    w.service(true);
  CHECK(w.warmPasses() == passes);
  CHECK(shared.orders.size() == 0);
  CHECK(shared.strategy.riskRejects.load() == 0);

  c.engine.warmIntervalUs = 0; // off
  engine::SharedState shared2({}, 1024);
  engine::StrategyWorker off(shared2, c);
  shared2.tradingEnabled.store(true);
  off.onMarketData(frame, 1, 2);
  for (int i = 0; i < 10'000; ++i)
    off.service(false);
  CHECK(off.warmPasses() == 0);
}

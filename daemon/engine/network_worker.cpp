// SPDX-License-Identifier: MIT
// The network thread: exchange socket in, orders out.
#include "daemon/engine/network_worker.h"

#include <net/if.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cassert>
#include <cstring>

#include <spdlog/spdlog.h>

#include "daemon/engine/strategy_worker.h"
#include "libhft/core/cpu.h"

namespace hft::engine {

using namespace hft::protocol;

NetworkWorker::NetworkWorker(SharedState& shared, const config::HftdConfig& config)
    : shared_(shared), exchange_(config.exchange), core_(config.cpu.networkCore),
      busyPoll_(config.cpu.pollMode == config::PollMode::Busy),
      fifoPriority_(config.cpu.fifoPriority), session_(*this), exit_(shared, session_, clock_),
      hugePages_(config.cpu.hugePages), parkEpoll_(epoll_create1(EPOLL_CLOEXEC)),
      mdWire_(std::make_unique<core::Histogram>()), mdParsed_(std::make_unique<core::Histogram>()),
      kernelStamps_(config.network.kernelTimestamps) {
  if (kernelStamps_) {
    // Start-up: what the interface can stamp (`ethtool -T`); software stamps need nothing.
    feed::TimestampCaps caps;
    stampKeeper_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int rc = stampKeeper_ ? feed::queryTimestampCaps(stampKeeper_.get(),
                                                           exchange_.interface.c_str(), caps)
                                : -errno;
    // The kernel switches receive stamping on for the host a moment after the first socket asks
    // (deferred work): a socket that asks now and stays open means a session's first packets,
    // a few microseconds after its sockets ask, are stamped too.
    if (stampKeeper_)
      (void)feed::enableTimestamping(stampKeeper_.get(), feed::timestampingFlags(false, false));
    hardwareStamps_ = rc == 0 && caps.hardwareRx && caps.rawHardware;
    spdlog::info("Kernel timestamps: software receive and transmit stamps on the order session "
                 "and the UDP feed; hardware receive stamps on {}: {}",
                 exchange_.interface,
                 hardwareStamps_ ? "yes"
                 : rc == 0       ? "no (ethtool -T: the NIC has none)"
                                 : std::string("unknown (") + std::strerror(-rc) + ")");
  }
  // Here, on the thread that builds the engine, before any session can change exchange_.
  removeLeftoverProgram();
}

NetworkWorker::~NetworkWorker() = default;

void NetworkWorker::log(LogEvent::Kind kind, std::uint64_t a, std::uint64_t b, std::int64_t c,
                        std::uint64_t d) noexcept {
  if (!shared_.netLog.tryPush(LogEvent{kind, a, b, c, d}))
    bump(shared_.net.logDrops);
}

void NetworkWorker::reanchorClock(std::uint64_t nowNs) noexcept {
  // Often enough that the TSC's rate error stays far below a microsecond between anchors.
  constexpr std::uint64_t kReanchorNs = 100'000'000;
  if (nowNs - anchoredNs_ < kReanchorNs)
    return;
  anchoredNs_ = nowNs;
  clock_.reanchor();
}

void NetworkWorker::startConnect(std::uint64_t nowNs) noexcept {
  feed::SessionParams params;
  params.host = exchange_.host; // copies only at connect time, never per message
  params.port = exchange_.port;
  params.account = exchange_.account;
  params.heartbeatMs = exchange_.heartbeatMs;
  params.connectTimeoutMs = exchange_.connectTimeoutMs;
  log(LogEvent::Kind::Connecting, exchange_.port);
  session_.setKernelTimestamps(kernelStamps_, hardwareStamps_);
  if (const int rc = session_.connect(params, nowNs); rc < 0) {
    onClosed(feed::CloseReason::ConnectFailed, -rc, 0);
    return;
  }
  shared_.link.store(everLoggedOn_ ? LinkState::Reconnecting : LinkState::Connecting,
                     std::memory_order_release);
}

void NetworkWorker::pushInbound(InboundEvent::Kind kind, const FrameView* frame, std::uint64_t rxNs,
                                std::uint64_t decodedNs) noexcept {
  if (pipeline_) {
    // Run to completion: the frame is read where the session or the feed holds it.
    switch (kind) {
    case InboundEvent::Kind::MarketData:
      // An order it decides leaves inside this call (OrderGateway -> OrderExit).
      pipeline_->onMarketData(*frame, rxNs, decodedNs);
      break;
    case InboundEvent::Kind::ExecutionReport:
      pipeline_->onExecutionReport(frame->as<ExecutionReport>());
      break;
    case InboundEvent::Kind::LoggedOn: break;
    case InboundEvent::Kind::Disconnected: pipeline_->onDisconnected(); break;
    }
    return;
  }
  InboundEvent* slot = shared_.inbound.claim();
  if (!slot) {
    bump(shared_.net.inboundDrops);
    return;
  }
  slot->kind = kind;
  slot->rxNs = rxNs;
  slot->decodedNs = decodedNs;
  slot->length = frame ? frame->length : 0;
  if (frame)
    std::memcpy(slot->frame, frame->data, frame->length);
  shared_.inbound.publish();
  shared_.strategyParker.notify();
}

void NetworkWorker::recordMarketData(const FrameView& frame, std::uint64_t rxNs) noexcept {
  if (!recordMd_)
    return;
  MdRecordingEntry* entry = shared_.mdRecording.claim();
  if (!entry) {
    bump(shared_.net.mdRecordingDrops); // the recording has a hole; trading goes on
    return;
  }
  entry->rxNs = rxNs;
  entry->length = frame.length;
  std::memcpy(entry->frame, frame.data, frame.length);
  shared_.mdRecording.publish();
}

void NetworkWorker::onFrame(const FrameView& frame, std::uint64_t rxStamp) noexcept {
  const std::uint64_t rxNs = clock_.realtimeNs(rxStamp);
  const std::uint64_t decodedNs = clock_.realtimeNs(core::stamp());
  if (frame.type == static_cast<std::uint16_t>(MsgType::MarketData)) {
    if (transport_ != config::MdTransport::Tcp) {
      ++tcpMdIgnored_; // the UDP feed is this session's source; the exchange sends both
      return;
    }
    ++mdMessages_;
    exit_.noteKernelRx(rxNs, session_.kernelRxNs());
    pushInbound(InboundEvent::Kind::MarketData, &frame, rxNs, decodedNs);
    deferRecording(frame, rxNs, decodedNs);
    return;
  }
  // Execution reports are journaled before the strategy sees them: none may be lost.
  exit_.journal(1, frame.data, frame.length, rxNs);
  pushInbound(InboundEvent::Kind::ExecutionReport, &frame, rxNs, decodedNs);
  const auto report = frame.as<ExecutionReport>();
  log(LogEvent::Kind::Execution, report.clOrdId, report.execType,
      static_cast<std::int64_t>(report.lastPx), report.lastQty);
}

void NetworkWorker::onLoggedOn(std::uint64_t exchangeSessionId,
                               std::uint32_t heartbeatMs) noexcept {
  if (everLoggedOn_)
    bump(shared_.net.reconnects);
  everLoggedOn_ = true;
  backoffNs_ = exchange_.reconnectInitialMs * 1'000'000ULL;
  log(LogEvent::Kind::LoggedOn, exchangeSessionId, heartbeatMs, exchange_.port);
  warnStampsOnce();
  pushInbound(InboundEvent::Kind::LoggedOn, nullptr, clock_.nowRealtimeNs(), 0);
  shared_.link.store(LinkState::LoggedOn, std::memory_order_release);
}

void NetworkWorker::onClosed(feed::CloseReason reason, int error, std::uint8_t detail) noexcept {
  // The session ends: every datagram the exchange sent before it closed is already queued
  // (it stops the feed before it answers a LOGOUT), so take them before the link reads Idle.
  if (!shared_.wantSession.load(std::memory_order_acquire))
    drainFeed();
  shared_.lastCloseReason.store(static_cast<std::uint8_t>(reason), std::memory_order_relaxed);
  shared_.lastCloseError.store(error, std::memory_order_relaxed);
  shared_.lastCloseDetail.store(detail, std::memory_order_relaxed);
  log(LogEvent::Kind::Closed, static_cast<std::uint64_t>(reason), detail, error);
  exit_.releasePendingStamps(); // the socket and its error queue are gone
  pushInbound(InboundEvent::Kind::Disconnected, nullptr, clock_.nowRealtimeNs(), 0);
  const bool want = shared_.wantSession.load(std::memory_order_acquire);
  if (want && everLoggedOn_) {
    // Mid-session loss: come back with exponential backoff, as long as the session is wanted.
    reconnectAtNs_ = core::stampToNs(core::stamp()) + backoffNs_;
    log(LogEvent::Kind::Reconnecting, backoffNs_ / 1'000'000ULL);
    backoffNs_ = std::min<std::uint64_t>(backoffNs_ * 2, exchange_.reconnectMaxMs * 1'000'000ULL);
    shared_.link.store(LinkState::Reconnecting, std::memory_order_release);
  } else {
    shared_.link.store(want ? LinkState::Failed : LinkState::Idle, std::memory_order_release);
  }
}

void NetworkWorker::onBadFrame(FrameError error, std::uint16_t type) noexcept {
  if (error == FrameError::None) {
    bump(shared_.net.unknownTypes);
    log(LogEvent::Kind::UnknownType, type);
  } else {
    bump(shared_.net.malformed);
    log(LogEvent::Kind::BadFrame, static_cast<std::uint64_t>(error), type);
  }
}

void NetworkWorker::onGap(std::uint64_t missing) noexcept { log(LogEvent::Kind::Gap, missing); }

void NetworkWorker::recordMdLatency(const FrameView& frame, std::uint64_t rxNs,
                                    std::uint64_t decodedNs) noexcept {
  std::uint64_t sentNs = 0;
  std::memcpy(&sentNs, frame.data + offsetof(Header, timestamp), sizeof(sentNs));
  // Both clocks are this host's CLOCK_REALTIME; a step backwards would make no sense here.
  if (sentNs != 0 && rxNs >= sentNs) {
    mdWire_->record(rxNs - sentNs);
    mdParsed_->record(decodedNs - sentNs);
  }
}

void NetworkWorker::onFeedFrame(const FrameView& frame, std::uint64_t rxStamp) noexcept {
  const std::uint64_t rxNs = clock_.realtimeNs(rxStamp);
  const std::uint64_t decodedNs = clock_.realtimeNs(core::stamp());
  ++mdMessages_;
  exit_.noteKernelRx(rxNs, udpFeed_ ? udpFeed_->kernelRxNs() : 0); // AF_XDP: none (said once)
  pushInbound(InboundEvent::Kind::MarketData, &frame, rxNs, decodedNs);
  deferRecording(frame, rxNs, decodedNs);
}

void NetworkWorker::deferRecording(const FrameView& frame, std::uint64_t rxNs,
                                   std::uint64_t decodedNs) noexcept {
  if (receivedCount_ == received_.size())
    recordReceived();
  received_[receivedCount_++] = Received{frame, rxNs, decodedNs};
}

void NetworkWorker::recordReceived() noexcept {
  for (std::size_t i = 0; i < receivedCount_; ++i) {
    const Received& r = received_[i];
    recordMdLatency(r.frame, r.rxNs, r.decodedNs);
    recordMarketData(r.frame, r.rxNs);
  }
  receivedCount_ = 0;
}

void NetworkWorker::onFeedBadFrame(FrameError error, std::uint16_t type) noexcept {
  ++feedMalformed_;
  bump(shared_.net.malformed);
  if (firstFeedError_ == FrameError::None)
    firstFeedError_ = error;
  // Content errors read right in the log ("invalid market data dropped"); a datagram's
  // framing error is counted and named once in the feed's summary at the session's end.
  if (type != 0)
    log(LogEvent::Kind::BadFrame, static_cast<std::uint64_t>(error), type);
}

void NetworkWorker::onFeedGap(std::uint64_t missing) noexcept { log(LogEvent::Kind::Gap, missing); }

bool NetworkWorker::openFeed() noexcept {
  transport_ = exchange_.mdTransport;
  shared_.net.mdTransport.store(static_cast<std::uint8_t>(transport_), std::memory_order_relaxed);
  mdWire_->reset();
  mdParsed_->reset();
  firstFeedError_ = FrameError::None;
  feedActive_ = true;
  if (transport_ == config::MdTransport::Tcp)
    return true;
  feed::FeedParams params;
  params.address = exchange_.udpFeedAddress;
  params.port = exchange_.udpFeedPort;
  params.interface = exchange_.interface;
  params.queue = exchange_.xdpQueue;
  using FeedMode = feed::FeedParams::XdpMode;
  params.xdpMode = exchange_.xdpMode == config::XdpMode::Native ? FeedMode::Native
                   : exchange_.xdpMode == config::XdpMode::Skb  ? FeedMode::Skb
                                                                : FeedMode::Auto;
  params.busyPollUs = exchange_.udpBusyPollUs;
  params.hugePages = hugePages_;
  params.kernelTimestamps = kernelStamps_;
  params.hardwareTimestamps = hardwareStamps_;
  const std::string where = exchange_.udpFeedAddress + ":" + std::to_string(exchange_.udpFeedPort);
  // Session start-up, not the hot path: this is where set-up problems are explained.
  try {
    if (transport_ == config::MdTransport::AfXdp) {
      try {
        xdpFeed_ = std::make_unique<feed::XdpFeedReceiver>(params, *this);
        spdlog::info("Market data: AF_XDP on {} queue {} ({} XDP, {}, UMEM on {}), UDP feed {}"
                     "{}",
                     exchange_.interface, exchange_.xdpQueue, xdpFeed_->xdpMode(),
                     xdpFeed_->zeroCopy() ? "zero-copy" : "copy mode",
                     xdpFeed_->umemOnHugePages() ? "hugepages" : "normal pages", where,
                     xdpFeed_->replacedLeftover()
                         ? "; replaced the XDP program an earlier hftd left behind"
                         : "");
        if (kernelStamps_ && !feedStampsWarned_) {
          feedStampsWarned_ = true;
          spdlog::warn("Kernel timestamps are not available on AF_XDP (the packets bypass the "
                       "kernel's stack): orders the feed triggers have no kernel_rx_ns; the "
                       "user-space stages stay");
        }
        return true;
      } catch (const feed::FeedError& e) {
        const bool fallback = exchange_.xdpFallbackUdp && e.kind() != feed::FeedError::Kind::Config;
        if (!fallback) {
          spdlog::error("Cannot receive market data over AF_XDP: {}{}", e.what(),
                        exchange_.xdpFallbackUdp ? ""
                                                 : ". Set [exchange] xdp_fallback_udp = true to "
                                                   "fall back to a kernel UDP socket");
          throw;
        }
        spdlog::warn("AF_XDP unavailable ({}): falling back to a kernel UDP socket "
                     "([exchange] xdp_fallback_udp = true)",
                     e.what());
        transport_ = config::MdTransport::Udp;
        shared_.net.mdTransport.store(static_cast<std::uint8_t>(transport_),
                                      std::memory_order_relaxed);
      }
    }
    udpFeed_ = std::make_unique<feed::UdpFeedReceiver>(params, *this);
    spdlog::info("Market data: UDP feed {} on a kernel socket (recvmmsg, receive buffer {} KiB, "
                 "busy polling {})",
                 where, udpFeed_->receiveBufferBytes() / 1024,
                 udpFeed_->busyPolling() ? std::to_string(exchange_.udpBusyPollUs) + " us"
                 : exchange_.udpBusyPollUs
                     ? "refused (needs CAP_NET_ADMIN above net.core.busy_read)"
                     : "off");
    if (kernelStamps_ && !udpFeed_->kernelRxStamps() && !feedStampsWarned_) {
      feedStampsWarned_ = true;
      spdlog::warn("Kernel timestamps unavailable on the UDP feed (SO_TIMESTAMPING: {}): orders "
                   "it triggers have no kernel_rx_ns; the user-space stages stay",
                   std::strerror(udpFeed_->kernelStampsError()));
    }
    return true;
  } catch (const feed::FeedError& e) {
    if (transport_ == config::MdTransport::Udp)
      spdlog::error("Cannot receive market data over UDP: {}", e.what());
    shared_.lastCloseReason.store(static_cast<std::uint8_t>(feed::CloseReason::FeedFailed),
                                  std::memory_order_relaxed);
    shared_.lastCloseError.store(e.error(), std::memory_order_relaxed);
    shared_.lastCloseDetail.store(0, std::memory_order_relaxed);
  } catch (const std::exception& e) {
    spdlog::error("Cannot open the market data feed: {}", e.what());
    shared_.lastCloseReason.store(static_cast<std::uint8_t>(feed::CloseReason::FeedFailed),
                                  std::memory_order_relaxed);
    shared_.lastCloseError.store(ENOMEM, std::memory_order_relaxed);
  }
  feedActive_ = false;
  pushInbound(InboundEvent::Kind::Disconnected, nullptr, clock_.nowRealtimeNs(), 0);
  shared_.link.store(LinkState::Failed, std::memory_order_release);
  return false;
}

void NetworkWorker::removeLeftoverProgram() noexcept {
  if (exchange_.mdTransport != config::MdTransport::AfXdp)
    return;
  const int ifindex = static_cast<int>(if_nametoindex(exchange_.interface.c_str()));
  if (ifindex == 0)
    return; // the session start explains it
  try {
    if (feed::XdpFeedReceiver::removeLeftover(ifindex, exchange_.interface))
      spdlog::info("Removed the XDP program an earlier hftd left on {}", exchange_.interface);
  } catch (const std::exception& e) {
    spdlog::warn("At start-up: {}", e.what());
  }
}

bool NetworkWorker::pollFeed() noexcept {
  if (xdpFeed_)
    return xdpFeed_->poll() > 0;
  if (udpFeed_)
    return udpFeed_->poll() > 0;
  return false;
}

void NetworkWorker::drainFeed() noexcept {
  // Bounded: a feed that keeps coming (another session on the exchange) cannot hold us here.
  for (int i = 0; i < 4096 && pollFeed(); ++i) {
  }
}

void NetworkWorker::logMdSummary() noexcept {
  // Session end, on this thread: short lines formatted on the stack, so that even this
  // control-path moment leaves the heap alone.
  char line[480];
  auto emit = [&line]<typename... Args>(fmt::format_string<Args...> format,
                                        Args&&... args) noexcept {
    try {
      const auto r = fmt::format_to_n(line, sizeof(line) - 1, format, std::forward<Args>(args)...);
      spdlog::info("{}", std::string_view(line, r.size < sizeof(line) ? r.size : sizeof(line) - 1));
    } catch (...) {
      // Logging only: nothing to undo.
    }
  };
  const char* transport = config::describe(transport_).data();
  emit("Market data over {}: {} frames, {} lost at a full strategy ring, {} TCP snapshots "
       "ignored",
       transport, mdMessages_, shared_.net.inboundDrops.load(std::memory_order_relaxed),
       tcpMdIgnored_);
  const feed::FeedDecoder* decoder = xdpFeed_   ? &xdpFeed_->decoder()
                                     : udpFeed_ ? &udpFeed_->decoder()
                                                : nullptr;
  if (decoder) {
    const auto& d = decoder->counters();
    emit("UDP feed: {} datagrams, {} frames, {} gaps, {} stale, {} malformed datagrams, {} "
         "invalid snapshots, first error: {}",
         d.datagrams, d.frames, d.gaps, d.stale, d.malformedDatagrams, d.invalidMarketData,
         firstFeedError_ == FrameError::None ? std::string_view("none")
                                             : protocol::describe(firstFeedError_));
  }
  if (udpFeed_ && udpFeed_->counters().truncated)
    emit("UDP feed: {} datagrams larger than {} bytes dropped", udpFeed_->counters().truncated,
         feed::UdpFeedReceiver::kSlotBytes);
  if (xdpFeed_) {
    const auto& x = xdpFeed_->counters();
    const auto k = xdpFeed_->kernelCounters();
    emit("AF_XDP: {} packets in {} batches, {} dropped by header checks, kernel: {} dropped, {} "
         "RX ring full, {} fill ring empty",
         x.packets, x.batches, xdpFeed_->droppedPackets(), k.rxDropped, k.rxRingFull,
         k.fillRingEmpty);
    for (std::size_t i = 1; i < feed::kPacketErrorCount; ++i)
      if (x.dropped[i])
        emit("AF_XDP: dropped {} packets: {}", x.dropped[i],
             feed::describe(static_cast<feed::PacketError>(i)));
  }
  if (kernelStamps_)
    emit("Kernel timestamps: {} orders recorded without a transmit stamp", exit_.txStampsMissing());
  const auto& h = *mdParsed_;
  const auto& w = *mdWire_;
  if (h.count())
    emit("Market data receive latency over {} (exchange send -> frame parsed), ns: n={} p50={} "
         "p90={} p99={} p99.9={} max={}; to bytes taken: p50={} p99={}",
         transport, h.count(), h.percentile(50), h.percentile(90), h.percentile(99),
         h.percentile(99.9), h.max(), w.percentile(50), w.percentile(99));
}

void NetworkWorker::closeFeed() noexcept {
  if (!feedActive_)
    return;
  feedActive_ = false;
  logMdSummary();
  if (xdpFeed_) {
    if (const int rc = xdpFeed_->detachProgram(); rc < 0)
      spdlog::error("Cannot detach the XDP program from {}: {}; the feed's packets stay "
                    "redirected until you remove it: ip link set dev {} xdp off",
                    exchange_.interface, std::strerror(-rc), exchange_.interface);
    else
      spdlog::info("XDP program detached from {}", exchange_.interface);
  }
  xdpFeed_.reset();
  udpFeed_.reset();
}

int NetworkWorker::parkFd() noexcept {
  const int feedFd = xdpFeed_ ? xdpFeed_->fd() : udpFeed_ ? udpFeed_->fd() : -1;
  if (feedFd < 0 || !parkEpoll_)
    return session_.fd();
  // Idle path only: registering again is one cheap call; EEXIST means it already is.
  for (const int fd : {feedFd, session_.fd()}) {
    if (fd < 0)
      continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(parkEpoll_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  return parkEpoll_.get();
}

void NetworkWorker::warnStampsOnce() noexcept {
  // At logon, a control-path moment of the network thread; one line per hftd.
  if (!kernelStamps_ || stampsWarned_)
    return;
  if (session_.kernelRxStamps() && session_.kernelTxStamps())
    return;
  stampsWarned_ = true;
  spdlog::warn("Kernel timestamps unavailable on the order session ({} refused SO_TIMESTAMPING: "
               "{}): latency records have {}; the user-space stages stay",
               exchange_.host, std::strerror(session_.kernelStampsError()),
               session_.kernelRxStamps() ? "no kernel_tx_ns" : "no kernel stamps");
}

void NetworkWorker::publishCounters(std::uint64_t nowNs) noexcept {
  countersDirty_ = false;
  publishedNs_ = nowNs;
  exit_.checkJournalRoom();
  const auto& c = session_.counters();
  auto& n = shared_.net;
  const feed::FeedDecoder* decoder = xdpFeed_   ? &xdpFeed_->decoder()
                                     : udpFeed_ ? &udpFeed_->decoder()
                                                : nullptr;
  const feed::FeedCounters d = decoder ? decoder->counters() : feed::FeedCounters{};
  // The session's totals count the feed's datagrams and frames with the TCP reads and frames.
  n.rxPackets.store(c.rxPackets + d.datagrams, std::memory_order_relaxed);
  n.rxMessages.store(c.rxMessages + d.frames, std::memory_order_relaxed);
  n.mdGaps.store(c.gaps + d.gaps, std::memory_order_relaxed);
  n.mdMessages.store(mdMessages_, std::memory_order_relaxed);
  n.feedDatagrams.store(d.datagrams, std::memory_order_relaxed);
  n.feedFrames.store(d.frames, std::memory_order_relaxed);
  n.feedGaps.store(d.gaps, std::memory_order_relaxed);
  n.feedMalformed.store(feedMalformed_, std::memory_order_relaxed);
  n.feedPacketDrops.store(xdpFeed_ ? xdpFeed_->droppedPackets() : 0, std::memory_order_relaxed);
  n.tcpMdIgnored.store(tcpMdIgnored_, std::memory_order_relaxed);
  n.ordersSent.store(exit_.ordersSent(), std::memory_order_relaxed);
  n.cancelsSent.store(exit_.cancelsSent(), std::memory_order_relaxed);
}

void NetworkWorker::run() noexcept {
  core::nameThisThread("hft-net");
  if (fifoPriority_ > 0)
    (void)core::setFifoPriority(fifoPriority_); // checked once at start-up by the engine
  (void)core::pinThisThread(core_);
  core::IdleBackoff idle(busyPoll_);
  bool busy = false;
  while (!shared_.stop.load(std::memory_order_relaxed)) {
    bump(shared_.net.beats);
    // Run to completion: the pipeline's reset for a new session comes before the session's
    // first frame, and its cancels and reloads are taken between passes.
    if (pipeline_)
      pipeline_->service(busy);
    const std::uint64_t now = core::stampToNs(core::stamp());
    bool didWork = false;

    // acquire: pairs with the control thread's release so setExchange() is visible.
    const std::uint64_t generation = shared_.sessionGeneration.load(std::memory_order_acquire);
    if (generation != currentGeneration_) {
      currentGeneration_ = generation;
      session_.close(feed::CloseReason::None);
      exit_.releasePendingStamps();
      closeFeed();
      session_.resetCounters();
      exit_.resetCounters();
      mdMessages_ = 0;
      tcpMdIgnored_ = feedMalformed_ = 0;
      shared_.net.reconnects.store(0, std::memory_order_relaxed);
      shared_.net.malformed.store(0, std::memory_order_relaxed);
      shared_.net.unknownTypes.store(0, std::memory_order_relaxed);
      shared_.net.mdRecordingDrops.store(0, std::memory_order_relaxed);
      recordMd_ = shared_.recordMarketData.load(std::memory_order_relaxed);
      everLoggedOn_ = false;
      backoffNs_ = exchange_.reconnectInitialMs * 1'000'000ULL;
      publishCounters(now);
      shared_.linkGeneration.store(generation, std::memory_order_release);
      // The feed opens before the logon: nothing the exchange sends after it is missed.
      if (shared_.wantSession.load(std::memory_order_acquire) && openFeed())
        startConnect(now);
      didWork = true;
    }

    const bool want = shared_.wantSession.load(std::memory_order_acquire);
    const auto state = session_.state();
    if (!want && state != feed::SessionState::Disconnected &&
        state != feed::SessionState::LoggingOut) {
      // Orders queued before the stop (the cancels of stop-session) go out first.
      exit_.drainQueued();
      session_.logout(now);
      shared_.link.store(LinkState::Closing, std::memory_order_release);
    }
    if (want && state == feed::SessionState::Disconnected && everLoggedOn_ && now >= reconnectAtNs_)
      startConnect(now);
    // The session is over (stop-session): the feed was drained at the close; let it go.
    if (!want && state == feed::SessionState::Disconnected && feedActive_) {
      drainFeed();
      publishCounters(now);
      closeFeed();
    }

    didWork |= session_.poll(now);
    didWork |= pollFeed();
    assert(receivedCount_ == 0);    // recorded at the end of each read, while the bytes exist
    didWork |= exit_.drainQueued(); // the pipeline's orders, or any the socket refused
    busy = didWork;
    if (didWork) {
      countersDirty_ = true;
      // Orders are out: a backlog of waiting stamps is read now rather than in an idle round.
      if (exit_.pendingStamps() >= 512)
        exit_.collectTxStamps(now);
      // Under sustained traffic the control plane still sees counters at least every period.
      if (now - publishedNs_ >= kPublishPeriodNs)
        publishCounters(now);
      idle.worked();
      continue;
    }
    // A quiet round: publish what the busy ones counted (no frame is waiting now).
    if (countersDirty_)
      publishCounters(now);
    exit_.collectTxStamps(now); // idle: before parking, or the error queue would wake the park
    reanchorClock(now);
    if (idle.shouldPark())
      shared_.networkParker.park([this] { return shared_.orders.front() != nullptr; }, parkFd(),
                                 core::IdleBackoff::kParkTimeoutMs);
  }
  if (session_.state() != feed::SessionState::Disconnected)
    session_.close(feed::CloseReason::LocalLogout);
  exit_.releasePendingStamps();
  publishCounters(core::stampToNs(core::stamp()));
  closeFeed(); // hftd exits: the XDP program leaves the interface with it
}

} // namespace hft::engine

// SPDX-License-Identifier: MIT
// The UDP feed's receive paths: kernel socket (recvmmsg) and AF_XDP (libxdp).
#include "daemon/feed/feed_receiver.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "daemon/feed/kernel_stamps.h"
#include "libhft/core/stamp_clock.h"

#ifndef HFT_XDP_OBJECT_INSTALLED
#define HFT_XDP_OBJECT_INSTALLED ""
#endif
#ifndef HFT_XDP_OBJECT_BUILD
#define HFT_XDP_OBJECT_BUILD ""
#endif

namespace hft::feed {
namespace {

constexpr int kReceiveBufferBytes = 8 << 20; // absorbs bursts while the thread is descheduled

std::string errnoText(int error) { return std::strerror(error); }

FeedError::Kind kindOf(int error) noexcept {
  switch (error) {
  case EPERM:
  case EACCES: return FeedError::Kind::Permission;
  case EOPNOTSUPP: return FeedError::Kind::Unsupported;
  case EBUSY:
  case EEXIST: return FeedError::Kind::Busy;
  case ENODEV:
  case EINVAL:
  case EADDRNOTAVAIL: return FeedError::Kind::Config;
  default: return FeedError::Kind::System;
  }
}

const char* permissionHint() noexcept {
  return " (hftd needs CAP_NET_ADMIN, CAP_BPF, CAP_PERFMON and CAP_NET_RAW for AF_XDP: run it "
         "as root or install units/af-xdp.conf.example as a drop-in of hftd.service; or use "
         "md_transport = \"udp\")";
}

[[noreturn]] void fail(int error, const std::string& what) {
  std::string text = what + ": " + errnoText(error);
  if (kindOf(error) == FeedError::Kind::Permission)
    text += permissionHint();
  throw FeedError(kindOf(error), error, text);
}

// libbpf and libxdp talk through a printf-style callback; what they say goes to our log.
int forwardLibraryLog(const char* prefix, spdlog::level::level_enum level, const char* format,
                      va_list args) {
  char line[512];
  std::vsnprintf(line, sizeof(line), format, args);
  std::size_t n = std::strlen(line);
  while (n > 0 && line[n - 1] == '\n')
    line[--n] = '\0';
  const char* text = line;
  if (std::strncmp(text, prefix, std::strlen(prefix)) == 0)
    text += std::strlen(prefix); // libxdp names itself already
  spdlog::log(level, "{}{}", prefix, text);
  return 0;
}

int libxdpLog(libxdp_print_level level, const char* format, va_list args) {
  // libxdp warns about what it then works around (no bpffs: one program, no dispatcher).
  return forwardLibraryLog(
      "libxdp: ", level == LIBXDP_WARN ? spdlog::level::info : spdlog::level::debug, format, args);
}

int libbpfLog(libbpf_print_level level, const char* format, va_list args) {
  return forwardLibraryLog(
      "libbpf: ", level == LIBBPF_WARN ? spdlog::level::warn : spdlog::level::debug, format, args);
}

void routeLibraryLogs() {
  static const bool done = [] {
    libxdp_set_print(libxdpLog);
    libbpf_set_print(libbpfLog);
    return true;
  }();
  (void)done;
}

int libxdpError(long code) noexcept {
  return code < 0 ? static_cast<int>(-code) : static_cast<int>(code);
}

} // namespace

std::string defaultXdpObjectPath() {
  if (const char* env = std::getenv("HFTD_XDP_OBJECT"); env && *env)
    return env;
  std::error_code ec;
  for (const char* candidate : {HFT_XDP_OBJECT_INSTALLED, HFT_XDP_OBJECT_BUILD})
    if (*candidate && std::filesystem::exists(candidate, ec))
      return candidate;
  return HFT_XDP_OBJECT_INSTALLED;
}

// ---------------------------------------------------------------------------------------------
// Kernel UDP socket

UdpFeedReceiver::UdpFeedReceiver(const FeedParams& params, FeedListener& listener)
    : decoder_(listener), slots_(std::make_unique<std::byte[]>(kBatch * kSlotBytes)),
      messages_(std::make_unique<mmsghdr[]>(kBatch)), iovecs_(std::make_unique<iovec[]>(kBatch)) {
  in_addr addr{};
  if (inet_pton(AF_INET, params.address.c_str(), &addr) != 1)
    throw FeedError(FeedError::Kind::Config, EINVAL,
                    "udp_feed address '" + params.address + "' is not a numeric IPv4 address");
  fd_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_)
    fail(errno, "cannot create the UDP feed socket");
  const int one = 1;
  // Several listeners of one multicast group on a host (a second hftd, a capture tool).
  if (setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
    fail(errno, "cannot set SO_REUSEADDR on the UDP feed socket");
  // FORCE passes net.core.rmem_max with CAP_NET_ADMIN; without it the plain option is capped.
  if (setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBufferBytes,
                 sizeof(kReceiveBufferBytes)) != 0)
    setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &kReceiveBufferBytes, sizeof(kReceiveBufferBytes));
  socklen_t len = sizeof(rcvbuf_);
  getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_, &len);

  const bool multicast = IN_MULTICAST(ntohl(addr.s_addr));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(params.port);
  local.sin_addr = addr; // a group address binds to that group's traffic only
  if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0)
    fail(errno, "cannot bind the UDP feed socket to " + params.address + ":" +
                    std::to_string(params.port) +
                    (errno == EADDRNOTAVAIL ? " (not an address of this host: set [exchange] "
                                              "udp_feed to a local address, 0.0.0.0 or a group)"
                                            : ""));
  if (multicast) {
    ip_mreqn join{};
    join.imr_multiaddr = addr;
    join.imr_ifindex = static_cast<int>(if_nametoindex(params.interface.c_str()));
    if (join.imr_ifindex == 0)
      throw FeedError(FeedError::Kind::Config, ENODEV,
                      "cannot join " + params.address + ": no interface '" + params.interface +
                          "' ([exchange] interface or --interface)");
    if (setsockopt(fd_.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof(join)) != 0)
      fail(errno, "cannot join multicast group " + params.address + " on " + params.interface);
  }
  if (params.busyPollUs > 0) {
    const int usec = static_cast<int>(params.busyPollUs);
    // Above net.core.busy_read the kernel wants CAP_NET_ADMIN; without it we run unpolled.
    busyPolling_ = setsockopt(fd_.get(), SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec)) == 0;
#ifdef SO_PREFER_BUSY_POLL
    if (busyPolling_)
      setsockopt(fd_.get(), SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one));
#endif
  }
  for (unsigned i = 0; i < kBatch; ++i) {
    iovecs_[i].iov_base = slots_.get() + i * kSlotBytes;
    iovecs_[i].iov_len = kSlotBytes;
    messages_[i] = {};
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
  }
  if (params.kernelTimestamps) {
    const int rc =
        enableTimestamping(fd_.get(), timestampingFlags(false, params.hardwareTimestamps));
    rxStampsOn_ = rc == 0;
    stampsError_ = rc < 0 ? -rc : 0;
  }
  if (rxStampsOn_) {
    controls_ = std::make_unique<char[]>(kBatch * kStampControlBytes);
    for (unsigned i = 0; i < kBatch; ++i) {
      messages_[i].msg_hdr.msg_control = controls_.get() + i * kStampControlBytes;
      messages_[i].msg_hdr.msg_controllen = kStampControlBytes;
    }
  }
}

int UdpFeedReceiver::poll() noexcept {
  if (rxStampsOn_) {
    // The kernel wrote back how much control data each message got: give them room again.
    for (unsigned i = 0; i < lastBatch_; ++i)
      messages_[i].msg_hdr.msg_controllen = kStampControlBytes;
    lastBatch_ = 0;
  }
  const int n = ::recvmmsg(fd_.get(), messages_.get(), kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      ++counters_.errors;
    return 0;
  }
  const std::uint64_t rxStamp = core::stamp();
  ++counters_.reads;
  if (rxStampsOn_)
    lastBatch_ = static_cast<unsigned>(n);
  for (int i = 0; i < n; ++i) {
    mmsghdr& m = messages_[static_cast<unsigned>(i)];
    if (rxStampsOn_)
      kernelRxNs_ = receiveStampNs(m.msg_hdr);
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      ++counters_.truncated; // larger than a slot: its frames are lost, the seq gap shows it
      m.msg_hdr.msg_flags = 0;
      continue;
    }
    decoder_.onDatagram({slots_.get() + static_cast<std::size_t>(i) * kSlotBytes, m.msg_len},
                        rxStamp);
  }
  decoder_.batchEnd(); // before the next recvmmsg() reuses the slots
  return n;
}

// ---------------------------------------------------------------------------------------------
// AF_XDP

struct XdpFeedReceiver::Rings {
  xsk_ring_prod fill{};
  xsk_ring_cons completion{};
  xsk_ring_cons rx{};
};

bool XdpFeedReceiver::attached(int ifindex) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp) || !mp)
    return false;
  bool found = false;
  if (xdp_multiprog__is_legacy(mp)) {
    const xdp_program* main = xdp_multiprog__main_prog(mp);
    found = main && std::strcmp(xdp_program__name(main), kProgramName) == 0;
  } else {
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p;
         p = xdp_multiprog__next_prog(p, mp))
      found = found || std::strcmp(xdp_program__name(p), kProgramName) == 0;
  }
  xdp_multiprog__close(mp);
  return found;
}

bool XdpFeedReceiver::removeLeftover(int ifindex, const std::string& interface) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (const long err = libxdp_get_error(mp); err || !mp)
    return false; // nothing attached (or nothing we can read: the attach will tell)
  bool removed = false;
  std::string foreign;
  if (xdp_multiprog__is_legacy(mp)) {
    const xdp_program* main = xdp_multiprog__main_prog(mp);
    if (main && std::strcmp(xdp_program__name(main), kProgramName) == 0) {
      const std::uint32_t id = xdp_program__id(main);
      if (const int rc = xdp_multiprog__detach(mp); rc < 0) {
        xdp_multiprog__close(mp);
        fail(-rc, "cannot remove the XDP program (id " + std::to_string(id) +
                      ") an earlier hftd left on " + interface);
      }
      removed = true;
    } else if (main) {
      foreign = std::string(xdp_program__name(main)) + "' (id " +
                std::to_string(xdp_program__id(main)) + ")";
    }
  } else {
    // A libxdp dispatcher: take ours out, leave the other programs running.
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p;
         p = xdp_multiprog__next_prog(p, mp)) {
      if (std::strcmp(xdp_program__name(p), kProgramName) != 0)
        continue;
      if (const int rc = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
          rc < 0) {
        xdp_multiprog__close(mp);
        fail(-rc, "cannot remove the XDP program an earlier hftd left on " + interface);
      }
      removed = true;
      break;
    }
  }
  xdp_multiprog__close(mp);
  if (!foreign.empty())
    throw FeedError(FeedError::Kind::Busy, EBUSY,
                    "interface " + interface + " already runs another XDP program '" + foreign +
                        "': hftd only replaces its own. Remove it (xdp-loader unload " + interface +
                        " --all) or use md_transport = \"udp\"");
  return removed;
}

XdpFeedReceiver::XdpFeedReceiver(const FeedParams& params, FeedListener& listener)
    : decoder_(listener), rings_(std::make_unique<Rings>()) {
  routeLibraryLogs();
  in_addr addr{};
  if (inet_pton(AF_INET, params.address.c_str(), &addr) != 1)
    throw FeedError(FeedError::Kind::Config, EINVAL,
                    "udp_feed address '" + params.address + "' is not a numeric IPv4 address");
  filter_.dstAddr = addr.s_addr;
  filter_.dstPort = params.port;
  ifindex_ = static_cast<int>(if_nametoindex(params.interface.c_str()));
  if (ifindex_ == 0)
    throw FeedError(FeedError::Kind::Config, ENODEV,
                    "no network interface '" + params.interface +
                        "' for AF_XDP ([exchange] interface or --interface)");
  try {
    replacedLeftover_ = removeLeftover(ifindex_, params.interface);

    const std::string object = params.xdpObject.empty() ? defaultXdpObjectPath() : params.xdpObject;
    program_ = xdp_program__open_file(object.c_str(), "xdp", nullptr);
    if (const long err = libxdp_get_error(program_); err) {
      program_ = nullptr;
      fail(libxdpError(err), "cannot open the XDP program " + object +
                                 " (build it with ninja, install it, or set HFTD_XDP_OBJECT)");
    }
    // Native XDP where the driver has it (veth does), the generic hook everywhere else.
    int rc = -EOPNOTSUPP;
    if (params.xdpMode != FeedParams::XdpMode::Skb) {
      rc = xdp_program__attach(program_, ifindex_, XDP_MODE_NATIVE, 0);
      nativeMode_ = rc == 0;
    }
    if (rc != 0 && rc != -EPERM && params.xdpMode != FeedParams::XdpMode::Native)
      rc = xdp_program__attach(program_, ifindex_, XDP_MODE_SKB, 0);
    if (rc == -EEXIST || rc == -EBUSY) {
      // Something holds the hook that removeLeftover() could not identify: reading another
      // program's name needs CAP_SYS_ADMIN, so it may be a killed hftd's; never guess.
      std::uint32_t id = 0;
      (void)bpf_xdp_query_id(ifindex_, 0, &id);
      throw FeedError(FeedError::Kind::Busy, -rc,
                      "interface " + params.interface + " already runs an XDP program (id " +
                          std::to_string(id) +
                          ") that hftd cannot identify without CAP_SYS_ADMIN. If it is one a "
                          "killed hftd left (`bpftool net show dev " +
                          params.interface + "` names it hft_md_xdp), remove it: ip link set dev " +
                          params.interface + " xdp off");
    }
    if (rc != 0)
      fail(-rc, "cannot attach the XDP program to " + params.interface +
                    (params.xdpMode == FeedParams::XdpMode::Native
                         ? std::string(" in native mode (xdp_mode = \"native\": does the driver "
                                       "support XDP? \"auto\" falls back to the generic hook)")
                         : std::string()));
    programAttached_ = true;

    bpf_object* obj = xdp_program__bpf_obj(program_);
    const int filterMap = obj ? bpf_object__find_map_fd_by_name(obj, "hft_feed") : -1;
    const int xsksMap = obj ? bpf_object__find_map_fd_by_name(obj, "hft_xsks") : -1;
    if (filterMap < 0 || xsksMap < 0)
      throw FeedError(FeedError::Kind::System, ENOENT,
                      "the XDP program " + object +
                          " lacks the maps hft_feed and hft_xsks: it "
                          "is not hftd's (rebuild daemon/feed/bpf)");

    core::RegionOptions memory;
    memory.hugePages = params.hugePages;
    umemArea_ = core::MappedRegion(static_cast<std::size_t>(kFrames) * kFrameSize, memory);
    xsk_umem_config umemConfig{};
    umemConfig.fill_size = kFrames;
    umemConfig.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
    umemConfig.frame_size = kFrameSize;
    umemConfig.frame_headroom = 0;
    umemConfig.flags = 0;
    rc = xsk_umem__create(&umem_, umemArea_.data(), umemArea_.size(), &rings_->fill,
                          &rings_->completion, &umemConfig);
    if (rc != 0) {
      umem_ = nullptr;
      fail(-rc,
           "cannot register the AF_XDP UMEM (" + std::to_string(umemArea_.size() >> 20) + " MiB)");
    }

    xsk_socket_config socketConfig{};
    socketConfig.rx_size = kFrames;
    socketConfig.tx_size = 0;
    socketConfig.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; // ours is attached
    socketConfig.xdp_flags = 0;
    // Zero-copy where the driver allows it, copy mode everywhere else.
    socketConfig.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP;
    rc = xsk_socket__create(&xsk_, params.interface.c_str(), params.queue, umem_, &rings_->rx,
                            nullptr, &socketConfig);
    zeroCopy_ = rc == 0;
    if (rc != 0 && rc != -EPERM && rc != -EACCES) {
      xsk_ = nullptr;
      socketConfig.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
      rc = xsk_socket__create(&xsk_, params.interface.c_str(), params.queue, umem_, &rings_->rx,
                              nullptr, &socketConfig);
    }
    if (rc != 0) {
      xsk_ = nullptr;
      std::string what = "cannot bind an AF_XDP socket to " + params.interface + " queue " +
                         std::to_string(params.queue);
      if (rc == -EINVAL)
        what += " (does the queue exist? `ethtool -l " + params.interface +
                "`; set [exchange] xdp_queue)";
      fail(-rc, what);
    }
    if (const int rc2 = xsk_socket__update_xskmap(xsk_, xsksMap); rc2 != 0)
      fail(-rc2, "cannot put the AF_XDP socket in the XDP program's map");

    // Every frame starts on the fill ring: the kernel writes packets into them.
    std::uint32_t index = 0;
    if (xsk_ring_prod__reserve(&rings_->fill, kFrames, &index) != kFrames)
      throw FeedError(FeedError::Kind::System, ENOMEM, "cannot fill the AF_XDP fill ring");
    for (std::uint32_t i = 0; i < kFrames; ++i)
      *xsk_ring_prod__fill_addr(&rings_->fill, index + i) =
          static_cast<std::uint64_t>(i) * kFrameSize;
    xsk_ring_prod__submit(&rings_->fill, kFrames);

    if (params.busyPollUs > 0) {
      const int one = 1;
      const int usec = static_cast<int>(params.busyPollUs);
      const int budget = static_cast<int>(kBatch);
      const int fd = xsk_socket__fd(xsk_);
      // Zero-copy drivers run their NAPI from our poll instead of an interrupt.
      setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec));
#ifdef SO_PREFER_BUSY_POLL
      setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one));
#endif
#ifdef SO_BUSY_POLL_BUDGET
      setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget));
#endif
      (void)one;
      (void)budget;
    }

    // Last: from here on the program sends the feed's port to the socket.
    struct {
      std::uint32_t dstAddr;
      std::uint16_t dstPort;
      std::uint16_t reserved;
    } filter{filter_.dstAddr, htons(filter_.dstPort), 0};
    const std::uint32_t zero = 0;
    if (bpf_map_update_elem(filterMap, &zero, &filter, BPF_ANY) != 0)
      fail(errno, "cannot set the XDP program's feed filter");
  } catch (...) {
    cleanUp();
    throw;
  }
}

int XdpFeedReceiver::detachProgram() noexcept {
  if (!programAttached_)
    return 0;
  const std::uint32_t flags = nativeMode_ ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  std::uint32_t attachedId = 0;
  int rc = 0;
  // Attached alone (no libxdp dispatcher, e.g. without a bpffs): detach over netlink, which
  // needs only CAP_NET_ADMIN, and only if the interface still runs this very program (the
  // kernel checks the expected fd). libxdp's own detach would look the program up by id,
  // which needs CAP_SYS_ADMIN that a hardened unit does not have.
  if (bpf_xdp_query_id(ifindex_, static_cast<int>(flags), &attachedId) == 0 && attachedId != 0 &&
      attachedId == xdp_program__id(program_)) {
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof(opts);
    opts.old_prog_fd = xdp_program__fd(program_);
    rc = bpf_xdp_detach(ifindex_, static_cast<int>(flags), &opts);
  } else {
    // Behind a dispatcher: libxdp takes it out and leaves the other programs running.
    rc = xdp_program__detach(program_, ifindex_, nativeMode_ ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
  }
  if (rc == 0)
    programAttached_ = false;
  return rc;
}

void XdpFeedReceiver::cleanUp() noexcept {
  // The program first: from then on the kernel gets the feed's packets again.
  (void)detachProgram();
  programAttached_ = false;
  if (xsk_) {
    xsk_socket__delete(xsk_);
    xsk_ = nullptr;
  }
  if (umem_) {
    xsk_umem__delete(umem_);
    umem_ = nullptr;
  }
  if (program_) {
    xdp_program__close(program_);
    program_ = nullptr;
  }
}

XdpFeedReceiver::~XdpFeedReceiver() { cleanUp(); }

int XdpFeedReceiver::fd() const noexcept { return xsk_ ? xsk_socket__fd(xsk_) : -1; }

std::uint32_t XdpFeedReceiver::programId() const noexcept {
  return program_ ? xdp_program__id(program_) : 0;
}

std::uint64_t XdpFeedReceiver::droppedPackets() const noexcept {
  std::uint64_t n = 0;
  for (const auto d : counters_.dropped)
    n += d;
  return n;
}

XdpFeedReceiver::KernelCounters XdpFeedReceiver::kernelCounters() const noexcept {
  KernelCounters out;
  xdp_statistics stats{};
  socklen_t len = sizeof(stats);
  if (xsk_ && getsockopt(xsk_socket__fd(xsk_), SOL_XDP, XDP_STATISTICS, &stats, &len) == 0) {
    out.rxDropped = stats.rx_dropped;
    out.rxInvalidDescs = stats.rx_invalid_descs;
    out.rxRingFull = stats.rx_ring_full;
    out.fillRingEmpty = stats.rx_fill_ring_empty_descs;
  }
  return out;
}

int XdpFeedReceiver::poll() noexcept {
  Rings& r = *rings_;
  std::uint32_t rxIndex = 0;
  const std::uint32_t n = xsk_ring_cons__peek(&r.rx, kBatch, &rxIndex);
  if (n == 0) {
    // The driver ran out of fill entries while we were away and waits to be told.
    if (xsk_ring_prod__needs_wakeup(&r.fill)) {
      ++counters_.wakeups;
      ::recvfrom(xsk_socket__fd(xsk_), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
    return 0;
  }
  const std::uint64_t rxStamp = core::stamp();
  ++counters_.batches;
  counters_.packets += n;
  // Every frame we take goes straight back: the fill ring holds all of them, so this fits.
  std::uint32_t fillIndex = 0;
  const std::uint32_t reserved = xsk_ring_prod__reserve(&r.fill, n, &fillIndex);
  assert(reserved == n); // the fill ring has room for every UMEM frame
  for (std::uint32_t i = 0; i < n; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&r.rx, rxIndex + i);
    const auto* data =
        static_cast<const std::byte*>(xsk_umem__get_data(umemArea_.data(), desc->addr));
    std::span<const std::byte> payload;
    const PacketError e = parseUdpPacket({data, desc->len}, filter_, payload);
    if (e == PacketError::Ok)
      decoder_.onDatagram(payload, rxStamp);
    else
      ++counters_.dropped[static_cast<std::size_t>(e)];
    if (i < reserved)
      *xsk_ring_prod__fill_addr(&r.fill, fillIndex + i) =
          desc->addr & ~std::uint64_t{kFrameSize - 1};
  }
  decoder_.batchEnd(); // before the fill ring gives the frames back to the kernel
  xsk_ring_prod__submit(&r.fill, reserved);
  xsk_ring_cons__release(&r.rx, n);
  return static_cast<int>(n);
}

} // namespace hft::feed

// SPDX-License-Identifier: MIT
// The UDP market data feed's receive paths: a kernel UDP socket read with recvmmsg, and an
// AF_XDP socket fed by hftd's XDP program. Both hand each datagram to a FeedDecoder; both are
// opened on the control path (they throw FeedError) and polled on the network thread
// (noexcept, allocation-free, no system call on the AF_XDP path while packets flow).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <sys/socket.h>
#include <sys/uio.h>

#include "daemon/feed/feed_decoder.h"
#include "daemon/feed/packet.h"
#include "libhft/core/fd.h"
#include "libhft/core/mapped_region.h"

struct xsk_socket;
struct xsk_umem;
struct xdp_program;

namespace hft::feed {

struct FeedParams {
  std::string address = "0.0.0.0"; // IPv4 unicast address or multicast group to receive on
  std::uint16_t port = 9001;
  std::string interface = "lo"; // multicast joins and AF_XDP bind here
  std::uint32_t queue = 0;      // AF_XDP: the NIC receive queue the feed arrives on
  enum class XdpMode : std::uint8_t { Auto, Native, Skb } xdpMode = XdpMode::Auto;
  std::uint32_t busyPollUs = 0;    // SO_BUSY_POLL for the socket; 0 = off
  bool hugePages = true;           // AF_XDP: UMEM on 2 MiB pages when some are free
  std::string xdpObject;           // AF_XDP: the compiled XDP program; "" = the built-in search
  bool kernelTimestamps = false;   // udp: SO_TIMESTAMPING receive stamps per datagram
  bool hardwareTimestamps = false; // with them, the NIC's stamps (ethtool -T says it has them)
};

// Why a feed could not be opened; `kind` lets the caller decide on a fallback.
class FeedError : public std::runtime_error {
public:
  enum class Kind : std::uint8_t {
    Permission,  // a capability is missing (CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW)
    Unsupported, // the kernel or the driver cannot do it
    Busy,        // the interface or queue is taken by someone else
    Config,      // a setting is wrong (no such interface, queue, address)
    System,      // anything else
  };
  FeedError(Kind kind, int error, const std::string& what)
      : std::runtime_error(what), kind_(kind), error_(error) {}
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] int error() const noexcept { return error_; }

private:
  Kind kind_;
  int error_;
};

// The kernel path: one UDP socket, up to kBatch datagrams per recvmmsg.
class UdpFeedReceiver {
public:
  struct Counters {
    std::uint64_t reads = 0;     // recvmmsg calls that returned datagrams
    std::uint64_t truncated = 0; // datagrams larger than a slot: dropped
    std::uint64_t errors = 0;    // recvmmsg failures other than "nothing to read"
  };

  // Binds (and joins the group when the address is multicast). Throws FeedError.
  UdpFeedReceiver(const FeedParams& params, FeedListener& listener);
  UdpFeedReceiver(const UdpFeedReceiver&) = delete;
  UdpFeedReceiver& operator=(const UdpFeedReceiver&) = delete;

  // Reads what is queued (one recvmmsg); returns the datagrams handled.
  int poll() noexcept;

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const FeedDecoder& decoder() const noexcept { return decoder_; }
  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] bool busyPolling() const noexcept { return busyPolling_; }
  [[nodiscard]] int receiveBufferBytes() const noexcept { return rcvbuf_; }
  // Whether SO_TIMESTAMPING was taken, and the errno when it was refused.
  [[nodiscard]] bool kernelRxStamps() const noexcept { return rxStampsOn_; }
  [[nodiscard]] int kernelStampsError() const noexcept { return stampsError_; }
  // During the listener's callbacks: the kernel's receive stamp (CLOCK_REALTIME ns) of the
  // datagram being decoded; 0 when there is none.
  [[nodiscard]] std::uint64_t kernelRxNs() const noexcept { return kernelRxNs_; }

  static constexpr unsigned kBatch = 32;
  static constexpr std::size_t kSlotBytes = 9216; // a jumbo frame's payload

private:
  core::UniqueFd fd_;
  FeedDecoder decoder_;
  Counters counters_;
  std::unique_ptr<std::byte[]> slots_;
  std::unique_ptr<mmsghdr[]> messages_;
  std::unique_ptr<iovec[]> iovecs_;
  std::unique_ptr<char[]> controls_; // kStampControlBytes per message, for the receive stamps
  bool busyPolling_ = false;
  int rcvbuf_ = 0;
  bool rxStampsOn_ = false;
  int stampsError_ = 0;
  std::uint64_t kernelRxNs_ = 0;
  unsigned lastBatch_ = 0; // messages whose msg_controllen the last recvmmsg overwrote
};

// The kernel-bypass path: hftd's XDP program on `interface` redirects the feed's UDP port to
// an AF_XDP socket on `queue`; packets are parsed straight from the UMEM frames of its ring.
class XdpFeedReceiver {
public:
  struct Counters {
    std::uint64_t packets = 0;                              // descriptors taken off the RX ring
    std::uint64_t batches = 0;                              // non-empty ring peeks
    std::uint64_t wakeups = 0;                              // fill-ring kicks the driver asked for
    std::array<std::uint64_t, kPacketErrorCount> dropped{}; // by PacketError
  };
  // The kernel's view (XDP_STATISTICS), read on demand (control path).
  struct KernelCounters {
    std::uint64_t rxDropped = 0;
    std::uint64_t rxInvalidDescs = 0;
    std::uint64_t rxRingFull = 0;
    std::uint64_t fillRingEmpty = 0;
  };

  // Attaches the program (replacing one an earlier hftd left behind), creates the UMEM and
  // the socket and fills the fill ring. Throws FeedError; a partial set-up is undone.
  XdpFeedReceiver(const FeedParams& params, FeedListener& listener);
  ~XdpFeedReceiver();
  XdpFeedReceiver(const XdpFeedReceiver&) = delete;
  XdpFeedReceiver& operator=(const XdpFeedReceiver&) = delete;

  // Takes what the RX ring holds (up to kBatch); returns the packets handled.
  int poll() noexcept;

  [[nodiscard]] int fd() const noexcept;
  [[nodiscard]] const FeedDecoder& decoder() const noexcept { return decoder_; }
  [[nodiscard]] const Counters& counters() const noexcept { return counters_; }
  [[nodiscard]] KernelCounters kernelCounters() const noexcept;
  [[nodiscard]] std::uint64_t droppedPackets() const noexcept;
  // How it runs, for the start-up log: "native" or "skb" XDP, "zero-copy" or "copy".
  [[nodiscard]] const char* xdpMode() const noexcept { return nativeMode_ ? "native" : "skb"; }
  [[nodiscard]] bool zeroCopy() const noexcept { return zeroCopy_; }
  [[nodiscard]] bool umemOnHugePages() const noexcept { return umemArea_.onHugePages(); }
  [[nodiscard]] bool replacedLeftover() const noexcept { return replacedLeftover_; }
  [[nodiscard]] std::uint32_t programId() const noexcept;

  static constexpr unsigned kBatch = 64;
  // 2 KiB frames hold a 1500-byte-MTU packet (and zero-copy's 256 bytes of headroom); 16384
  // of them buffer ~130k snapshots, as deep as the udp path's 16 MiB socket buffer.
  static constexpr std::uint32_t kFrameSize = 2048;
  static constexpr std::uint32_t kFrames = 16384; // 32 MiB of UMEM: 16 hugepages
  static constexpr const char* kProgramName = "hft_md_xdp";

  // Detaches an XDP program named kProgramName from the interface (one a killed hftd left).
  // Returns true if one was found and removed; throws FeedError when a foreign program holds
  // the interface.
  static bool removeLeftover(int ifindex, const std::string& interface);
  // True when an XDP program named kProgramName is attached to the interface (tests, checks).
  [[nodiscard]] static bool attached(int ifindex);

  // Takes the XDP program off the interface (the kernel gets the feed's packets again);
  // returns 0, or a negative errno. Idempotent; the destructor calls it too.
  int detachProgram() noexcept;

private:
  void cleanUp() noexcept;

  FeedDecoder decoder_;
  Counters counters_;
  UdpFilter filter_;
  int ifindex_ = 0;
  bool nativeMode_ = false;
  bool zeroCopy_ = false;
  bool replacedLeftover_ = false;
  xdp_program* program_ = nullptr;
  bool programAttached_ = false;
  core::MappedRegion umemArea_;
  xsk_umem* umem_ = nullptr;
  xsk_socket* xsk_ = nullptr;
  // The rings are libxdp's xsk_ring_prod/xsk_ring_cons, kept opaque here.
  struct Rings;
  std::unique_ptr<Rings> rings_;
};

// Where hftd looks for its XDP program: $HFTD_XDP_OBJECT, then the installed copy, then the
// build tree's. Returns the first that exists, or the installed path if none does.
[[nodiscard]] std::string defaultXdpObjectPath();

} // namespace hft::feed

// SPDX-License-Identifier: MIT
// Kernel timestamps: SO_TIMESTAMPING set-up, control-data parsing, error-queue reads.
#include "daemon/feed/kernel_stamps.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace hft::feed {
namespace {

std::uint64_t toNs(const timespec& ts) noexcept {
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// The stamps of a SCM_TIMESTAMPING message: [0] software, [2] raw hardware.
bool findStamps(const msghdr& message, scm_timestamping& out) noexcept {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
        c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
      std::memcpy(&out, CMSG_DATA(c), sizeof(out)); // CMSG_DATA may be unaligned for timespec
      return true;
    }
  }
  return false;
}

} // namespace

int queryTimestampCaps(int fd, const char* interface, TimestampCaps& out) noexcept {
  ethtool_ts_info info{};
  info.cmd = ETHTOOL_GET_TS_INFO;
  ifreq request{};
  std::strncpy(request.ifr_name, interface, IFNAMSIZ - 1);
  request.ifr_data = reinterpret_cast<char*>(&info);
  if (::ioctl(fd, SIOCETHTOOL, &request) != 0)
    return -errno;
  out.softwareRx = info.so_timestamping & SOF_TIMESTAMPING_RX_SOFTWARE;
  out.softwareTx = info.so_timestamping & SOF_TIMESTAMPING_TX_SOFTWARE;
  out.hardwareRx = info.so_timestamping & SOF_TIMESTAMPING_RX_HARDWARE;
  out.hardwareTx = info.so_timestamping & SOF_TIMESTAMPING_TX_HARDWARE;
  out.rawHardware = info.so_timestamping & SOF_TIMESTAMPING_RAW_HARDWARE;
  out.phcIndex = info.phc_index;
  return 0;
}

std::uint32_t timestampingFlags(bool transmit, bool hardware) noexcept {
  std::uint32_t flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  if (hardware)
    flags |= SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
  if (transmit)
    flags |= SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  return flags;
}

int enableTimestamping(int fd, std::uint32_t flags) noexcept {
  const int value = static_cast<int>(flags);
  return ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &value, sizeof(value)) == 0 ? 0 : -errno;
}

std::uint64_t receiveStampNs(const msghdr& message) noexcept {
  if (message.msg_controllen == 0)
    return 0;
  scm_timestamping stamps{};
  if (!findStamps(message, stamps))
    return 0;
  if (const std::uint64_t hw = toNs(stamps.ts[2]); hw != 0)
    return hw;
  return toNs(stamps.ts[0]);
}

ErrQueueResult parseTxStamp(const msghdr& message, TxStamp& out) noexcept {
  scm_timestamping stamps{};
  sock_extended_err err{};
  bool haveErr = false;
  bool haveStamps = false;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&message); c;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&message), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
        c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
      std::memcpy(&stamps, CMSG_DATA(c), sizeof(stamps));
      haveStamps = true;
    } else if (((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
               c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
      std::memcpy(&err, CMSG_DATA(c), sizeof(err));
      haveErr = true;
    }
  }
  if (!haveStamps || !haveErr || err.ee_errno != ENOMSG ||
      err.ee_origin != SO_EE_ORIGIN_TIMESTAMPING || err.ee_info != SCM_TSTAMP_SND)
    return ErrQueueResult::Other;
  const std::uint64_t sw = toNs(stamps.ts[0]);
  out.key = err.ee_data;
  out.ns = sw != 0 ? sw : toNs(stamps.ts[2]);
  return out.ns != 0 ? ErrQueueResult::Stamp : ErrQueueResult::Other;
}

ErrQueueResult readTxStamp(int fd, TxStamp& out) noexcept {
  alignas(cmsghdr) char control[kStampControlBytes]; // on the stack; CMSG_* need the alignment
  msghdr message{};
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  if (::recvmsg(fd, &message, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
    return ErrQueueResult::Empty; // EAGAIN: nothing queued (anything else: nothing to read)
  return parseTxStamp(message, out);
}

} // namespace hft::feed

// SPDX-License-Identifier: MIT
// Ethernet / IPv4 / UDP header checks (RFC 791, RFC 768).
#include "daemon/feed/packet.h"

#include <cstring>

namespace hft::feed {
namespace {

constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint8_t kProtocolUdp = 17;
constexpr std::uint16_t kMoreFragments = 0x2000;
constexpr std::uint16_t kFragmentOffset = 0x1fff;

// Network byte order reads without alignment assumptions.
std::uint16_t be16(const std::byte* p) noexcept {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}

void putBe16(std::byte* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v & 0xff);
}

// One's complement sum of 16-bit words; 0xffff (or 0) folded means the checksum holds.
std::uint16_t checksum(const std::byte* p, std::size_t n) noexcept {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2)
    sum += be16(p + i);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

} // namespace

std::string_view describe(PacketError error) noexcept {
  switch (error) {
  case PacketError::Ok: return "ok";
  case PacketError::TooShort: return "shorter than its Ethernet, IPv4 and UDP headers";
  case PacketError::NotIpv4: return "not IPv4";
  case PacketError::BadIpHeader: return "bad IPv4 header (version or header length)";
  case PacketError::BadIpLength: return "IPv4 total length disagrees with the packet";
  case PacketError::BadIpChecksum: return "bad IPv4 header checksum";
  case PacketError::Fragmented: return "IPv4 fragment";
  case PacketError::NotUdp: return "not UDP";
  case PacketError::WrongAddress: return "not addressed to the feed";
  case PacketError::WrongPort: return "not the feed's UDP port";
  case PacketError::BadUdpLength: return "UDP length disagrees with the IPv4 length";
  }
  return "?";
}

PacketError parseUdpPacket(std::span<const std::byte> packet, const UdpFilter& filter,
                           std::span<const std::byte>& payload) noexcept {
  payload = {};
  if (packet.size() < kEthernetHeaderSize + kIpv4MinHeaderSize + kUdpHeaderSize)
    return PacketError::TooShort;
  const std::byte* p = packet.data();
  if (be16(p + 12) != kEtherTypeIpv4)
    return PacketError::NotIpv4;
  const std::byte* ip = p + kEthernetHeaderSize;
  const std::size_t ipBytes = packet.size() - kEthernetHeaderSize;
  const unsigned versionIhl = std::to_integer<unsigned>(ip[0]);
  const std::size_t ihl = (versionIhl & 0x0f) * 4U;
  if ((versionIhl >> 4) != 4 || ihl < kIpv4MinHeaderSize || ihl + kUdpHeaderSize > ipBytes)
    return PacketError::BadIpHeader;
  const std::size_t totalLength = be16(ip + 2);
  if (totalLength < ihl + kUdpHeaderSize || totalLength > ipBytes)
    return PacketError::BadIpLength;
  if (checksum(ip, ihl) != 0)
    return PacketError::BadIpChecksum;
  if (be16(ip + 6) & (kMoreFragments | kFragmentOffset))
    return PacketError::Fragmented;
  if (std::to_integer<std::uint8_t>(ip[9]) != kProtocolUdp)
    return PacketError::NotUdp;
  std::uint32_t dst = 0;
  std::memcpy(&dst, ip + 16, sizeof(dst)); // stays in network order, as the filter's
  if (filter.dstAddr != 0 && dst != filter.dstAddr)
    return PacketError::WrongAddress;
  const std::byte* udp = ip + ihl;
  if (be16(udp + 2) != filter.dstPort)
    return PacketError::WrongPort;
  const std::size_t udpLength = be16(udp + 4);
  if (udpLength < kUdpHeaderSize || udpLength != totalLength - ihl)
    return PacketError::BadUdpLength;
  payload = packet.subspan(kEthernetHeaderSize + ihl + kUdpHeaderSize, udpLength - kUdpHeaderSize);
  return PacketError::Ok;
}

std::size_t buildUdpPacket(std::span<std::byte> out, std::uint32_t srcAddr, std::uint32_t dstAddr,
                           std::uint16_t srcPort, std::uint16_t dstPort,
                           std::span<const std::byte> payload) noexcept {
  const std::size_t total =
      kEthernetHeaderSize + kIpv4MinHeaderSize + kUdpHeaderSize + payload.size();
  if (out.size() < total || payload.size() > 0xffff - kIpv4MinHeaderSize - kUdpHeaderSize)
    return 0;
  std::byte* p = out.data();
  std::memset(p, 0, kEthernetHeaderSize + kIpv4MinHeaderSize + kUdpHeaderSize);
  const unsigned char dstMac[6] = {0x02, 0, 0, 0, 0, 2};
  const unsigned char srcMac[6] = {0x02, 0, 0, 0, 0, 1};
  std::memcpy(p, dstMac, 6);
  std::memcpy(p + 6, srcMac, 6);
  putBe16(p + 12, kEtherTypeIpv4);
  std::byte* ip = p + kEthernetHeaderSize;
  ip[0] = std::byte{0x45};
  putBe16(ip + 2, static_cast<std::uint16_t>(total - kEthernetHeaderSize));
  putBe16(ip + 6, 0x4000); // Don't Fragment
  ip[8] = std::byte{64};
  ip[9] = std::byte{kProtocolUdp};
  std::memcpy(ip + 12, &srcAddr, 4);
  std::memcpy(ip + 16, &dstAddr, 4);
  putBe16(ip + 10, checksum(ip, kIpv4MinHeaderSize));
  std::byte* udp = ip + kIpv4MinHeaderSize;
  putBe16(udp, srcPort);
  putBe16(udp + 2, dstPort);
  putBe16(udp + 4, static_cast<std::uint16_t>(kUdpHeaderSize + payload.size()));
  if (!payload.empty())
    std::memcpy(udp + kUdpHeaderSize, payload.data(), payload.size());
  return total;
}

} // namespace hft::feed

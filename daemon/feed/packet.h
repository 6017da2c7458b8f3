// SPDX-License-Identifier: MIT
// Ethernet / IPv4 / UDP header checks for frames taken raw off an AF_XDP ring: a pure
// function of the bytes, never reading past them (unit-tested and fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace hft::feed {

// Why a packet was not a datagram of the feed. Every value but Ok is dropped and counted.
enum class PacketError : std::uint8_t {
  Ok = 0,
  TooShort,    // fewer bytes than the Ethernet + IPv4 + UDP headers need
  NotIpv4,     // EtherType is not IPv4 (VLAN tags, IPv6, ARP...)
  BadIpHeader, // version not 4, IHL < 5, or the header longer than the packet
  BadIpLength, // IPv4 total length below its header + UDP, or above the bytes received
  BadIpChecksum,
  Fragmented, // More Fragments set or a fragment offset: the feed never fragments
  NotUdp,
  WrongAddress, // destination address is not the feed's
  WrongPort,    // destination port is not the feed's
  BadUdpLength, // UDP length below 8 or different from what the IPv4 header leaves
};
inline constexpr std::size_t kPacketErrorCount = 11;

[[nodiscard]] std::string_view describe(PacketError error) noexcept;

// The datagrams wanted: IPv4 destination (network byte order, 0 = any) and UDP port (host order).
struct UdpFilter {
  std::uint32_t dstAddr = 0;
  std::uint16_t dstPort = 0;
};

inline constexpr std::size_t kEthernetHeaderSize = 14;
inline constexpr std::size_t kIpv4MinHeaderSize = 20;
inline constexpr std::size_t kUdpHeaderSize = 8;

// Checks an Ethernet frame carrying IPv4/UDP for `filter`; on Ok, `payload` is the UDP payload
// (inside `packet`). Bytes after the IPv4 total length (Ethernet padding) are ignored. The UDP
// checksum is not checked: on veth and with offloads it is often left for the NIC to fill in.
[[nodiscard]] PacketError parseUdpPacket(std::span<const std::byte> packet, const UdpFilter& filter,
                                         std::span<const std::byte>& payload) noexcept;

// Builds an Ethernet/IPv4/UDP packet around `payload` into `out` (tests, fuzz seeds); returns
// its length, or 0 when `out` is too small. The IPv4 checksum is filled in, the UDP one is 0.
std::size_t buildUdpPacket(std::span<std::byte> out, std::uint32_t srcAddr, std::uint32_t dstAddr,
                           std::uint16_t srcPort, std::uint16_t dstPort,
                           std::span<const std::byte> payload) noexcept;

} // namespace hft::feed

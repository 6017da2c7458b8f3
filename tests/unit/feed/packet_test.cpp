// SPDX-License-Identifier: MIT
// Ethernet/IPv4/UDP header checks: every malformed or foreign packet is refused with its
// reason, and none is read past its end.
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <vector>

#include "daemon/feed/packet.h"

using namespace hft::feed;

namespace {

constexpr std::uint16_t kPort = 9001;

std::uint32_t ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a.s_addr;
}

std::vector<std::byte> packet(std::size_t payloadBytes, std::uint16_t dstPort = kPort,
                              const char* dst = "10.0.0.2") {
  std::vector<std::byte> payload(payloadBytes);
  for (std::size_t i = 0; i < payloadBytes; ++i)
    payload[i] = static_cast<std::byte>(i);
  std::vector<std::byte> out(2048);
  const std::size_t n = buildUdpPacket(out, ip("10.0.0.1"), ip(dst), 40000, dstPort, payload);
  REQUIRE(n == 42 + payloadBytes);
  out.resize(n);
  return out;
}

// Recomputes the IPv4 header checksum after a test edits the header.
void fixChecksum(std::vector<std::byte>& p) {
  std::byte* h = p.data() + 14;
  h[10] = h[11] = std::byte{0};
  const std::size_t ihl = (std::to_integer<unsigned>(h[0]) & 0x0f) * 4U;
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < ihl; i += 2)
    sum += (std::to_integer<unsigned>(h[i]) << 8) | std::to_integer<unsigned>(h[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  const auto c = static_cast<std::uint16_t>(~sum);
  h[10] = static_cast<std::byte>(c >> 8);
  h[11] = static_cast<std::byte>(c & 0xff);
}

void put16(std::vector<std::byte>& p, std::size_t at, std::uint16_t v) {
  p[at] = static_cast<std::byte>(v >> 8);
  p[at + 1] = static_cast<std::byte>(v & 0xff);
}

PacketError parse(const std::vector<std::byte>& p, UdpFilter f = {0, kPort}) {
  std::span<const std::byte> payload;
  return parseUdpPacket(p, f, payload);
}

} // namespace

TEST_CASE("packet: a well-formed datagram to the feed's port yields its UDP payload") {
  const auto p = packet(100);
  std::span<const std::byte> payload;
  REQUIRE(parseUdpPacket(p, {ip("10.0.0.2"), kPort}, payload) == PacketError::Ok);
  CHECK(payload.size() == 100);
  CHECK(payload.data() == p.data() + 42);
  CHECK(payload[99] == std::byte{99});
}

TEST_CASE("packet: Ethernet padding after the IPv4 total length is ignored") {
  auto p = packet(4); // 46 bytes: a NIC pads it to the 60-byte minimum
  p.resize(60, std::byte{0xee});
  std::span<const std::byte> payload;
  REQUIRE(parseUdpPacket(p, {0, kPort}, payload) == PacketError::Ok);
  CHECK(payload.size() == 4);
}

TEST_CASE("packet: every truncation is refused without reading past the end") {
  const auto p = packet(64);
  for (std::size_t n = 0; n < p.size(); ++n) {
    // A copy of exactly n bytes: AddressSanitizer catches any read beyond.
    std::vector<std::byte> cut(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
    CAPTURE(n);
    CHECK(parse(cut) != PacketError::Ok);
  }
}

TEST_CASE("packet: foreign traffic is told apart from the feed") {
  auto arp = packet(10);
  put16(arp, 12, 0x0806);
  CHECK(parse(arp) == PacketError::NotIpv4);
  auto vlan = packet(10);
  put16(vlan, 12, 0x8100);
  CHECK(parse(vlan) == PacketError::NotIpv4);
  auto tcp = packet(10);
  tcp[14 + 9] = std::byte{6};
  fixChecksum(tcp);
  CHECK(parse(tcp) == PacketError::NotUdp);
  CHECK(parse(packet(10, 9002)) == PacketError::WrongPort);
  CHECK(parse(packet(10), {ip("10.0.0.3"), kPort}) == PacketError::WrongAddress);
  CHECK(parse(packet(10), {ip("10.0.0.2"), kPort}) == PacketError::Ok);
}

TEST_CASE("packet: malformed IPv4 and UDP headers are refused with their reason") {
  auto v6 = packet(10);
  v6[14] = std::byte{0x65};
  CHECK(parse(v6) == PacketError::BadIpHeader);
  auto shortIhl = packet(10);
  shortIhl[14] = std::byte{0x44};
  CHECK(parse(shortIhl) == PacketError::BadIpHeader);
  auto longIhl = packet(10);
  longIhl[14] = std::byte{0x4f}; // 60-byte header in a 38-byte IP packet
  CHECK(parse(longIhl) == PacketError::BadIpHeader);
  auto badTotal = packet(10);
  put16(badTotal, 16, 200); // claims more than was received
  fixChecksum(badTotal);
  CHECK(parse(badTotal) == PacketError::BadIpLength);
  auto tinyTotal = packet(10);
  put16(tinyTotal, 16, 27);
  fixChecksum(tinyTotal);
  CHECK(parse(tinyTotal) == PacketError::BadIpLength);
  auto badSum = packet(10);
  badSum[14 + 8] = std::byte{63}; // TTL changed, checksum not
  CHECK(parse(badSum) == PacketError::BadIpChecksum);
  auto badUdp = packet(10);
  put16(badUdp, 38, 7);
  CHECK(parse(badUdp) == PacketError::BadUdpLength);
  auto longUdp = packet(10);
  put16(longUdp, 38, 19);
  CHECK(parse(longUdp) == PacketError::BadUdpLength);
}

TEST_CASE("packet: fragments are refused, first and later alike") {
  auto first = packet(10);
  put16(first, 14 + 6, 0x2000); // More Fragments
  fixChecksum(first);
  CHECK(parse(first) == PacketError::Fragmented);
  auto later = packet(10);
  put16(later, 14 + 6, 0x0010); // offset 128 bytes
  fixChecksum(later);
  CHECK(parse(later) == PacketError::Fragmented);
  auto dontFragment = packet(10); // DF alone is a whole datagram
  CHECK(parse(dontFragment) == PacketError::Ok);
}

TEST_CASE("packet: IPv4 options are skipped by the header length") {
  auto p = packet(12);
  // Rebuild with a 24-byte header: four bytes of NOP options.
  std::vector<std::byte> q(p.begin(), p.begin() + 34);
  q.insert(q.end(), 4, std::byte{1});
  q.insert(q.end(), p.begin() + 34, p.end());
  q[14] = std::byte{0x46};
  put16(q, 16, static_cast<std::uint16_t>(q.size() - 14));
  fixChecksum(q);
  std::span<const std::byte> payload;
  REQUIRE(parseUdpPacket(q, {0, kPort}, payload) == PacketError::Ok);
  CHECK(payload.size() == 12);
  CHECK(payload[11] == std::byte{11});
}

TEST_CASE("packet: every reason has a description") {
  for (std::size_t i = 0; i < kPacketErrorCount; ++i)
    CHECK(describe(static_cast<PacketError>(i)) != "?");
}

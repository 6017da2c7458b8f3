// SPDX-License-Identifier: MIT
// Fuzz target: the AF_XDP feed's packet parser, hft::feed::parseUdpPacket, over any Ethernet
// frame. Input: byte 0 = filter mode (bit 0: any destination address, else the packet's own;
// bit 1: port 9001, else the packet's own destination port), then the packet.
#include <array>
#include <cstring>
#include <span>
#include <vector>

#include "daemon/feed/packet.h"
#include "tests/fuzz/fuzz_check.h"

using namespace hft::feed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::uint8_t mode = data[0];
  // An exact-size heap copy: ASan flags any read past the packet.
  std::vector<std::byte> packet(size - 1);
  if (!packet.empty())
    std::memcpy(packet.data(), data + 1, packet.size());

  UdpFilter filter;
  filter.dstPort = 9001;
  const std::size_t ipAt = kEthernetHeaderSize;
  if ((mode & 1) == 0 && packet.size() >= ipAt + 20)
    std::memcpy(&filter.dstAddr, packet.data() + ipAt + 16, sizeof(filter.dstAddr));
  if ((mode & 2) == 0 && packet.size() > ipAt) {
    const std::size_t ihl = (std::to_integer<unsigned>(packet[ipAt]) & 0x0fU) * 4U;
    if (packet.size() >= ipAt + ihl + 4)
      filter.dstPort =
          static_cast<std::uint16_t>(std::to_integer<unsigned>(packet[ipAt + ihl + 2]) << 8 |
                                     std::to_integer<unsigned>(packet[ipAt + ihl + 3]));
  }

  std::span<const std::byte> payload;
  const PacketError error = parseUdpPacket(packet, filter, payload);
  FUZZ_CHECK(!describe(error).empty());
  if (error != PacketError::Ok) {
    FUZZ_CHECK(payload.empty());
    return 0;
  }
  // The payload is the UDP body, inside the bytes received.
  FUZZ_CHECK(payload.data() >=
             packet.data() + kEthernetHeaderSize + kIpv4MinHeaderSize + kUdpHeaderSize);
  FUZZ_CHECK(payload.data() + payload.size() <= packet.data() + packet.size());

  // What the builder makes of that payload parses back to the same bytes.
  std::uint32_t src = 0;
  std::memcpy(&src, packet.data() + ipAt + 12, sizeof(src));
  const std::uint32_t dst = filter.dstAddr != 0 ? filter.dstAddr : 0x0100007fU;
  std::vector<std::byte> rebuilt(kEthernetHeaderSize + kIpv4MinHeaderSize + kUdpHeaderSize +
                                 payload.size());
  const std::size_t n = buildUdpPacket(rebuilt, src, dst, 40000, filter.dstPort, payload);
  FUZZ_CHECK(n == rebuilt.size());
  std::span<const std::byte> again;
  FUZZ_CHECK(parseUdpPacket(std::span(rebuilt).first(n), {dst, filter.dstPort}, again) ==
             PacketError::Ok);
  FUZZ_CHECK(again.size() == payload.size() &&
             (payload.empty() || std::memcmp(again.data(), payload.data(), payload.size()) == 0));
  return 0;
}

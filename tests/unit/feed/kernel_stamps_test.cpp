// SPDX-License-Identifier: MIT
// Kernel timestamps: control-data parsing, the transmit-stamp queue, and the kernel's own
// stamps on a loopback TCP connection (keys are the offset of each send's last byte).
#include "daemon/feed/kernel_stamps.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <doctest/doctest.h>

#include "libhft/core/fd.h"
#include "tests/unit/feed/loopback_exchange.h"

using namespace hft::feed;
using hft::testing::realtimeNow;
using hft::testing::waitForReceiveStamping;

namespace {

// A control buffer holding what the kernel would put there.
struct Control {
  alignas(cmsghdr) char bytes[kStampControlBytes]{};
  msghdr message{};
  cmsghdr* next = nullptr;

  Control() {
    message.msg_control = bytes;
    message.msg_controllen = sizeof(bytes);
    next = CMSG_FIRSTHDR(&message);
    message.msg_controllen = 0;
  }
  void add(int level, int type, const void* data, std::size_t size) {
    next->cmsg_level = level;
    next->cmsg_type = type;
    next->cmsg_len = CMSG_LEN(size);
    std::memcpy(CMSG_DATA(next), data, size);
    message.msg_controllen += CMSG_SPACE(size);
    next = reinterpret_cast<cmsghdr*>(reinterpret_cast<char*>(next) + CMSG_SPACE(size));
  }
  void stamps(std::uint64_t softwareNs, std::uint64_t hardwareNs) {
    scm_timestamping s{};
    s.ts[0] = {static_cast<time_t>(softwareNs / 1'000'000'000),
               static_cast<long>(softwareNs % 1'000'000'000)};
    s.ts[2] = {static_cast<time_t>(hardwareNs / 1'000'000'000),
               static_cast<long>(hardwareNs % 1'000'000'000)};
    add(SOL_SOCKET, SCM_TIMESTAMPING, &s, sizeof(s));
  }
  void error(std::uint32_t errnum, std::uint8_t origin, std::uint32_t info, std::uint32_t data) {
    sock_extended_err e{};
    e.ee_errno = errnum;
    e.ee_origin = origin;
    e.ee_info = info;
    e.ee_data = data;
    add(SOL_IP, IP_RECVERR, &e, sizeof(e));
  }
};

} // namespace

TEST_CASE("kernel stamps: the receive stamp is the hardware one when there is one") {
  Control sw;
  sw.stamps(1'765'000'000'123'456'789ULL, 0);
  CHECK(receiveStampNs(sw.message) == 1'765'000'000'123'456'789ULL);
  Control hw;
  hw.stamps(1'765'000'000'000'000'500ULL, 1'765'000'000'000'000'100ULL);
  CHECK(receiveStampNs(hw.message) == 1'765'000'000'000'000'100ULL);
  Control none;
  CHECK(receiveStampNs(none.message) == 0);
  Control other; // a cmsg of another kind only
  const int ttl = 64;
  other.add(SOL_IP, IP_TTL, &ttl, sizeof(ttl));
  CHECK(receiveStampNs(other.message) == 0);
}

TEST_CASE("kernel stamps: an error-queue message is a transmit stamp only when it says so") {
  TxStamp stamp;
  Control sent;
  sent.stamps(5'000, 0);
  sent.error(ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_SND, 1234);
  REQUIRE(parseTxStamp(sent.message, stamp) == ErrQueueResult::Stamp);
  CHECK(stamp.key == 1234);
  CHECK(stamp.ns == 5'000);

  Control acked; // SCM_TSTAMP_ACK: not the moment the order left
  acked.stamps(6'000, 0);
  acked.error(ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, SCM_TSTAMP_ACK, 1234);
  CHECK(parseTxStamp(acked.message, stamp) == ErrQueueResult::Other);

  Control icmp; // a real error: no stamp
  icmp.error(ECONNREFUSED, SO_EE_ORIGIN_ICMP, 3, 0);
  CHECK(parseTxStamp(icmp.message, stamp) == ErrQueueResult::Other);

  Control bare; // the stamp without its sock_extended_err carries no key
  bare.stamps(7'000, 0);
  CHECK(parseTxStamp(bare.message, stamp) == ErrQueueResult::Other);
}

TEST_CASE("kernel stamps: the queue completes orders by the key of their last byte") {
  TxStampQueue<std::uint64_t> queue(4);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> done; // (order, stamp)
  auto complete = [&done](std::uint64_t& order, std::uint64_t ns) { done.emplace_back(order, ns); };
  queue.push(63, 100, 1);  // order 1: bytes 0..63
  queue.push(127, 110, 2); // order 2: bytes 64..127
  queue.push(191, 120, 3);
  CHECK(queue.match({40, 900}, complete) == 0); // a heartbeat's stamp before them
  CHECK(queue.match({63, 1000}, complete) == 1);
  // Order 2's stamp never came (merged into order 3's segment): it gets order 3's, later.
  CHECK(queue.match({191, 1200}, complete) == 2);
  REQUIRE(done.size() == 3);
  CHECK(done[0] == std::pair<std::uint64_t, std::uint64_t>{1, 1000});
  CHECK(done[1] == std::pair<std::uint64_t, std::uint64_t>{2, 1200});
  CHECK(done[2] == std::pair<std::uint64_t, std::uint64_t>{3, 1200});
  CHECK(queue.empty());
}

TEST_CASE("kernel stamps: keys wrap at 2^32 and missing stamps expire") {
  TxStampQueue<std::uint64_t> queue(2);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> done;
  auto complete = [&done](std::uint64_t& order, std::uint64_t ns) { done.emplace_back(order, ns); };
  queue.push(0xFFFF'FFF0u, 100, 1);
  queue.push(0x0000'0010u, 200, 2); // past the wrap
  CHECK(queue.full());
  CHECK(queue.match({0xFFFF'FFF0u, 150}, complete) == 1); // not order 2: it is after the wrap
  CHECK(queue.size() == 1);
  CHECK(queue.expire(150, complete) == 0);
  CHECK(queue.expire(201, complete) == 1);
  REQUIRE(done.size() == 2);
  CHECK(done[1] == std::pair<std::uint64_t, std::uint64_t>{2, 0});
}

TEST_CASE("kernel stamps: loopback TCP stamps each send's last byte, and the receive") {
  hft::testing::LoopbackExchange exchange; // only its listener and accepted socket
  const hft::core::UniqueFd client = hft::testing::connectLoopback(exchange.port());
  exchange.acceptConnection();
  const int serverFd = exchange.peer();
  const int one = 1;
  REQUIRE(setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
  REQUIRE(enableTimestamping(client.get(), timestampingFlags(true, false)) == 0);
  REQUIRE(enableTimestamping(serverFd, timestampingFlags(false, false)) == 0);
  waitForReceiveStamping();

  const std::uint64_t before = realtimeNow();
  char bytes[64] = {};
  const std::size_t sizes[] = {10, 20, 30};
  for (const std::size_t size : sizes)
    REQUIRE(::send(client.get(), bytes, size, 0) == static_cast<ssize_t>(size));
  const std::uint64_t after = realtimeNow();

  std::vector<TxStamp> stamps;
  while (stamps.size() < 3) {
    pollfd p{client.get(), 0, 0}; // POLLERR is always reported: the error queue has a message
    REQUIRE(::poll(&p, 1, 5000) == 1);
    TxStamp s;
    const ErrQueueResult r = readTxStamp(client.get(), s);
    REQUIRE(r != ErrQueueResult::Empty);
    if (r == ErrQueueResult::Stamp)
      stamps.push_back(s);
  }
  CHECK(stamps[0].key == 9); // bytes 0..9
  CHECK(stamps[1].key == 29);
  CHECK(stamps[2].key == 59);
  for (const TxStamp& s : stamps) {
    CHECK(s.ns >= before);
    CHECK(s.ns <= after);
  }
  TxStamp none;
  CHECK(readTxStamp(client.get(), none) == ErrQueueResult::Empty);

  char in[64];
  iovec iov{in, sizeof(in)};
  alignas(cmsghdr) char control[kStampControlBytes];
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  REQUIRE(::recvmsg(serverFd, &message, 0) > 0);
  const std::uint64_t rx = receiveStampNs(message);
  CHECK(rx >= before);
  CHECK(rx <= realtimeNow());
}

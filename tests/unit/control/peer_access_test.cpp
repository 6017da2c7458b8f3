// SPDX-License-Identifier: MIT
// Who may drive the engine: root, members of hft-admin; everyone else only reads.
#include <doctest/doctest.h>

#include <grp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/control/peer_access.h"
#include "libhft/core/fd.h"

using hft::control::mayControl;
using hft::control::PeerCredentials;

namespace {
constexpr gid_t kAdminGid = 990;
constexpr gid_t kHftGid = 991;
} // namespace

TEST_CASE("Peer access: root may control, even without the admin group on the host") {
  PeerCredentials root{1, 0, 0, {}};
  CHECK(mayControl(root, kAdminGid));
  CHECK(mayControl(root, std::nullopt));
}

TEST_CASE("Peer access: a supplementary member of hft-admin may control") {
  PeerCredentials admin{1, 1001, 1001, {kHftGid, kAdminGid}};
  CHECK(mayControl(admin, kAdminGid));
}

TEST_CASE("Peer access: hft-admin as the primary group is enough") {
  PeerCredentials admin{1, 1002, kAdminGid, {}};
  CHECK(mayControl(admin, kAdminGid));
}

TEST_CASE("Peer access: a plain hft member may not control") {
  PeerCredentials reader{1, 1003, 1003, {kHftGid}};
  CHECK_FALSE(mayControl(reader, kAdminGid));
}

TEST_CASE("Peer access: without an hft-admin group only root may control") {
  PeerCredentials reader{1, 1003, kAdminGid, {kAdminGid}};
  CHECK_FALSE(mayControl(reader, std::nullopt));
}

TEST_CASE("Peer access: the denial names the method, the group and how to join it") {
  PeerCredentials reader{1, 4242424, 4242424, {}};
  const std::string joined =
      hft::control::accessDeniedMessage("StartSession", reader, "hft-admin", true);
  CHECK(joined.find("StartSession") == 0);
  CHECK(joined.find("group hft-admin") != std::string::npos);
  CHECK(joined.find("uid 4242424") != std::string::npos); // no passwd entry: the uid
  CHECK(joined.find("usermod -aG hft-admin") != std::string::npos);
  const std::string missing =
      hft::control::accessDeniedMessage("Reload", reader, "hft-admin", false);
  CHECK(missing.find("groupadd --system hft-admin") != std::string::npos);
}

TEST_CASE("Peer access: credentials come from the kernel for the connected process") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  hft::core::UniqueFd a(fds[0]);
  hft::core::UniqueFd b(fds[1]);
  const PeerCredentials peer = hft::control::readPeerCredentials(a.get());
  CHECK(peer.pid == ::getpid());
  CHECK(peer.uid == ::geteuid());
  CHECK(peer.gid == ::getegid());
  const int n = ::getgroups(0, nullptr);
  CHECK(peer.groups.size() == static_cast<std::size_t>(n));
}

TEST_CASE("Peer access: a group that does not exist is not found") {
  CHECK_FALSE(hft::control::lookupGroup("hft-no-such-group-xyz").has_value());
  CHECK(hft::control::lookupGroup("root").value_or(1) == 0);
}

TEST_CASE("Peer access: the groups are the ones the kernel gave the peer, not the user database") {
  // A child drops to groups no database lists for its uid, then connects: only SO_PEERGROUPS
  // can report them. Needs CAP_SETGID (the test command runs as root).
  if (::geteuid() != 0) {
    MESSAGE("skipped: setgroups() needs root");
    return;
  }
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  hft::core::UniqueFd l(listener);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Abstract name: nothing on disk to clean up.
  const std::string name = "hft-peer-groups-test-" + std::to_string(::getpid());
  std::copy(name.begin(), name.end(), addr.sun_path + 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  REQUIRE(::bind(l.get(), reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(::listen(l.get(), 1) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const gid_t groups[] = {424242, 434343};
    if (::setgroups(2, groups) != 0)
      ::_exit(2);
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&addr), len) != 0)
      ::_exit(3);
    char byte = 0;
    // Until the parent has read the credentials and closed (0, end of file).
    ::_exit(::read(s, &byte, 1) < 0 ? 4 : 0);
  }
  hft::core::UniqueFd conn(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(conn);
  const PeerCredentials peer = hft::control::readPeerCredentials(conn.get());
  conn.reset();
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(peer.pid == child);
  std::vector<gid_t> got = peer.groups;
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<gid_t>{424242, 434343});
  CHECK(mayControl(PeerCredentials{1, 1000, 1000, got}, 434343));
}

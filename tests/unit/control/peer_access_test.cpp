// SPDX-License-Identifier: MIT
// Who may drive the engine: root, members of hft-admin; everyone else only reads.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>

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

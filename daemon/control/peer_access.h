// SPDX-License-Identifier: MIT
// Who is on the other end of a control connection, and what they may ask for.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hft::control {

// Taken from the kernel (SO_PEERCRED, SO_PEERGROUPS) when the connection is accepted, so the
// peer cannot forge it.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  std::vector<gid_t> groups; // supplementary groups
};

// Read-only methods (Version, Status, GetStats) are open to whoever can open the socket; the
// mutating ones need this.
enum class Access { Read, Control };

// True when the peer may call Control methods: uid 0, or adminGid as its primary or a
// supplementary group. adminGid is empty when the admin group does not exist on the host.
[[nodiscard]] bool mayControl(const PeerCredentials& peer, std::optional<gid_t> adminGid) noexcept;

// The credentials of the process that connected `fd` (an accepted AF_UNIX socket). Falls back
// to getgrouplist() on kernels without SO_PEERGROUPS. Throws std::system_error.
[[nodiscard]] PeerCredentials readPeerCredentials(int fd);

// The gid of `group`, or nothing when it does not exist.
[[nodiscard]] std::optional<gid_t> lookupGroup(const std::string& group);

// The message of the AccessDenied reply: which method, who asked, the group to join.
[[nodiscard]] std::string accessDeniedMessage(std::string_view method, const PeerCredentials& peer,
                                              const std::string& adminGroup, bool groupExists);

} // namespace hft::control

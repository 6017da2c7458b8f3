// SPDX-License-Identifier: MIT
// Peer credentials from the kernel and the rule that decides who may drive the engine.
#include "daemon/control/peer_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace hft::control {

bool mayControl(const PeerCredentials& peer, std::optional<gid_t> adminGid) noexcept {
  if (peer.uid == 0)
    return true;
  if (!adminGid)
    return false;
  return peer.gid == *adminGid ||
         std::find(peer.groups.begin(), peer.groups.end(), *adminGid) != peer.groups.end();
}

namespace {

std::optional<std::string> userName(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* result = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) != 0 || result == nullptr)
    return std::nullopt;
  return std::string(pw.pw_name);
}

std::vector<gid_t> groupsOfUser(uid_t uid, gid_t gid) {
  const auto name = userName(uid);
  if (!name)
    return {};
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  while (getgrouplist(name->c_str(), gid, groups.data(), &count) < 0)
    groups.resize(static_cast<std::size_t>(count));
  groups.resize(static_cast<std::size_t>(count));
  return groups;
}

} // namespace

PeerCredentials readPeerCredentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    throw std::system_error(errno, std::generic_category(), "SO_PEERCRED");
  PeerCredentials peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;

  std::vector<gid_t> groups(32);
  for (;;) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      peer.groups = std::move(groups);
      return peer;
    }
    if (errno == ERANGE && bytes > groups.size() * sizeof(gid_t)) {
      groups.resize(bytes / sizeof(gid_t));
      continue;
    }
    break;
  }
  // Kernels before 4.13: the groups the user database gives the peer's uid.
  peer.groups = groupsOfUser(peer.uid, peer.gid);
  return peer;
}

std::optional<gid_t> lookupGroup(const std::string& group) {
  std::vector<char> buf(16384);
  struct group gr {};
  struct group* result = nullptr;
  while (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &result) == ERANGE)
    buf.resize(buf.size() * 2);
  if (result == nullptr)
    return std::nullopt;
  return gr.gr_gid;
}

std::string accessDeniedMessage(std::string_view method, const PeerCredentials& peer,
                                const std::string& adminGroup, bool groupExists) {
  const std::string who = userName(peer.uid).value_or(fmt::format("uid {}", peer.uid));
  if (!groupExists)
    return fmt::format("{} needs root or membership of group {}, which does not exist on this "
                       "host; create it with `groupadd --system {}` and add {} to it",
                       method, adminGroup, adminGroup, who);
  return fmt::format("{} needs root or membership of group {}; {} is not a member (add it with "
                     "`usermod -aG {} {}` and log in again)",
                     method, adminGroup, who, adminGroup, who);
}

} // namespace hft::control

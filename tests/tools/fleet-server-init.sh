#!/bin/bash
# SPDX-License-Identifier: MIT
# PID 1 of one throw-away "server" of the fleet test (tests/tools/fleet_test.sh): an overlay
# root of its own (tests/systemd/throwaway-root.sh) in new pid/mount/net/uts/ipc namespaces,
# where sshd is the only service. The test gives it an address on a veth pair; Ansible logs
# in as root with the test's key.
#
#   fleet-server-init.sh STATE_DIR NAME ADDRESS
#
# STATE_DIR holds fs/ (the tmpfs mount point), authorized_keys and host_ed25519; sshd logs to
# /var/log/sshd-fleet.log inside (the host reads it at /proc/PID/root/...). The server ends
# when this process is killed (unshare --kill-child, or the test's teardown): the kernel then
# ends everything in its namespaces.
set -euo pipefail

state=${1:?usage: fleet-server-init.sh STATE_DIR NAME ADDRESS}
name=${2:?usage: fleet-server-init.sh STATE_DIR NAME ADDRESS}
address=${3:?usage: fleet-server-init.sh STATE_DIR NAME ADDRESS}
[[ $$ -eq 1 ]] || { echo "fleet-server-init: must be PID 1 of a new pid namespace" >&2; exit 1; }

# shellcheck source-path=SCRIPTDIR source=../systemd/throwaway-root.sh
source "$(dirname "${BASH_SOURCE[0]}")/../systemd/throwaway-root.sh"
throwaway_root "$state" "hft-fleet-$name"

conf=$root/etc/ssh/hft-fleet
mkdir -p "$conf" "$root/run/sshd" "$root/root/.ssh"
install -m 0600 "$state/host_ed25519" "$conf/host_ed25519"
install -m 0600 "$state/authorized_keys" "$conf/authorized_keys"
cat >"$conf/sshd_config" <<CONF
ListenAddress $address
HostKey /etc/ssh/hft-fleet/host_ed25519
AuthorizedKeysFile /etc/ssh/hft-fleet/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile /run/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
touch "$root/dev/console" "$root/var/log/sshd-fleet.log"
echo "$name" >"$root/etc/hostname"
hostname "$name"
ip link set lo up
# The test moves a veth end into this namespace and gives it $address after this process has
# started; sshd can bind only once the address is there, and would exit otherwise (and this
# server with it). Wait for that event, bounded.
has_address() { ip -o -4 addr show | grep -qF " $address/"; }
for _ in $(seq 1200); do
  has_address && break
  sleep 0.05
done
has_address || { echo "fleet-server-init: $address was never assigned here" >&2; exit 1; }
throwaway_enter

# PID 1 reaps what the sessions leave behind; sshd runs as its child.
/usr/sbin/sshd -D -e -f /etc/ssh/hft-fleet/sshd_config 2>>/var/log/sshd-fleet.log &
wait

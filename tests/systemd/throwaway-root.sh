# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# A throw-away root for a test's "server": an overlay of the host's / whose upper layer lives
# on a tmpfs of this mount namespace, so that every write (installed packages, users, logs)
# vanishes with it and the host's files are never modified. Sourced by PID 1 of a new
# pid/mount/net/uts/ipc namespace: tests/systemd/container-init.sh (systemd) and
# tests/tools/fleet-server-init.sh (sshd).
#
#   throwaway_root STATE_DIR NAME   # mounts it at $root (STATE_DIR/fs/root); $root is set
#   ...                             # copy files in, bind a console, write configuration
#   throwaway_enter                 # pivot_root into it; the host's tree is gone from view
#
# /proc is this pid namespace's, /proc/sys, /proc/sysrq-trigger and /sys are read-only, /dev is
# a minimal tmpfs, and /run, /tmp and /var/tmp are fresh tmpfs.

root=''

throwaway_root() {
  local state=$1 name=$2
  [[ -d $state/fs ]] || { echo "throwaway_root: $state/fs is missing" >&2; return 1; }
  # Nothing mounted here may reach the host, whatever the host's propagation defaults are.
  mount --make-rprivate /

  mount -t tmpfs -o mode=0700,size=4G "$name" "$state/fs"
  local upper=$state/fs/upper work=$state/fs/work p
  root=$state/fs/root
  mkdir "$upper" "$work" "$root"
  mount -t overlay "$name-root" -o "lowerdir=/,upperdir=$upper,workdir=$work" "$root"

  # Kernel file systems: our own proc (this pid namespace), read-only kernel tunables.
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  for p in sys sysrq-trigger; do
    [[ -e $root/proc/$p ]] || continue
    mount --bind "$root/proc/$p" "$root/proc/$p"
    mount -o remount,bind,ro,nosuid,nodev,noexec "$root/proc/$p"
  done
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"

  # A minimal /dev, as a container manager gives one: a few nodes, its own ptys and shm.
  mount -t tmpfs -o mode=0755,nosuid,size=4M dev "$root/dev"
  mknod -m 0666 "$root/dev/null" c 1 3
  mknod -m 0666 "$root/dev/zero" c 1 5
  mknod -m 0666 "$root/dev/full" c 1 7
  mknod -m 0666 "$root/dev/random" c 1 8
  mknod -m 0666 "$root/dev/urandom" c 1 9
  mknod -m 0666 "$root/dev/tty" c 5 0
  mkdir -m 0755 "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
  chmod 1777 "$root/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,nosuid,noexec devpts "$root/dev/pts"
  ln -s pts/ptmx "$root/dev/ptmx"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  mount -t tmpfs -o mode=0755,nosuid,nodev,size=256M run "$root/run"
  mount -t tmpfs -o mode=1777,nosuid,nodev,size=256M tmp "$root/tmp"
  mount -t tmpfs -o mode=1777,nosuid,nodev,size=256M var-tmp "$root/var/tmp"
}

# Switches to $root and drops the old root from this namespace.
throwaway_enter() {
  cd "$root" || return
  mkdir -p .hft-oldroot
  pivot_root . .hft-oldroot
  umount -l /.hft-oldroot
  rmdir /.hft-oldroot
}

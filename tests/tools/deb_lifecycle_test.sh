#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ct_why, ct_pid and state come from the sourced container-lib.sh (shellcheck sees them with
# -x, as the project's test runs it; without -x it cannot).
# shellcheck disable=SC2154
# The Debian package's life on a server, under a real systemd: the .deb (built once by
# scripts/build-deb.sh, shared with deb_package_test.sh) is installed with `apt-get install ./hft_*.deb`
# into a throw-away systemd "server" (PID 1 of its own namespaces on an overlay of /:
# tests/systemd/container-init.sh), `systemctl start hft.target`, a session traded with hftctl,
# `apt-get remove` (units stopped, conffiles kept), `apt-get purge` (nothing left but what the
# list at the end names, each with its reason). docs/deployment.md describes it.
#
#   deb_lifecycle_test.sh SOURCE_ROOT CONTAINER_INIT TEST_TARGET DEB_CACHE_DIR
# Needs root. Exit 0 pass, 1 fail, 77 skipped (no root, no systemd, no overlay or cgroup v2, no
# dpkg-buildpackage or build dependencies). HFT_TEST_DEB=FILE installs that .deb instead of
# building one. HFT_SYSTEMD_TEST_KEEP=1 leaves the state directory (logs) after a failure.
# No network inside the namespaces (only a loopback): the package's dependencies must already be
# installed on this machine (scripts/install-deps.sh); the test fails if apt-get tries a download.
set -euo pipefail

src=${1:?usage: deb_lifecycle_test.sh SOURCE_ROOT CONTAINER_INIT TEST_TARGET DEB_CACHE_DIR}
container_init=${2:?}
test_target=${3:?}
deb_cache=${4:?}
python=${PYTHON:-python3}
skip() {
  echo "SKIP: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (namespaces, overlay mount)"
[[ -x /lib/systemd/systemd ]] || skip "no /lib/systemd/systemd"
for t in unshare nsenter setpriv pivot_root tar "$python"; do
  command -v "$t" >/dev/null || skip "no $t"
done
grep -qw overlay /proc/filesystems || skip "no overlay file system"
[[ -f $container_init && -f $test_target ]] || skip "tests/systemd's container harness is absent"
container_lib=$(dirname "$container_init")/container-lib.sh
[[ -f $container_lib ]] || skip "tests/systemd/container-lib.sh is absent"
# log, ok, fail, ct, the boot and the teardown of the container.
# shellcheck source=SCRIPTDIR/../systemd/container-lib.sh
source "$container_lib"
container_cgroup_check || skip "$ct_why"

# ------------------------------------------------------------------ the package
if [[ -n ${HFT_TEST_DEB:-} ]]; then
  [[ -f $HFT_TEST_DEB ]] || { echo "FAIL: HFT_TEST_DEB=$HFT_TEST_DEB is not a file"; exit 1; }
  deb=$HFT_TEST_DEB
  log "installing $deb (HFT_TEST_DEB; not building)"
else
  rc=0
  deb=$(bash "$src/scripts/build-deb.sh" "$src" "$deb_cache" | tail -n 1) || rc=$?
  case $rc in
  0) ;;
  77) skip "no package to install (scripts/build-deb.sh above)" ;;
  *) echo "FAIL: scripts/build-deb.sh exited $rc"; exit 1 ;;
  esac
fi
log "package: $deb"

diagnostics() {
  container_diagnostics 5 60 hft.target hftd.service hft-exchange-sim.service \
    hft-monitor.service
}
trap container_teardown EXIT
trap 'exit 130' INT TERM

wait_for() { # WHAT TIMEOUT COMMAND...: polls COMMAND every 0.2 s
  local what=$1 timeout=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout}s waiting for $what"
    sleep 0.2
  done
}
prop() { ct systemctl show -P "$2" "$1"; }
json_field() { "$python" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
status_of() { ct dpkg-query -W -f '${db:Status-Abbrev}' hft 2>/dev/null || true; }
# (--no-download cannot be used: apt 2.6 then refuses a local .deb, "Pathname to install is not
# absolute"; the container has no network but its loopback, and the log is checked for
# downloads.)
apt_get() { # LOG ARGS...: apt-get in the container, without questions
  local log=$1
  shift
  ct env DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0 "$@" \
    >"$log" 2>&1 || { cat "$log"; fail "apt-get $* failed"; }
}
# Every path a package or its units can write on the container's root file system (the overlay:
# /run, /tmp, /var/tmp, /dev are mounts of their own and left out), one a line, sorted. Not all
# of /: the overlay's lower layer is the live host, whose other directories (/work, /root) may
# change under the test.
snapshot() {
  local d dirs=()
  for d in /etc /usr /var /opt /srv /bin /sbin /lib /lib32 /lib64 /libx32; do
    ct test -e "$d" && dirs+=("$d")
  done
  ct find "${dirs[@]}" -xdev -print 2>/dev/null | LC_ALL=C sort >"$1"
}

# ------------------------------------------------------------------ boot the "server"
container_boot hft-deb-lifecycle "$container_init" "$test_target"
ok "systemd booted as PID 1 of its own namespaces (host PID $ct_pid)"
[[ -z $(status_of) || $(status_of) == un* ]] || fail "hft is already known to dpkg here: $(status_of)"
# A build machine or image often has a /usr/sbin/policy-rc.d that exits 101 ("no service
# actions"): deb-systemd-invoke honours it, so the prerm's stop would not run. A server has
# none: the container's copy (in the overlay, never the host's) goes.
if ct test -e /usr/sbin/policy-rc.d; then
  ct rm -f /usr/sbin/policy-rc.d
  log "removed the host's /usr/sbin/policy-rc.d in the container (a server has none)"
fi
snapshot "$state/before.list"
name=${deb##*/}
ct install -m 0644 /dev/stdin "/var/tmp/$name" <"$deb"

# ------------------------------------------------------------------ apt-get install ./hft_*.deb
apt_get "$state/install.log" install "/var/tmp/$name"
grep -q '^Setting up hft ' "$state/install.log" || fail "apt-get did not set up hft"
grep -Eq '^(Get|Err|Ign):[0-9]+ [a-z]+://' "$state/install.log" &&
  fail "apt-get tried to download something: $(grep -E '^(Get|Err|Ign):' "$state/install.log")"
[[ $(status_of) == 'ii ' ]] || fail "dpkg status after install: '$(status_of)'"
for f in /usr/bin/hftd /usr/bin/hftctl /usr/bin/exchange-sim /usr/libexec/hft-monitor \
  /etc/hft/hftd.toml /etc/hft/exchange-sim.toml /etc/logrotate.d/hft-monitor; do
  ct test -e "$f" || fail "$f is not installed"
done
[[ $(prop hftd.service FragmentPath) == /lib/systemd/system/hftd.service ]] ||
  fail "systemd did not load /lib/systemd/system/hftd.service (daemon-reload in postinst)"
for name_ in "passwd hft" "group hft" "group hft-admin" "passwd hft-monitor"; do
  # shellcheck disable=SC2086 # "database key"
  ct getent $name_ >/dev/null || fail "the postinst's systemd-sysusers did not create $name_"
done
perms=$(ct stat -c '%U:%G %a' /var/lib/hft/sessions)
[[ $perms == "hft:hft 750" ]] || fail "/var/lib/hft/sessions is $perms, expected hft:hft 750"
for u in hft.target hftd.service hft-exchange-sim.service hft-monitor.service; do
  [[ $(ct systemctl is-enabled "$u" 2>/dev/null || true) == disabled ]] || fail "$u is enabled by the package"
  [[ $(ct systemctl is-active "$u" 2>/dev/null || true) == inactive ]] || fail "$u was started by the package"
done
ok "apt-get install ./$name: no download, status ii, programs, conffiles, units loaded, users and directories; nothing enabled or started"

# ------------------------------------------------------------------ systemctl start hft.target
# The administrator's part (docs/deployment.md): the cores of this machine in drop-ins.
if (($(ct nproc) < 8)); then
  ct mkdir -p /etc/systemd/system/hftd.service.d /etc/systemd/system/hft-exchange-sim.service.d
  ct cp /usr/share/hft/cores.conf.example /etc/systemd/system/hftd.service.d/cores.conf
  printf '[Service]\nCPUAffinity=\nCPUAffinity=1\n' |
    ct tee /etc/systemd/system/hft-exchange-sim.service.d/cores.conf >/dev/null
  ct systemctl daemon-reload
fi
ct systemctl start hft.target || fail "systemctl start hft.target failed"
for u in hft-exchange-sim hftd hft-monitor; do
  [[ $(ct systemctl is-active "$u") == active ]] || fail "$u is not active"
done
ok "systemctl start hft.target: hft-exchange-sim, hftd (READY: $(prop hftd StatusText)), hft-monitor active"

hftctl() { ct /usr/bin/hftctl "$@"; }
session=$(hftctl --json start-session | json_field session_id)
[[ -n $session ]] || fail "hftctl start-session printed no session id"
stats_value() { hftctl --json stats | json_field "$1"; }
trading() {
  local o f
  o=$(stats_value orders_sent) && f=$(stats_value fills) || return 1
  ((o > 0 && f > 0))
}
wait_for "orders and fills in session $session" 60 trading
ok "session $session: orders_sent $(stats_value orders_sent), fills $(stats_value fills) (hftctl stats --json)"
ct test -s "/var/lib/hft/sessions/$session/journal.bin" || fail "session $session has no journal.bin"
echo "# edited on this server" | ct tee -a /etc/hft/hftd.toml >/dev/null
edited=$(ct sha256sum /etc/hft/hftd.toml)

# ------------------------------------------------------------------ apt-get remove, mid-session
hftd_pid=$(prop hftd MainPID)
apt_get "$state/remove.log" remove hft
[[ $(status_of) == 'rc ' ]] || fail "dpkg status after remove: '$(status_of)', expected rc (config-files)"
for u in hftd hft-exchange-sim hft-monitor; do
  [[ $(ct systemctl is-active "$u.service" 2>/dev/null || true) == inactive ]] ||
    fail "$u.service is $(ct systemctl is-active "$u.service" 2>/dev/null) after apt-get remove"
done
ct test -d "/proc/$hftd_pid" && fail "hftd (PID $hftd_pid) still runs after apt-get remove"
left=$(ct ps -e -o user=,comm= | awk '$1 == "hft" || $1 == "hft-monitor" || $2 ~ /^(hftd|exchange-sim|hft-)/')
[[ -z $left ]] || fail "processes of the stack left after apt-get remove: $left"
[[ $(prop hftd.service LoadState) == not-found ]] || fail "hftd.service is still loaded after remove: $(prop hftd.service LoadState)"
for f in /usr/bin/hftd /usr/bin/hftctl /usr/bin/exchange-sim /lib/systemd/system/hftd.service \
  /usr/share/doc/hft; do
  ct test -e "$f" && fail "$f is left after apt-get remove"
done
for f in /etc/hft/exchange-sim.toml /etc/logrotate.d/hft-monitor; do
  ct test -f "$f" || fail "the conffile $f was deleted by apt-get remove"
done
[[ $(ct sha256sum /etc/hft/hftd.toml) == "$edited" ]] || fail "the edited /etc/hft/hftd.toml changed on remove"
ct test -s "/var/lib/hft/sessions/$session/journal.bin" || fail "session $session's journal is gone after remove"
ct getent passwd hft >/dev/null || fail "the user hft is gone after remove"
ok "apt-get remove (stack running): units stopped, no process left, programs and units gone; status rc, conffiles (the edited one unchanged), sessions and users kept"

# ------------------------------------------------------------------ apt-get purge
apt_get "$state/purge.log" purge hft
[[ -z $(status_of) || $(status_of) == un* ]] || fail "dpkg status after purge: '$(status_of)'"
for f in /etc/hft /etc/logrotate.d/hft-monitor /var/log/hft /var/lib/private/hft-exchange-sim \
  /var/lib/hft-exchange-sim /var/lib/prometheus/node-exporter/hft.prom; do
  ct test -e "$f" && fail "$f is left after apt-get purge"
done
ct test -e /var/lib/systemd/deb-systemd-helper-enabled/hft.target.dsh-also &&
  fail "deb-systemd-helper's state of hft.target is left after purge"
snapshot "$state/after.list"

# What is on the root file system now and was not before the install: each path must have a
# reason to stay, and nothing that was there before may be gone.
gone=$(LC_ALL=C comm -23 "$state/before.list" "$state/after.list")
[[ -z $gone ]] || fail "purge removed paths that were there before the install: $(head -n 5 <<<"$gone")"
# why[key]: the reason; paths[key]: the paths it covers.
declare -A why=() paths=()
unexplained=()
keep() { why[$1]=$2; paths[$1]+=" $p"; }
while IFS= read -r p; do
  case $p in
  /var/lib/hft | /var/lib/hft/sessions | /var/lib/hft/sessions/*)
    keep sessions "trading records (journal.bin, stats.json): never deleted by the package; rm -rf /var/lib/hft when no longer needed" ;;
  /etc/systemd/system/*.service.d | /etc/systemd/system/*.service.d/*)
    keep drop-ins "the administrator's drop-ins (cores): dpkg never deletes files it did not install" ;;
  /var/lib/dpkg/* | /var/log/dpkg.log | /var/log/apt | /var/log/apt/* | /var/cache/apt/* | \
    /var/lib/apt/* | /var/cache/debconf/* | /var/cache/man | /var/cache/man/* | \
    /var/cache/ldconfig/* | /etc/ld.so.cache)
    keep dpkg "dpkg's and apt's own records, logs and caches (status, history, man-db index)" ;;
  /var/lib/private)
    keep private "systemd's directory for the state of DynamicUser= units (exchange-sim's own state in it is purged)" ;;
  /etc/passwd- | /etc/group- | /etc/shadow- | /etc/gshadow- | /etc/.pwd.lock)
    keep user-backups "the backups systemd-sysusers makes of the user database" ;;
  *) unexplained+=("$p") ;;
  esac
done < <(LC_ALL=C comm -13 "$state/before.list" "$state/after.list")
((${#unexplained[@]} == 0)) || fail "left after apt-get purge without a reason: ${unexplained[*]:0:20}"
for name_ in "passwd hft" "group hft" "group hft-admin" "passwd hft-monitor"; do
  # shellcheck disable=SC2086 # "database key"
  ct getent $name_ >/dev/null || fail "$name_ was deleted on purge (Debian keeps system users)"
done
why[users]="Debian never deletes a system user: files it owns (the sessions) would pass to the next user given its uid"
paths[users]=" hft hft-monitor hft-admin (in /etc/passwd, /etc/group, /etc/shadow, /etc/gshadow)"
ok "apt-get purge: status not-installed; conffiles, /etc/hft, /var/log/hft, the exchange's state, the textfile link and deb-systemd-helper's records gone. What stays, and why:"
for k in users sessions drop-ins private user-backups dpkg; do
  [[ -n ${why[$k]:-} ]] || continue
  log "  kept ($k): ${why[$k]}:"
  fold -s -w 96 <<<"${paths[$k]# }" | sed 's/^/            /'
done
log "PASS: the package installs, runs a session under systemd, removes and purges cleanly"

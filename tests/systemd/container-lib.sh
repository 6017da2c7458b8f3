# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# The throw-away systemd "server" shared by the tests that boot systemd (run-systemd-test.sh
# beside this file, tests/tools/systemd_flow_test.sh), sourced by both: finds the cgroup v2
# hierarchy, boots systemd as PID 1 of its own pid/mount/net/uts/ipc/cgroup namespaces on an
# overlay of / (container-init.sh), runs commands in it (ct), and tears it all down, checking
# that no process, mount, namespace or cgroup is left.
#
#   source container-lib.sh              # after set -euo pipefail
#   diagnostics() { container_diagnostics STATUS_LINES JOURNAL_LINES UNIT...; }   # for fail
#   container_cgroup_check || fail-or-skip "$ct_why"
#   trap container_teardown EXIT; trap 'exit 130' INT TERM
#   container_boot NAME INIT_SCRIPT TEST_TARGET   # sets state and ct_pid; systemd has booted
#   ct COMMAND...
#
# HFT_SYSTEMD_TEST_KEEP=1 leaves the state directory (logs) in place after a failure.

# state: the state directory (the container's root is mounted below it, in its own mount
# namespace). ct_pid: systemd's PID on the host. launcher: unshare, our child. cgroup: the
# container's cgroup. pidns, netns: the container's namespaces, for the leftover check.
state='' launcher='' ct_pid='' cgroup='' pidns='' netns=''
cgroup_root='' own_cgroup=''
# Why container_cgroup_check failed: the sourcing script fails or skips with it.
ct_why=''

start_time=$SECONDS
log() { printf '[%4ds] %s\n' "$((SECONDS - start_time))" "$*"; }
ok() { log "ok: $*"; }
# diagnostics is the sourcing script's.
fail() {
  log "FAIL: $*"
  diagnostics >&2
  exit 1
}

# The container's cgroup tree is a child of our own cgroup in the unified (v2) hierarchy.
# Returns 1 with the reason in ct_why (for the sourcing script) when there is none.
# shellcheck disable=SC2034
container_cgroup_check() {
  local m
  for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [[ $(stat -f -c %T "$m" 2>/dev/null) == cgroup2fs ]]; then
      cgroup_root=$m
      break
    fi
  done
  if [[ -z $cgroup_root ]]; then
    ct_why="no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
    return 1
  fi
  own_cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)
  if [[ -z $own_cgroup ]]; then
    ct_why="this process has no cgroup v2 path in /proc/self/cgroup"
    return 1
  fi
}

# Inside the container: every command runs with a clean environment in all its namespaces.
ct() {
  nsenter --target "$ct_pid" --all -- env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    SYSTEMD_PAGER='' SYSTEMD_COLORS=0 "$@"
}

# For a script's diagnostics: the UNITs' status (with STATUS_LINES of journal each), the last
# JOURNAL_LINES of the container's journal and its console, while systemd is up.
container_diagnostics() {
  local status_lines=$1 journal_lines=$2
  shift 2
  [[ -n $ct_pid ]] && kill -0 "$ct_pid" 2>/dev/null || return 0
  echo "---- systemctl status (container) ----"
  ct systemctl status --no-pager --lines="$status_lines" "$@" 2>&1 || true
  echo "---- journal, last $journal_lines lines (container) ----"
  ct journalctl --no-pager -n "$journal_lines" 2>&1 || true
  if [[ -s $state/console.log ]]; then
    echo "---- console (container) ----"
    tail -n 40 "$state/console.log"
  fi
}

# systemd's PID: the launcher's (unshare's) child once container-init.sh has exec'd systemd.
container_pid() {
  local child
  child=$(cat "/proc/$launcher/task/$launcher/children" 2>/dev/null) || return 1
  child=${child%% *}
  [[ -n $child && $(readlink "/proc/$child/exe" 2>/dev/null) == */systemd ]] || return 1
  ct_pid=$child
}

# container_boot NAME INIT_SCRIPT TEST_TARGET: makes the state directory
# ${TMPDIR:-/var/tmp}/NAME.XXXXXX and the container's cgroup, starts INIT_SCRIPT as PID 1 of
# new namespaces, waits for systemd's PID and for it to finish booting into TEST_TARGET
# (running or degraded: the caller says which it accepts). Fails on a timeout.
container_boot() {
  local init=$2 target=$3 deadline s
  state=$(mktemp -d "${TMPDIR:-/var/tmp}/$1.XXXXXX")
  mkdir "$state/fs"
  : >"$state/console.log"
  cgroup=$cgroup_root${own_cgroup%/}/${state##*/}
  mkdir "$cgroup"

  # The launcher moves itself into the new cgroup, then unshare makes the namespaces (the
  # cgroup namespace is rooted there) and forks container-init.sh as PID 1; --kill-child takes
  # the container down if unshare itself dies.
  bash -c 'echo $$ >"$1/cgroup.procs" && exec unshare --cgroup --pid --mount --net --uts --ipc \
    --fork --kill-child --propagation private -- "$2" "$3" "$4"' \
    launcher "$cgroup" "$init" "$state" "$target" >"$state/boot.log" 2>&1 &
  launcher=$!

  deadline=$((SECONDS + 30))
  until container_pid; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      cat "$state/boot.log" >&2
      fail "the container did not start"
    fi
    if ((SECONDS >= deadline)); then
      cat "$state/boot.log" >&2
      fail "systemd did not start within 30s"
    fi
    sleep 0.1
  done
  pidns=$(readlink "/proc/$ct_pid/ns/pid")
  netns=$(readlink "/proc/$ct_pid/ns/net")
  [[ $pidns != "$(readlink /proc/self/ns/pid)" && $netns != "$(readlink /proc/self/ns/net)" ]] ||
    fail "the container shares our pid or net namespace"

  deadline=$((SECONDS + 60))
  until s=$(ct systemctl is-system-running 2>/dev/null); [[ $s == running || $s == degraded ]]
  do
    ((SECONDS < deadline)) ||
      fail "systemd did not finish booting ${target##*/} within 60s (is-system-running: $s)"
    sleep 0.2
  done
}

# The EXIT trap: powers the container off, removes its cgroup and state directory, and fails
# (exit 1) if any process, mount or cgroup of it is left.
container_teardown() {
  local rc=$? deadline leftover='' ns
  trap - EXIT INT TERM
  set +e
  if [[ -n $ct_pid ]] && kill -0 "$ct_pid" 2>/dev/null; then
    # SIGRTMIN+4 asks systemd for poweroff.target; PID 1 of a pid namespace then exits.
    kill -s RTMIN+4 "$ct_pid"
    deadline=$((SECONDS + 30))
    while kill -0 "$ct_pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$ct_pid" 2>/dev/null; then
      log "teardown: systemd did not power off within 30s: SIGKILL to PID $ct_pid"
      kill -KILL "$ct_pid"
    fi
  fi
  if [[ -n $launcher ]]; then
    wait "$launcher" 2>/dev/null
  fi
  # Once PID 1 of a pid namespace is gone the kernel has killed the rest; the mount, net, uts,
  # ipc and cgroup namespaces go with their last process.
  if [[ -n $cgroup && -d $cgroup ]]; then
    deadline=$((SECONDS + 10))
    while [[ -n $(find "$cgroup" -name cgroup.procs -exec cat {} + 2>/dev/null) ]] &&
      ((SECONDS < deadline)); do sleep 0.2; done
    find "$cgroup" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $cgroup ]] && leftover+=" cgroup $cgroup;"
  fi
  if [[ -n $pidns ]]; then
    for ns in /proc/[0-9]*/ns/pid /proc/[0-9]*/ns/net; do
      case $(readlink "$ns" 2>/dev/null) in
        "$pidns" | "$netns") leftover+=" process ${ns%/ns/*} in the test's namespaces;" ;;
      esac
    done
  fi
  if [[ -n $state ]]; then
    grep -qF "$state" /proc/self/mountinfo && leftover+=" mounts under $state;"
    if ((rc != 0)) && [[ ${HFT_SYSTEMD_TEST_KEEP:-0} == 1 ]]; then
      log "teardown: kept $state"
    else
      rm -rf "$state"
    fi
  fi
  if [[ -n $leftover ]]; then
    log "FAIL: left behind:$leftover"
    exit 1
  fi
  ((rc == 0)) && log "teardown: no process, mount, namespace or cgroup left"
  exit "$rc"
}

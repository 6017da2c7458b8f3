#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Ansible fleet playbook (scripts/fleet/) against two throw-away servers: each is sshd as
# the only service in pid/mount/net/uts/ipc namespaces of its own, on an overlay of / that
# vanishes with it (fleet-server-init.sh). ansible-playbook runs in a third network namespace
# linked to each server by a veth pair (198.18.x.0/30, inside those namespaces only). The
# playbook installs the .deb, applies the kernel set-up to a fake tree, verifies, collects a
# short session and fetches both data directories; the test checks each step's result on
# both servers, then tears everything down and checks that nothing is left.
#
#   fleet_test.sh SOURCE_ROOT CACHE_DIR     (CACHE_DIR: scripts/build-deb.sh's, shared)
# Exit 0 pass, 1 fail, 77 skipped (not root, no ansible-playbook, sshd, unshare or overlayfs).
# HFT_TEST_DEB=FILE uses that .deb instead of the one scripts/build-deb.sh builds or reuses;
# HFT_TEST_KEEP=1 keeps the work directory (logs, fetched data) under /var/tmp.
set -euo pipefail

src=${1:?usage: fleet_test.sh SOURCE_ROOT CACHE_DIR}
cache=${2:?usage: fleet_test.sh SOURCE_ROOT CACHE_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
start=$SECONDS
log() { printf '[%4ds] %s\n' "$((SECONDS - start))" "$*"; }
skip() {
  echo "SKIP: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (namespaces, overlay mounts, dpkg inside the servers)"
for t in ansible-playbook ssh ssh-keygen /usr/sbin/sshd unshare nsenter ip tar; do
  command -v "$t" >/dev/null || skip "no $t (scripts/install-deps.sh installs it)"
done
grep -qw overlay /proc/filesystems || modprobe -n overlay 2>/dev/null ||
  skip "no overlay file system in this kernel"

work=$(mktemp -d /var/tmp/hft-fleet-test.XXXXXX)
ctl_ns=hft-fleet-ctl-$$
launchers=() server_pids=() pidns=()
failures=0

# make_untuned_tree, for each server's fake kernel tree (its ok() is replaced below).
# shellcheck source-path=SCRIPTDIR source=../scripts/fixtures.sh
source "$here/../scripts/fixtures.sh"
fail() {
  log "FAIL: $*"
  failures=$((failures + 1))
}
ok() { log "ok: $*"; }

# In server I (1 or 2): a command in all of its namespaces.
in_server() {
  local i=$1
  shift
  nsenter --target "${server_pids[i]}" --all -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

teardown() {
  local rc=$? leftover='' p ns
  trap - EXIT INT TERM
  set +e
  if ((rc != 0 || failures > 0)); then
    for i in "${!server_pids[@]}"; do
      echo "---- sshd log of server $i ----"
      tail -n 20 "/proc/${server_pids[i]}/root/var/log/sshd-fleet.log" 2>/dev/null
      echo "---- init log of server $i (pid ${server_pids[i]}) ----"
      tail -n 20 "$work/server$i/init.log" 2>/dev/null
      ps -o pid,ppid,stat,cmd --ppid "${launchers[i]}" 2>/dev/null
    done
  fi
  # SIGKILL to each server's PID 1 ends everything in its pid namespace.
  for p in "${server_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "${launchers[@]}"; do wait "$p" 2>/dev/null; done
  ip netns delete "$ctl_ns" 2>/dev/null
  local deadline=$((SECONDS + 10)) alive
  while :; do
    alive=''
    for ns in /proc/[0-9]*/ns/pid; do
      for p in "${pidns[@]}"; do
        [[ $(readlink "$ns" 2>/dev/null) == "$p" ]] && alive+=" process ${ns%/ns/pid};"
      done
    done
    [[ -z $alive ]] || ((SECONDS >= deadline)) && break
    sleep 0.1
  done
  leftover+=$alive
  ip netns list 2>/dev/null | grep -q "^$ctl_ns" && leftover+=" netns $ctl_ns;"
  ip link show 2>/dev/null | grep -q "hftfl[cs][12]" && leftover+=" a veth in the host namespace;"
  grep -qF "$work" /proc/self/mountinfo && leftover+=" mounts under $work;"
  if [[ ${HFT_TEST_KEEP:-0} == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
  if [[ -n $leftover ]]; then
    log "FAIL: left behind:$leftover"
    exit 1
  fi
  log "teardown: no process, namespace, veth or mount left"
  ((rc == 0 && failures == 0)) || exit 1
  exit 0
}
trap teardown EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ the package
deb=${HFT_TEST_DEB:-}
if [[ -z $deb ]]; then
  # scripts/build-deb.sh: the .deb deb_package built from this same tree, or a build now.
  log "the package (scripts/build-deb.sh, log: $work/deb.log) ..."
  rc=0
  deb=$(bash "$src/scripts/build-deb.sh" "$src" "$cache" 2>"$work/deb.log" | tail -n 1) || rc=$?
  case $rc in
    0) ;;
    77) skip "no package built: $(tail -n 1 "$work/deb.log")" ;;
    *)
      tail -n 30 "$work/deb.log"
      fail "scripts/build-deb.sh exited $rc"
      exit 1
      ;;
  esac
fi
[[ -f $deb ]] || { fail "no package: $deb"; exit 1; }
ok "package $(basename "$deb")"

# ------------------------------------------------------------------ two servers
ssh-keygen -q -t ed25519 -N '' -C hft-fleet-test -f "$work/id_ed25519"
ip netns add "$ctl_ns"
ip -n "$ctl_ns" link set lo up
for i in 1 2; do
  st=$work/server$i
  mkdir -p "$st/fs"
  ssh-keygen -q -t ed25519 -N '' -C "hft-fleet-server$i" -f "$st/host_ed25519"
  cp "$work/id_ed25519.pub" "$st/authorized_keys"
  unshare --pid --mount --net --uts --ipc --fork --kill-child --propagation private -- \
    "$here/fleet-server-init.sh" "$st" "engine-$i" "198.18.$i.2" >"$st/init.log" 2>&1 &
  launchers[i]=$!
  # The server's PID 1: unshare's child, once it runs the init script. unshare forks it only
  # after the kernel has made the new namespaces, and a network namespace can take seconds
  # while the kernel is still tearing down an earlier test's: an event with a generous bound.
  child=''
  deadline=$((SECONDS + 60))
  while :; do
    child=$(cat "/proc/${launchers[i]}/task/${launchers[i]}/children" 2>/dev/null || true)
    child=${child%% *}
    [[ -n $child ]] && grep -qF fleet-server-init "/proc/$child/cmdline" 2>/dev/null &&
      [[ $(readlink "/proc/$child/ns/net") != "$(readlink /proc/self/ns/net)" ]] && break
    kill -0 "${launchers[i]}" 2>/dev/null || { cat "$st/init.log"; fail "server $i exited at start"; exit 1; }
    ((SECONDS < deadline)) || { cat "$st/init.log"; fail "server $i did not start within 60 s"; exit 1; }
    sleep 0.05
  done
  server_pids[i]=$child
  pidns[i]=$(readlink "/proc/${server_pids[i]}/ns/pid")
  # The link: hftflcI in the controller's namespace, hftflsI in the server's.
  ip link add "hftflc$i" type veth peer name "hftfls$i"
  ip link set "hftflc$i" netns "$ctl_ns"
  ip link set "hftfls$i" netns "${server_pids[i]}"
  ip -n "$ctl_ns" addr add "198.18.$i.1/30" dev "hftflc$i"
  ip -n "$ctl_ns" link set "hftflc$i" up
  nsenter --target "${server_pids[i]}" --net ip addr add "198.18.$i.2/30" dev "hftfls$i"
  nsenter --target "${server_pids[i]}" --net ip link set "hftfls$i" up
done

# Each server is up when its sshd answers on its address: an event, waited for.
for i in 1 2; do
  deadline=$((SECONDS + 60))
  until ip netns exec "$ctl_ns" timeout 2 bash -c "exec 3<>/dev/tcp/198.18.$i.2/22" 2>/dev/null; do
    kill -0 "${launchers[i]}" 2>/dev/null || { cat "$work/server$i/init.log"; fail "server $i exited"; exit 1; }
    ((SECONDS < deadline)) || { fail "sshd of server $i did not listen within 60 s"; exit 1; }
    sleep 0.2
  done
done
ok "two servers, sshd listening on 198.18.1.2 and 198.18.2.2"

# Each server's fake kernel tree (the play must never touch this machine's /proc or /sys).
for i in 1 2; do
  make_untuned_tree "/proc/${server_pids[i]}/root/var/tmp/kernel"
done

# ------------------------------------------------------------------ the play
cat >"$work/inventory.ini" <<INV
[hft_engines]
engine-1 ansible_host=198.18.1.2
engine-2 ansible_host=198.18.2.2

[hft_engines:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_private_key_file=$work/id_ed25519
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'
INV
fetched=$work/fleet-data
log "ansible-playbook (log: $work/ansible.log) ..."
if ! ip netns exec "$ctl_ns" env ANSIBLE_HOME="$work/ansible-home" \
  ANSIBLE_LOCAL_TEMP="$work/ansible-tmp" ANSIBLE_REMOTE_TEMP=/tmp/.ansible \
  ANSIBLE_SSH_CONTROL_PATH_DIR="$work/cp" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
  ansible-playbook -i "$work/inventory.ini" "$src/scripts/fleet/site.yml" \
  -e "hft_deb=$deb" -e hft_kernel_root=/var/tmp/kernel -e hft_verify_must_pass=false \
  -e hft_collect_duration=5 -e "hft_fetch_dir=$fetched" \
  -e '{"hft_collect_args": ["--direct", "--cores", "0,1", "--poll-mode", "yield"]}' \
  >"$work/ansible.log" 2>&1; then
  tail -n 60 "$work/ansible.log"
  fail "ansible-playbook failed"
  exit 1
fi
grep -E '^(engine-[12]) +: ' "$work/ansible.log" | sed 's/^/    /'
ok "the play ran on both servers"

# ------------------------------------------------------------------ what each server has
for i in 1 2; do
  host=engine-$i
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  version=$(in_server "$i" dpkg-query -W -f='${Status} ${Version}' hft 2>&1 || true)
  if [[ $version == "install ok installed "* ]]; then ok "$host: hft installed (${version##* })"; else fail "$host: hft not installed: $version"; fi
  dropin=$(grep -rl "isolcpus" "/proc/${server_pids[i]}/root/var/tmp/kernel/etc/default" 2>/dev/null || true)
  runs=("$fetched/$host"/*/)
  run=${runs[0]%/}
  if [[ ! -d $run ]]; then
    fail "$host: nothing fetched to $fetched/$host"
    continue
  fi
  if [[ -n $dropin ]]; then
    ok "$host: kernel set-up wrote its GRUB drop-in in the fake tree"
  else
    fail "$host: no GRUB drop-in with isolcpus under the fake tree's /etc/default"
    cat "$run/setup_kernel.txt" 2>/dev/null
  fi
  numa=$(cat "/proc/${server_pids[i]}/root/var/tmp/kernel/proc/sys/kernel/numa_balancing")
  if [[ $numa == 0 ]]; then
    ok "$host: the no-reboot settings applied to the fake tree (numa_balancing 0)"
  else
    fail "$host: numa_balancing in the fake tree is $numa, not 0"
  fi
  if [[ -s $run/verify_system.txt ]]; then ok "$host: verify_system.sh report fetched"; else fail "$host: no verify_system.txt in $run"; fi
  data=$run/collection
  if [[ -f $data/MANIFEST.sha256 ]] && (cd "$data" && sha256sum --check --strict --quiet MANIFEST.sha256); then
    ok "$host: collection fetched, every file matches its MANIFEST.sha256"
  else
    fail "$host: the fetched collection in $data is missing or does not match its manifest"
  fi
  orders=$(python3 - "$data" <<'PY' 2>&1 || true
import json, os, sys
path = os.path.join(sys.argv[1], "session", "stats.json")
print(json.load(open(path))["orders_sent"] if os.path.exists(path) else "no session/stats.json")
PY
)
  if [[ $orders =~ ^[0-9]+$ && $orders -gt 0 ]]; then ok "$host: the session sent $orders orders"; else fail "$host: the fetched session shows no orders ($orders)"; fi
done
hosts=$(cd "$fetched" && printf '%s ' *)
if [[ $hosts == "engine-1 engine-2 " ]]; then ok "one directory per host"; else fail "fetched directories: $hosts"; fi

((failures == 0)) || exit 1
log "fleet: package, kernel set-up, verification, collection and fetch on both servers"

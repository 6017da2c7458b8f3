#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The seed's server flow under a real systemd: deploy.sh installs into a throw-away systemd
# "server" (PID 1 of its own namespaces, on an overlay of /: tests/systemd/container-init.sh),
# then /opt/hft/scripts/collect_data.sh runs there in systemd mode (systemctl start hft.target,
# hft-monitor.service's files, journalctl, exchange-sim's stats) and analyses the data.
#
#   systemd_flow_test.sh SOURCE_ROOT CONTAINER_INIT TEST_TARGET   (HFTD, HFTCTL, EXCHANGE_SIM set)
# Needs root. Exit 0 pass, 1 fail, 77 skipped (no root, no systemd, no overlay or cgroup v2).
# The container's boot and teardown are tests/systemd/container-lib.sh's (beside CONTAINER_INIT);
# HFT_SYSTEMD_TEST_KEEP=1 leaves the state directory (logs) in place after a failure.
# deploy.sh's ssh is replaced by a stand-in that runs the remote command in the container with
# nsenter, so deploy.sh's own code path to a real root (/) is what runs.
set -euo pipefail

src=${1:?usage: systemd_flow_test.sh SOURCE_ROOT CONTAINER_INIT TEST_TARGET}
container_init=${2:?}
test_target=${3:?}
duration=${HFT_COLLECT_DURATION:-6}
skip() {
  echo "SKIP: $*"
  exit 77
}

[[ $(id -u) -eq 0 ]] || skip "needs root (namespaces, overlay mount)"
[[ -x /lib/systemd/systemd ]] || skip "no /lib/systemd/systemd"
for t in unshare nsenter setpriv pivot_root tar; do command -v "$t" >/dev/null || skip "no $t"; done
grep -qw overlay /proc/filesystems || skip "no overlay file system"
for v in HFTD HFTCTL EXCHANGE_SIM; do [[ -x ${!v:-} ]] || skip "$v is not set to a program"; done
[[ -f $container_init && -f $test_target ]] || skip "tests/systemd's container harness is absent"
container_lib=$(dirname "$container_init")/container-lib.sh
[[ -f $container_lib ]] || skip "tests/systemd/container-lib.sh is absent"
# log, ok, fail, ct, the boot and the teardown of the container.
# shellcheck source=SCRIPTDIR/../systemd/container-lib.sh
source "$container_lib"
container_cgroup_check || skip "$ct_why"

# On a failure (fail): the units' states, the last 40 lines of the journal, the console.
diagnostics() {
  container_diagnostics 5 40 hft.target hftd.service hft-exchange-sim.service \
    hft-monitor.service
}
# Power off, kill, remove the cgroup and the state directory, and fail on anything left.
trap container_teardown EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ boot the "server"
container_boot hft-systemd-flow "$container_init" "$test_target"
mkdir "$state/bin" "$state/dist" "$state/out"
ok "systemd booted as PID 1 of its own namespaces (host PID $ct_pid)"

# ------------------------------------------------------------------ deploy.sh into it
# The ssh stand-in: every option is ignored, user@host is dropped, the command runs in the
# container with stdin (the payload) passed through.
cat >"$state/bin/ssh" <<EOF
#!/bin/bash
while [[ \$# -gt 0 ]]; do
  case \$1 in
  -[pioFlJLRDWbcemw]) shift 2 ;;
  -*) shift ;;
  *) shift; break ;;
  esac
done
exec nsenter --target $ct_pid --all -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 SYSTEMD_PAGER= /bin/sh -c "\$*"
EOF
chmod 0755 "$state/bin/ssh"
cp "$HFTD" "$state/dist/hftd"
cp "$HFTCTL" "$state/dist/hftctl"
cp "$EXCHANGE_SIM" "$state/dist/exchange-sim"
rc=0
PATH=$state/bin:$PATH "$src/scripts/deploy.sh" --host hft-server --dist "$state/dist" --skip-deps \
  --log "$state/deploy.log" >/dev/null 2>&1 || rc=$?
[[ $rc -eq 0 ]] || {
  cat "$state/deploy.log"
  fail "deploy.sh exited $rc"
}
for f in /opt/hft/bin/hftd /opt/hft/scripts/collect_data.sh /etc/systemd/system/hftd.service \
  /etc/hft/hftd.toml /usr/local/bin/hftctl; do
  ct test -e "$f" || fail "deploy.sh did not install $f"
done
ct getent passwd hft >/dev/null || fail "deploy.sh did not create the hft user (systemd-sysusers)"
ct getent passwd hft-monitor >/dev/null || fail "deploy.sh did not create the hft-monitor user"
[[ $(ct stat -c '%U %a' /var/lib/hft/sessions) == "hft 750" ]] || fail "systemd-tmpfiles did not make /var/lib/hft/sessions"
[[ $(ct systemctl show -P FragmentPath hftd.service) == /etc/systemd/system/hftd.service ]] ||
  fail "systemd did not load the deployed hftd.service (daemon-reload)"
grep -q 'verify_system: ' "$state/deploy.log" || fail "verify_system did not run"
ok "deploy.sh: programs, units, users, directories, daemon-reload, verify_system"

# This machine's cores: hftd on the last two allowed CPUs (the documented drop-in), the
# exchange beside them.
ncpu=$(ct nproc)
if ((ncpu < 8)); then
  ct mkdir -p /etc/systemd/system/hftd.service.d /etc/systemd/system/hft-exchange-sim.service.d
  ct cp /opt/hft/share/hft/cores.conf.example /etc/systemd/system/hftd.service.d/cores.conf
  printf '[Service]\nCPUAffinity=\nCPUAffinity=1\n' |
    ct tee /etc/systemd/system/hft-exchange-sim.service.d/cores.conf >/dev/null
  ct systemctl daemon-reload
fi

# ------------------------------------------------------------------ collect_data.sh, systemd mode
rc=0
ct /opt/hft/scripts/collect_data.sh "$duration" --analyze >"$state/collect.log" 2>&1 || rc=$?
cat "$state/collect.log"
[[ $rc -eq 0 ]] || fail "collect_data.sh exited $rc"
grep -q "mode systemd" "$state/collect.log" || fail "collect_data.sh did not choose systemd mode"
grep -q "systemctl start hft.target" "$state/collect.log" || fail "the stack was not started with systemctl"
data=$(sed -n 's/^Data directory: //p' "$state/collect.log" | tail -n 1)
[[ $data == /var/lib/hft/data/* ]] || fail "data directory '$data' is not under /var/lib/hft/data"
ct test -d "/opt/hft/data/${data##*/}" || fail "/opt/hft/data does not lead to the data directory"
for u in hftd hft-exchange-sim hft-monitor; do
  [[ $(ct systemctl is-active "$u.service") == inactive ]] || fail "$u.service is still running after collect_data.sh"
done
ok "collect_data.sh $duration: systemd mode, stack started and stopped again"

ct tar -C "$data" -cf - . | tar -xf - -C "$state/out"
out=$state/out
(cd "$out" && sha256sum --check --strict --quiet MANIFEST.sha256) || fail "MANIFEST.sha256 does not verify"
for f in system/cmdline.txt system/versions.txt system/hftd.toml system/exchange-sim.toml \
  session/latency.csv session/stats.json session/histograms.json session/journal.bin \
  exchange/exchange_stats.json logs/hftd.log logs/exchange-sim.log monitors/mpstat.txt \
  monitors/vmstat.txt monitors/pidstat.txt monitors/perf_stat.txt monitors/hftctl_stats.jsonl \
  analysis/report.json; do
  [[ -s $out/$f ]] || fail "$f is missing or empty"
done
if ct systemctl show -P ExecStart hft-exchange-sim.service | grep -q -- --samples-file; then
  [[ -s $out/exchange/tick_to_trade.csv ]] || fail "exchange/tick_to_trade.csv is missing"
else
  log "note: hft-exchange-sim.service has no --samples-file: no exchange/tick_to_trade.csv"
fi
grep -q 'Connected to exchange' "$out/logs/hftd.log" || fail "logs/hftd.log (journalctl) lacks 'Connected to exchange'"
grep -q 'Listening on port' "$out/logs/exchange-sim.log" || fail "logs/exchange-sim.log lacks 'Listening on port'"
cmp -s "$out/system/hftd.toml" "$src/conf/hftd.toml" || fail "system/hftd.toml is not the configuration in use"
lines=$(grep -c . "$out/monitors/hftctl_stats.jsonl")
((lines >= 3)) || fail "hft-monitor's hftctl_stats.jsonl has $lines lines for this run"
head -n 3 "$out/monitors/vmstat.txt" | grep -q 'procs' || fail "monitors/vmstat.txt lacks its header"
grep -q 'hft-net' "$out/monitors/pidstat.txt" || fail "monitors/pidstat.txt does not show hftd's threads"
sid=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["session_id"])' "$out/session/stats.json")
grep -q "session $sid started" "$state/collect.log" || fail "session/ is not this run's session"
/usr/bin/python3 - "$out/analysis/report.json" <<'EOF' || fail "report.json is not consistent"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["manifest"]["mismatched"] == [], r["manifest"]
assert r["trading"]["orders_sent"] > 0, r["trading"]
assert r["latency"]["stages"]["rx_to_sent"]["count"] > 0
assert r["consistency"]["orders"]["equal"], r["consistency"]
EOF
ok "data: session $sid, exchange stats, journal logs, this run's slice of hft-monitor's files, manifest, report.json"

# ------------------------------------------------------------------ a stack already running
ct systemctl start hft.target || fail "systemctl start hft.target failed"
rc=0
ct /opt/hft/scripts/collect_data.sh 3 --out /var/tmp/running >"$state/collect2.log" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || {
  cat "$state/collect2.log"
  fail "collect_data.sh on a running stack exited $rc"
}
grep -q "already running: using it" "$state/collect2.log" || fail "the running stack was not reused"
[[ $(ct systemctl is-active hftd.service) == active ]] || fail "collect_data.sh stopped a stack it did not start"
ct test -s /var/tmp/running/session/stats.json || fail "no session data from the running stack"
ct systemctl stop hft.target
ok "a running stack is used as it is and left running"

log "PASS: deploy.sh and collect_data.sh under systemd"

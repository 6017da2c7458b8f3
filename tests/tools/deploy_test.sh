#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/deploy.sh end to end against an sshd in a network namespace of its own: the "server"
# is this machine, deployed into a temporary --remote-root. The Debian package path (--deb):
# its usage errors, its fallback to the copy under --remote-root, and a real apt-get install
# over ssh into a throw-away systemd "server" (tests/systemd's container harness, with its own
# sshd) of a small test package named hft, twice, to see an edited conffile kept. Leaves
# nothing behind.
#
#   deploy_test.sh SOURCE_ROOT      (HFTD, HFTCTL, EXCHANGE_SIM: the programs to deploy)
# Exit 0 pass, 1 fail, 77 skipped (not root, no sshd or no network namespaces).
set -euo pipefail

src=${1:?usage: deploy_test.sh SOURCE_ROOT}
deploy=$src/scripts/deploy.sh
failures=0

skip() {
  echo "SKIP: $*"
  exit 77
}
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

[[ $(id -u) -eq 0 ]] || skip "needs root for ip netns"
[[ -x /usr/sbin/sshd ]] || skip "no /usr/sbin/sshd (package openssh-server)"
for t in ssh ssh-keygen ip; do command -v "$t" >/dev/null || skip "no $t"; done
for v in HFTD HFTCTL EXCHANGE_SIM; do [[ -x ${!v:-} ]] || skip "$v is not set to a program"; done

tmp=$(mktemp -d /tmp/hft-deploy-test.XXXXXX)
ns=hfttest-$$-$RANDOM
sshd_pid=''
made_privsep=0

cleanup() {
  if [[ -n $sshd_pid ]]; then
    kill "$sshd_pid" 2>/dev/null || true
    wait "$sshd_pid" 2>/dev/null || true
    sshd_pid=''
  fi
  if ip netns list | grep -qw -- "$ns"; then ip netns delete "$ns"; fi
  if [[ $made_privsep -eq 1 ]]; then
    rmdir /run/sshd 2>/dev/null || true
    made_privsep=0
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ the "server": sshd in $ns
ssh-keygen -q -t ed25519 -N '' -C hft-deploy-test -f "$tmp/client_key"
ssh-keygen -q -t ed25519 -N '' -C hft-deploy-test-host -f "$tmp/host_key"
cp "$tmp/client_key.pub" "$tmp/authorized_keys"
cat >"$tmp/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $tmp/host_key
AuthorizedKeysFile $tmp/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
# The keys live under /tmp, which is world-writable.
StrictModes no
UsePAM no
PidFile none
LogLevel VERBOSE
EOF
# sshd insists on its privilege separation directory.
if [[ ! -d /run/sshd ]]; then
  mkdir -m 0755 /run/sshd
  made_privsep=1
fi
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
port=2222
ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$tmp/sshd_config" -p "$port" 2>"$tmp/sshd.log" &
sshd_pid=$!
for ((i = 0; i < 200; i++)); do
  grep -q 'Server listening on 127.0.0.1' "$tmp/sshd.log" && break
  kill -0 "$sshd_pid" 2>/dev/null || break
  sleep 0.05
done
grep -q 'Server listening on 127.0.0.1' "$tmp/sshd.log" || {
  cat "$tmp/sshd.log"
  echo "FAIL: sshd did not start"
  exit 1
}

dist=$tmp/dist
mkdir "$dist"
cp "$HFTD" "$dist/hftd"
cp "$HFTCTL" "$dist/hftctl"
cp "$EXCHANGE_SIM" "$dist/exchange-sim"
root=$tmp/root
mkdir "$root"
ssh_opts="-i $tmp/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
in_ns() { ip netns exec "$ns" "$@"; }
run_deploy() { # LOG ARGS...: deploy.sh inside the namespace, output into LOG
  local log=$1
  shift
  local rc=0
  in_ns "$deploy" --port "$port" --ssh-opts "$ssh_opts" --dist "$dist" --remote-root "$root" \
    --skip-deps --log "$log" "$@" >/dev/null 2>&1 || rc=$?
  return "$rc"
}

# ------------------------------------------------------------------ a first deployment
# As the seed's step 4.2 leaves it: mkdir -p /opt/hft/{bin,config,logs,data,scripts}, and some
# data already in data/.
mkdir -p "$root"/opt/hft/{bin,config,logs,data,scripts}
echo "an earlier run" >"$root/opt/hft/data/old-run.txt"
rc=0
HFT_SERVER=127.0.0.1 run_deploy "$tmp/deploy1.log" || rc=$?
if [[ $rc -eq 0 ]]; then pass "deploy.sh to HFT_SERVER exits 0"; else
  fail "deploy.sh exited $rc"
  cat "$tmp/deploy1.log"
fi

opt=$root/opt/hft
for f in bin/hftd bin/hftctl bin/exchange-sim scripts/collect_data.sh scripts/verify_system.sh \
  scripts/setup_kernel.sh scripts/lib.sh scripts/analyze_results.py scripts/install-deps.sh \
  libexec/hft-monitor; do
  if [[ -f $opt/$f && -x $opt/$f ]]; then :; else fail "$opt/$f is missing or not executable"; fi
done
cmp -s "$HFTD" "$opt/bin/hftd" || fail "the deployed hftd differs from the dist one"
pass "programs and scripts landed, executable"

for f in hftd.service hft-exchange-sim.service hft-monitor.service hft.target; do
  [[ -f $root/etc/systemd/system/$f ]] || fail "unit $f not installed"
done
grep -q '^ExecStart=/opt/hft/bin/hftd --config /etc/hft/hftd.toml' "$root/etc/systemd/system/hftd.service" ||
  fail "hftd.service does not run /opt/hft/bin/hftd with /etc/hft/hftd.toml"
grep -q '^ExecStart=/opt/hft/libexec/hft-monitor' "$root/etc/systemd/system/hft-monitor.service" ||
  fail "hft-monitor.service does not run /opt/hft/libexec/hft-monitor"
if grep -l '@[a-z_]*@' "$root"/etc/systemd/system/* "$opt/libexec/hft-monitor"; then
  fail "unrendered @variables@ left in the units"
fi
pass "units rendered for /opt/hft"

for f in hftd.toml exchange-sim.toml; do
  cmp -s "$src/conf/$f" "$root/etc/hft/$f" || fail "/etc/hft/$f is not conf/$f"
done
[[ -f $root/etc/sysusers.d/hft.conf && -f $root/etc/tmpfiles.d/hft.conf ]] || fail "sysusers.d/tmpfiles.d not installed"
cmp -s "$src/conf/logrotate.d/hft-monitor" "$root/etc/logrotate.d/hft-monitor" || fail "logrotate.d/hft-monitor not installed"
[[ -f $opt/docs/grafana/hft.json ]] || fail "the Grafana dashboard is not in /opt/hft/docs/grafana"
[[ $(readlink "$opt/config") == ../../etc/hft && -f $opt/config/hftd.toml ]] || fail "/opt/hft/config does not lead to /etc/hft"
[[ $(readlink "$opt/logs") == ../../var/log/hft ]] || fail "the seed's empty /opt/hft/logs did not become a link to /var/log/hft"
[[ -f $opt/data/old-run.txt && ! -L $opt/data ]] || fail "a non-empty /opt/hft/data was not kept as it is"
grep -q "kept $opt/data (not empty)" "$tmp/deploy1.log" || fail "the kept /opt/hft/data is not reported"
[[ -x $root/usr/local/bin/hftctl ]] || fail "hftctl is not linked into /usr/local/bin"
pass "configuration and the seed's layout"

grep -q "verify_system.sh --bin-dir $opt/bin" "$tmp/deploy1.log" || fail "verify_system.sh was not run"
grep -Eq "^PASS +bin:hftd +$opt/bin/hftd" "$tmp/deploy1.log" || fail "verify_system did not find the deployed hftd"
grep -q 'verify_system: ' "$tmp/deploy1.log" || fail "no verify_system verdict in the log"
grep -q 'dependencies: skipped (--skip-deps)' "$tmp/deploy1.log" || fail "--skip-deps not honoured"
pass "verify_system ran, output in the deploy log"

# ------------------------------------------------------------------ a changed config is kept
printf '\n# changed on the server\n' >>"$root/etc/hft/hftd.toml"
cp "$root/etc/hft/hftd.toml" "$tmp/changed.toml"
rc=0
run_deploy "$tmp/deploy2.log" --host 127.0.0.1 --no-verify || rc=$?
[[ $rc -eq 0 ]] || fail "second deploy exited $rc"
cmp -s "$tmp/changed.toml" "$root/etc/hft/hftd.toml" || fail "a changed hftd.toml was overwritten"
cmp -s "$src/conf/hftd.toml" "$root/etc/hft/hftd.toml.dist" || fail "the new default is not beside it as hftd.toml.dist"
grep -q 'kept .*hftd.toml (changed on this server)' "$tmp/deploy2.log" || fail "the kept config is not reported"
grep -q 'verify_system.sh' "$tmp/deploy2.log" && fail "--no-verify still ran verify_system.sh"
pass "a changed configuration is kept, the new default goes to .dist"

# ------------------------------------------------------------------ dry run, failures, usage
fresh=$tmp/fresh
mkdir "$fresh"
rc=0
in_ns "$deploy" --host 127.0.0.1 --port "$port" --ssh-opts "$ssh_opts" --dist "$dist" \
  --remote-root "$fresh" --dry-run >"$tmp/dry.log" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || fail "--dry-run exited $rc"
[[ -z $(ls -A "$fresh") ]] || fail "--dry-run changed the remote root"
grep -q '^+ tar -C .* | ssh -p 2222' "$tmp/dry.log" || fail "--dry-run does not print the ssh command"
sed -n 's/^  | //p' "$tmp/dry.log" >"$tmp/installer.sh"
if command -v shellcheck >/dev/null && ! shellcheck -S warning -s bash "$tmp/installer.sh"; then
  fail "the remote installer is not shellcheck clean"
fi
pass "--dry-run prints the commands and changes nothing"

rc=0
in_ns "$deploy" --host 127.0.0.1 --port 2223 --ssh-opts "$ssh_opts" --dist "$dist" \
  --remote-root "$fresh" --skip-deps >"$tmp/refused.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "a server that refuses the connection gives exit $rc, not 1"
grep -q 'FAILED' "$tmp/refused.log" || fail "the failed host is not reported"
pass "an unreachable server fails with exit 1"

expect_usage() { # ARGS...: deploy.sh must refuse them with exit 2
  local rc=0
  env -u HFT_SERVER "$deploy" "$@" </dev/null >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 2 ]] || fail "deploy.sh $* exited $rc, not 2"
}
expect_usage --dist "$dist"                                          # no server
expect_usage --host h --dist "$tmp/none"                             # no dist
expect_usage --host h --dist "$dist" --port 0
expect_usage --host h --dist "$dist" --remote-root relative/path
expect_usage --host h --dist "$dist" --reboot
expect_usage --host h --dist "$dist" --bogus
expect_usage --host h --deb "$tmp/none.deb"                           # no package
expect_usage --host h --deb "$tmp/client_key"                         # not a package
expect_usage --host h --method deb                                    # deb without --deb
expect_usage --host h --dist "$dist" --method bogus
(setsid "$deploy" --host h --dist "$dist" --setup-kernel </dev/null >/dev/null 2>&1) && fail "--setup-kernel without a terminal or --yes must be refused"
pass "usage errors exit 2"

# ------------------------------------------------------------------ the Debian package path
# A small package named hft: the built programs in /usr/bin, verify_system.sh where the real
# package has it, and /etc/hft/hftd.toml as a conffile. VERSION OUT.
make_test_deb() {
  local d=$tmp/debroot-$1
  mkdir -p "$d/DEBIAN" "$d/usr/bin" "$d/usr/share/hft/scripts" "$d/etc/hft"
  cp "$HFTD" "$d/usr/bin/hftd"
  cp "$HFTCTL" "$d/usr/bin/hftctl"
  cp "$EXCHANGE_SIM" "$d/usr/bin/exchange-sim"
  cp "$src/scripts/verify_system.sh" "$src/scripts/lib.sh" "$d/usr/share/hft/scripts/"
  { cat "$src/conf/hftd.toml"; echo "# test package $1"; } >"$d/etc/hft/hftd.toml"
  echo /etc/hft/hftd.toml >"$d/DEBIAN/conffiles"
  printf '%s\n' "Package: hft" "Version: $1" "Architecture: all" \
    "Maintainer: hft tests <tests@invalid>" "Description: deploy_test.sh's stand-in for hft" \
    >"$d/DEBIAN/control"
  dpkg-deb --root-owner-group -b "$d" "$2" >/dev/null
}
if command -v dpkg-deb >/dev/null; then
  make_test_deb 0.0.1-test "$tmp/hft_0.0.1-test_all.deb"
  make_test_deb 0.0.2-test "$tmp/hft_0.0.2-test_all.deb"
  expect_usage --host h --deb "$tmp/hft_0.0.1-test_all.deb" --method deb --remote-root "$fresh"
  # auto, with a --remote-root: dpkg cannot install there, so the copy goes in.
  viaroot=$tmp/viaroot
  mkdir "$viaroot"
  rc=0
  in_ns "$deploy" --host 127.0.0.1 --port "$port" --ssh-opts "$ssh_opts" --dist "$dist" \
    --deb "$tmp/hft_0.0.1-test_all.deb" --remote-root "$viaroot" --skip-deps --no-verify \
    --log "$tmp/deb-root.log" >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || fail "deploy.sh --deb with --remote-root exited $rc"
  grep -q "package: not into remote root $viaroot" "$tmp/deb-root.log" ||
    fail "deploy.sh --deb --remote-root does not say it copies instead"
  cmp -s "$HFTD" "$viaroot/opt/hft/bin/hftd" || fail "the copy did not land under --remote-root"
  # --deb without --dist, to a server that needs the copy: that server fails, clearly.
  mkdir "$tmp/nodist"
  rc=0
  in_ns "$deploy" --host 127.0.0.1 --port "$port" --ssh-opts "$ssh_opts" \
    --deb "$tmp/hft_0.0.1-test_all.deb" --remote-root "$tmp/nodist" --skip-deps \
    >"$tmp/deb-nodist.log" 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || fail "--deb, no --dist, a server needing the copy: exit $rc, not 1"
  grep -q 'needs the plain copy, and deploy.sh was given no --dist' "$tmp/deb-nodist.log" ||
    fail "the missing --dist is not reported"
  in_ns "$deploy" --host 127.0.0.1 --port "$port" --ssh-opts "$ssh_opts" \
    --deb "$tmp/hft_0.0.1-test_all.deb" --dry-run >"$tmp/deb-dry.log" 2>&1 ||
    fail "--deb --dry-run failed"
  grep -q '^  \./deb/hft_0\.0\.1-test_all\.deb$' "$tmp/deb-dry.log" ||
    fail "--dry-run does not list the package"
  grep -q "apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold" \
    "$tmp/deb-dry.log" || fail "the installer does not apt-get install keeping edited conffiles"
  pass "--deb: usage errors, the copy under --remote-root, no --dist for a server needing the copy fails, dry run"
else
  echo "note: no dpkg-deb: the package path is not tested"
fi

# The real thing: deploy.sh --deb over ssh to an sshd inside a throw-away systemd server (its
# own pid/mount/net namespaces on an overlay of /: nothing is installed on this machine).
deb_server_test() (
  c=/etc/hft-deploy-test sshd_job=''
  container_lib=$src/tests/systemd/container-lib.sh
  [[ -f $container_lib && -x /lib/systemd/systemd ]] || {
    echo "no container harness or systemd"
    exit 77
  }
  # shellcheck source=SCRIPTDIR/../systemd/container-lib.sh
  source "$container_lib"
  container_cgroup_check || {
    # shellcheck disable=SC2154 # set by the sourced container-lib.sh
    echo "$ct_why"
    exit 77
  }
  diagnostics() { container_diagnostics 0 20; }
  # sshd (started by this test, outside systemd's units) goes first, by its PID.
  stop_sshd() {
    local pid
    pid=$(ct cat /run/hft-deploy-test-sshd.pid 2>/dev/null) || return 0
    ct kill "$pid" 2>/dev/null || true
    [[ -z $sshd_job ]] || wait "$sshd_job" 2>/dev/null || true
  }
  # container_teardown takes the exit status from $?: keep it across stop_sshd.
  rc_=0
  trap 'rc_=$?; stop_sshd; set +e; (exit "$rc_"); container_teardown' EXIT
  container_boot hft-deploy-deb "$src/tests/systemd/container-init.sh" \
    "$src/tests/systemd/hft-test.target"
  ct mkdir -p -m 0755 /run/sshd "$c"
  for f in host_key authorized_keys; do ct install -m 0600 /dev/stdin "$c/$f" <"$tmp/$f"; done
  sed -e "s|$tmp/|$c/|g" "$tmp/sshd_config" | ct tee "$c/sshd_config" >/dev/null
  ct ip link set lo up
  ct /usr/sbin/sshd -D -e -f "$c/sshd_config" -p 2222 -o PidFile=/run/hft-deploy-test-sshd.pid \
    2>"$tmp/ct-sshd.log" &
  sshd_job=$!
  for ((i = 0; i < 200; i++)); do
    grep -q 'Server listening on 127.0.0.1' "$tmp/ct-sshd.log" && break
    sleep 0.05
  done
  grep -q 'Server listening on 127.0.0.1' "$tmp/ct-sshd.log" || {
    cat "$tmp/ct-sshd.log"
    fail "sshd in the container did not start"
  }
  to_server() { # LOG VERSION: deploy.sh --deb from this host, in the container's network
    # shellcheck disable=SC2154 # set by the sourced container-lib.sh
    nsenter --target "$ct_pid" --net -- "$deploy" --host 127.0.0.1 --port 2222 \
      --ssh-opts "$ssh_opts" --deb "$tmp/hft_$2_all.deb" --skip-deps --log "$1" \
      >/dev/null 2>&1 || {
      cat "$1"
      fail "deploy.sh --deb $2 into the container failed"
    }
  }
  # shellcheck disable=SC2016 # dpkg-query's format
  status='${Version} ${db:Status-Abbrev}'
  to_server "$tmp/deb1.log" 0.0.1-test
  [[ $(ct dpkg-query -W -f "$status" hft) == "0.0.1-test ii " ]] ||
    fail "hft 0.0.1-test is not installed in the container: $(ct dpkg-query -W -f "$status" hft)"
  grep -q 'apt-get install hft_0.0.1-test_all.deb' "$tmp/deb1.log" ||
    fail "the package was not installed with apt-get"
  grep -q 'dependencies: no apt-get update (--skip-deps)' "$tmp/deb1.log" ||
    fail "--skip-deps not honoured"
  grep -Eq "^PASS +bin:hftd +/usr/bin/hftd" "$tmp/deb1.log" ||
    fail "verify_system did not check /usr/bin/hftd"
  grep -q 'deployed (package)' "$tmp/deb1.log" || fail "no 'deployed (package)'"
  ct test -e /opt/hft/bin/hftd && fail "the package path also copied to /opt/hft"
  echo "# edited on the server" | ct tee -a /etc/hft/hftd.toml >/dev/null
  edited=$(ct sha256sum /etc/hft/hftd.toml)
  to_server "$tmp/deb2.log" 0.0.2-test
  [[ $(ct dpkg-query -W -f "$status" hft) == "0.0.2-test ii " ]] ||
    fail "the upgrade to 0.0.2-test did not happen"
  [[ $(ct sha256sum /etc/hft/hftd.toml) == "$edited" ]] ||
    fail "the edited conffile was replaced on the upgrade"
  ct grep -q 'test package 0.0.2-test' /etc/hft/hftd.toml.dpkg-dist ||
    fail "the new default is not beside it as hftd.toml.dpkg-dist"
)
if command -v dpkg-deb >/dev/null; then
  rc=0
  deb_server_test >"$tmp/deb-server.log" 2>&1 || rc=$?
  case $rc in
  0) pass "--deb over ssh into a systemd server: apt-get install, verify_system on /usr/bin, an upgrade keeps the edited conffile (.dpkg-dist beside it)" ;;
  77) echo "note: the package's real install is not tested: $(tail -n 1 "$tmp/deb-server.log")" ;;
  *)
    cat "$tmp/deb-server.log"
    fail "deploy.sh --deb into the systemd server"
    ;;
  esac
fi

cleanup
trap - EXIT
if ip netns list | grep -q -- "$ns"; then fail "namespace $ns left behind"; fi
[[ ! -e $tmp ]] || fail "$tmp left behind"

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all deploy checks passed"

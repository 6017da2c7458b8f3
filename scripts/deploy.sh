#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deploy.sh: install hft on servers over ssh, either the Debian package (--deb: apt-get install
# on a server with dpkg) or the plain copy of the build, scripts, units and configuration into
# the seed's layout (/opt/hft/{bin,config,logs,data,scripts}); then check them with
# verify_system.sh; optionally configure the kernel (setup_kernel.sh) and reboot.
set -euo pipefail
shopt -s nullglob

readonly PROG=${0##*/}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO
readonly PROGRAMS=(hftd hftctl exchange-sim)
# lib.sh: the helpers the other shell scripts source from beside them.
readonly SCRIPTS=(collect_data.sh verify_system.sh setup_kernel.sh lib.sh analyze_results.py
  install-deps.sh)
# The paths the units are generated with (what meson does for --prefix=/opt/hft --sysconfdir=/etc).
readonly PREFIX=/opt/hft
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh" || exit 1

usage() {
  cat <<EOF
Usage: $PROG [options]

Deploys hft to one or more servers over ssh. With --deb FILE, a server with dpkg and apt-get
gets the package: apt-get install FILE (its Depends come from the server's apt sources unless
--skip-deps; edited conffiles are kept), then verify_system.sh as in step 4; the units are
neither enabled nor started (the package's rule). Any other server, or --method copy, gets the
plain copy:
  1. installs the dependencies (scripts/install-deps.sh, run on the server)
  2. copies the programs from the dist directory to $PREFIX/bin, the scripts to
     $PREFIX/scripts, the docs to $PREFIX/docs, hft-monitor to $PREFIX/libexec
  3. installs the systemd units (/etc/systemd/system), the users and directories
     (sysusers.d, tmpfiles.d) and the configuration (/etc/hft; a file changed on the server is
     kept and the new default goes beside it as FILE.dist); $PREFIX/config, logs and data
     link to /etc/hft, /var/log/hft and /var/lib/hft/data; hftd, hftctl, exchange-sim are
     linked into /usr/local/bin
  4. runs $PREFIX/scripts/verify_system.sh --bin-dir $PREFIX/bin (its FAILs do not fail
     the deployment: an untuned server fails the kernel checks until --setup-kernel + reboot)
  5. with --setup-kernel, runs setup_kernel.sh there after asking, and with --reboot reboots

Options:
  --host HOST        a server; repeat it, or give a list "a,b" (default: \$HFT_SERVER,
                     which may hold a list too)
  --user USER        ssh user (default root; another user needs passwordless sudo)
  --port N           ssh port (default 22)
  --ssh-opts OPTS    more ssh options, one string, e.g. "-i ~/.ssh/hft -o ConnectTimeout=5"
  --dist DIR         hftd, hftctl, exchange-sim to deploy (default $REPO/dist, made by
                     docker run ... hft-builder or scripts/build.sh --dist dist)
  --deb FILE         the Debian package (hft_*.deb: dpkg-buildpackage -us -uc -b, or the
                     Docker image's dist/): installed on servers that have dpkg
  --method M         auto (default): the package where --deb is given and the server has
                     dpkg and apt-get and --remote-root is /, else the copy (which needs the
                     --dist programs); deb: the package or fail; copy: the copy only
  --remote-root DIR  prefix every path on the server with DIR (default /). With another
                     root nothing outside it is touched: systemd-sysusers, systemd-tmpfiles,
                     systemctl daemon-reload and reboot are skipped
  --skip-deps        do not run install-deps.sh on the server (with the package: no
                     apt-get update before installing it)
  --upgrade          apt-get update && apt-get -y upgrade first (the seed's step 4.2)
  --no-verify        do not run verify_system.sh
  --setup-kernel     run setup_kernel.sh on the server afterwards (asks first; the kernel
                     parameters take effect at the next reboot)
  --kernel-args ARGS arguments for setup_kernel.sh, one string (default: its own,
                     --cores 6,7 --hugepages 8)
  --reboot           reboot the server after --setup-kernel (asks first unless --yes);
                     without it the server is never rebooted
  --yes              do not ask
  --dry-run          print the commands and the installer, run nothing remotely
  --log FILE         append everything printed to FILE as well
  -h, --help         this help

Exit status: 0 every server deployed, 1 a server failed (the others are still tried),
2 bad usage or nothing to deploy.
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$PROG" "$*" >&2; }

# ------------------------------------------------------------------------------ arguments
hosts=()
user=root
port=22
ssh_opts=''
dist=$REPO/dist
dist_given=0
deb=''
method=auto
remote_root=/
skip_deps=0
upgrade=0
verify=1
setup_kernel=0
kernel_args=''
reboot=0
yes=0
dry_run=0
log_file=''

add_hosts() {
  local h
  for h in ${1//,/ }; do hosts+=("$h"); done
}

while [[ $# -gt 0 ]]; do
  split_opt "$@"
  set -- "${OPT_ARGS[@]}"
  opt=$1
  case $opt in
  --host | --hosts) need_value "$@"; add_hosts "$2"; shift 2 ;;
  --user) need_value "$@"; user=$2; shift 2 ;;
  --port) need_value "$@"; port=$2; shift 2 ;;
  --ssh-opts) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; ssh_opts=$2; shift 2 ;;
  --dist) need_value "$@"; dist=$2; dist_given=1; shift 2 ;;
  --deb) need_value "$@"; deb=$2; shift 2 ;;
  --method) need_value "$@"; method=$2; shift 2 ;;
  --remote-root) need_value "$@"; remote_root=$2; shift 2 ;;
  --skip-deps) skip_deps=1; shift ;;
  --upgrade) upgrade=1; shift ;;
  --no-verify) verify=0; shift ;;
  --setup-kernel) setup_kernel=1; shift ;;
  --kernel-args) [[ $# -ge 2 ]] || die_usage "$1 needs a value"; kernel_args=$2; shift 2 ;;
  --reboot) reboot=1; shift ;;
  --yes | -y) yes=1; shift ;;
  --dry-run | -n) dry_run=1; shift ;;
  --log) need_value "$@"; log_file=$2; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) die_usage "unknown argument '$opt'" ;;
  esac
done

[[ ${#hosts[@]} -gt 0 ]] || add_hosts "${HFT_SERVER:-}"
[[ ${#hosts[@]} -gt 0 ]] || die_usage "no server given" "export HFT_SERVER=<address> or pass --host HOST"
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
  die_usage "--port '$port' is not a TCP port"
fi
[[ $user =~ ^[a-z_][a-z0-9_.-]*$ ]] || die_usage "--user '$user' is not a user name"
[[ $remote_root == /* ]] || die_usage "--remote-root '$remote_root' must be an absolute path"
[[ $reboot -eq 0 || $setup_kernel -eq 1 ]] || die_usage "--reboot goes with --setup-kernel"
if [[ $setup_kernel -eq 1 && $yes -eq 0 && $dry_run -eq 0 ]] && ! { : </dev/tty; } 2>/dev/null; then
  die_usage "--setup-kernel asks before changing the kernel parameters, and there is no terminal" \
    "run it in a terminal, or add --yes"
fi
root=${remote_root%/} # "" for /
case $method in
auto | copy) ;;
deb)
  [[ -n $deb ]] || die_usage "--method deb needs the package" "pass --deb hft_VERSION_amd64.deb"
  [[ -z $root ]] || die_usage "--method deb installs into the server's own root, not --remote-root $remote_root" \
    "drop --remote-root, or use --method copy"
  ;;
*) die_usage "--method '$method' is not auto, deb or copy" ;;
esac
if [[ -n $deb ]]; then
  [[ -f $deb ]] || die_usage "no package $deb" "build it: dpkg-buildpackage -us -uc -b (the .deb lands in ..)"
  if command -v dpkg-deb >/dev/null; then
    pkg=$(dpkg-deb -f "$deb" Package 2>/dev/null) ||
      die_usage "$deb is not a Debian package (dpkg-deb -f cannot read it)"
    [[ $pkg == hft ]] || die_usage "$deb is the package '$pkg', not hft"
  else
    [[ ${deb##*/} == hft_*.deb ]] || die_usage "$deb is not named hft_*.deb"
  fi
  [[ $method != copy ]] || warn "--method copy: the package $deb is not used"
fi

# ------------------------------------------------------------------------------ the payload
# The copy's programs: needed unless every server gets the package (--method deb), and only
# looked for by default when there is no package.
have_dist=0
if [[ $method == deb ]]; then
  :
elif [[ -d $dist ]]; then
  have_dist=1
elif [[ -z $deb || $dist_given -eq 1 || $method == copy ]]; then
  die_usage "no dist directory $dist" \
    "build one: docker run --rm -v \"\$(pwd):/src\" hft-builder:latest, or scripts/build.sh --dist dist"
fi
for p in "${PROGRAMS[@]}"; do
  [[ $have_dist -eq 1 ]] || break
  [[ -f $dist/$p && -x $dist/$p ]] || die_usage "$dist/$p is missing or not executable" "rebuild: scripts/build.sh --dist $dist"
  if command -v file >/dev/null; then
    [[ $(file -bL "$dist/$p") == *ELF\ 64-bit*x86-64* ]] ||
      die_usage "$dist/$p is not an x86-64 Linux program: $(file -bL "$dist/$p")" \
        "build it in the Docker image (docker/Dockerfile) on a Mac"
  fi
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/hft-deploy.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# render TEMPLATE OUT: the units' @variables@ for the /opt/hft layout; refuses unknown ones.
render() {
  sed -e "s|@bindir@|$PREFIX/bin|g" -e "s|@libexecdir@|$PREFIX/libexec|g" \
    -e "s|@datadir@|$PREFIX/share|g" -e "s|@sysconfdir@|/etc|g" "$1" >"$2"
  if grep -q '@[a-z_]*@' "$2"; then
    die_usage "$1 uses a variable deploy.sh does not know: $(grep -o '@[a-z_]*@' "$2" | sort -u | tr '\n' ' ')" \
      "add it to render() in scripts/deploy.sh"
  fi
}

make_payload() {
  local f name
  mkdir -p "$stage"/{bin,scripts,libexec,units,config,sysusers,tmpfiles,logrotate,share,docs,grafana}
  if [[ $have_dist -eq 1 ]]; then
    for p in "${PROGRAMS[@]}"; do cp "$dist/$p" "$stage/bin/"; done
  fi
  if [[ -n $deb && $method != copy ]]; then
    mkdir "$stage/deb"
    cp "$deb" "$stage/deb/"
  fi
  for f in "${SCRIPTS[@]}"; do
    [[ -f $REPO/scripts/$f ]] || die_usage "scripts/$f is missing from the repository"
    cp "$REPO/scripts/$f" "$stage/scripts/"
  done
  for f in "$REPO"/units/*.in; do
    name=${f##*/}
    name=${name%.in}
    if [[ $name == *.service || $name == *.target || $name == *.socket || $name == *.timer ]]; then
      render "$f" "$stage/units/$name"
    else
      render "$f" "$stage/libexec/$name" # hft-monitor, the monitor unit's program
    fi
  done
  for f in "$REPO"/units/*.service "$REPO"/units/*.target; do cp "$f" "$stage/units/"; done
  for f in "$REPO"/units/*.example; do cp "$f" "$stage/share/"; done
  [[ -n $(ls "$stage/units") ]] || die_usage "no systemd units in $REPO/units"
  for f in hftd.toml exchange-sim.toml; do
    [[ -f $REPO/conf/$f ]] || die_usage "conf/$f is missing from the repository"
    cp "$REPO/conf/$f" "$stage/config/"
  done
  for f in "$REPO"/conf/sysusers.d/*.conf; do cp "$f" "$stage/sysusers/"; done
  for f in "$REPO"/conf/tmpfiles.d/*.conf; do cp "$f" "$stage/tmpfiles/"; done
  for f in "$REPO"/conf/logrotate.d/*; do cp "$f" "$stage/logrotate/"; done
  for f in "$REPO"/docs/*.md; do cp "$f" "$stage/docs/"; done
  for f in "$REPO"/docs/grafana/*.json; do cp "$f" "$stage/grafana/"; done
  write_installer >"$stage/install.sh"
}

# The program run on the server, as root, from the unpacked payload.
write_installer() {
  cat <<'INSTALLER'
#!/bin/bash
# hft installer, written by scripts/deploy.sh and run on the server from its payload.
set -euo pipefail
shopt -s nullglob
here=$(cd "$(dirname "$0")" && pwd)
root='' deps=1 upgrade=0 verify=1 method=auto deb=''
while [[ $# -gt 0 ]]; do
  case $1 in
  --root) root=${2%/}; shift 2 ;;
  --method) method=$2; shift 2 ;;
  --deb) deb=$2; shift 2 ;;
  --skip-deps) deps=0; shift ;;
  --upgrade) upgrade=1; shift ;;
  --no-verify) verify=0; shift ;;
  *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
opt=$root/opt/hft
host=$(hostname)
say() { printf '[%s] %s\n' "$host" "$*"; }

[[ $(uname -m) == x86_64 ]] || say "WARNING: this server is $(uname -m); the programs are x86-64"

# The package where it can go: dpkg and apt-get here, and the server's own root.
use_deb=0
if [[ -n $deb && $method != copy ]]; then
  if [[ -n $root ]]; then
    say "package: not into remote root $root (dpkg installs into /): copying instead"
  elif command -v dpkg >/dev/null && command -v apt-get >/dev/null; then
    use_deb=1
  elif [[ $method == deb ]]; then
    say "ERROR: no dpkg and apt-get on this server: --method deb needs Debian (--method copy with --dist)"
    exit 1
  else
    say "no dpkg and apt-get on this server: copying the programs instead"
  fi
fi

run_verify() { # BIN_DIR CONFIG SCRIPTS_DIR
  [[ $verify -eq 1 ]] || return 0
  say "verify_system.sh --bin-dir $1 --config $2"
  local rc=0
  "$3/verify_system.sh" --bin-dir "$1" --config "$2" || rc=$?
  case $rc in
  0) say "verify_system: no FAIL" ;;
  1) say "verify_system: FAILs above; the kernel ones go away with setup_kernel.sh and a reboot" ;;
  *) say "verify_system: exit $rc" ;;
  esac
}

if [[ $use_deb -eq 1 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  pkg=$here/deb/$deb
  # apt's unprivileged _apt user reads the file from here.
  chmod 0755 "$here" "$here/deb"
  chmod 0644 "$pkg"
  if [[ $upgrade -eq 1 ]]; then
    say "apt-get update && apt-get -y upgrade"
    apt-get update -qq && apt-get -y -qq upgrade
  elif [[ $deps -eq 1 ]]; then
    say "apt-get update (for the package's dependencies)"
    apt-get update -qq
  else
    say "dependencies: no apt-get update (--skip-deps)"
  fi
  # Edited conffiles (/etc/hft) are kept without a question; the new default goes beside
  # them as FILE.dpkg-dist.
  say "apt-get install $deb"
  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$pkg"
  say "package: $(dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}' hft)"
  say "units installed, neither enabled nor started: set the cores, then systemctl enable --now hft.target"
  for p in /usr/bin/hftd /usr/bin/hftctl /usr/bin/exchange-sim; do
    [[ -x $p ]] && say "$("$p" --version 2>&1 | head -n 1) in $p"
  done
  run_verify /usr/bin /etc/hft/hftd.toml /usr/share/hft/scripts
  say "deployed (package)"
  exit 0
fi
if [[ -z $(ls "$here/bin") ]]; then
  say "ERROR: this server needs the plain copy, and deploy.sh was given no --dist programs"
  exit 1
fi
if [[ $deps -eq 1 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  if [[ $upgrade -eq 1 ]]; then
    say "apt-get update && apt-get -y upgrade"
    apt-get update -qq && apt-get -y -qq upgrade
  fi
  say "installing dependencies: install-deps.sh"
  bash "$here/scripts/install-deps.sh"
else
  say "dependencies: skipped (--skip-deps)"
fi

say "installing into ${root:-/}: $opt/{bin,scripts,libexec,docs}, /etc/hft, /etc/systemd/system"
mkdir -p "$opt"/{bin,scripts,libexec,docs/grafana,share/hft} \
  "$root"/etc/{hft,systemd/system,sysusers.d,tmpfiles.d,logrotate.d} \
  "$root/var/lib/hft/data" "$root/var/log/hft" "$root/usr/local/bin"
install -m 0755 "$here"/bin/* "$opt/bin/"
install -m 0755 "$here"/scripts/* "$opt/scripts/"
install -m 0755 "$here"/libexec/* "$opt/libexec/"
install -m 0644 "$here"/docs/* "$opt/docs/"
install -m 0644 "$here"/grafana/* "$opt/docs/grafana/"
install -m 0644 "$here"/share/* "$opt/share/hft/"
install -m 0644 "$here"/units/* "$root/etc/systemd/system/"
install -m 0644 "$here"/sysusers/* "$root/etc/sysusers.d/"
install -m 0644 "$here"/tmpfiles/* "$root/etc/tmpfiles.d/"
install -m 0644 "$here"/logrotate/* "$root/etc/logrotate.d/"

# Configuration: an operator's edits are never overwritten.
for src in "$here"/config/*; do
  dest=$root/etc/hft/${src##*/}
  if [[ ! -e $dest ]]; then
    install -m 0644 "$src" "$dest"
    say "config: installed $dest"
  elif cmp -s "$src" "$dest"; then
    say "config: $dest is up to date"
  else
    install -m 0644 "$src" "$dest.dist"
    say "config: kept $dest (changed on this server); the new default is $dest.dist"
  fi
done

# The seed's layout: /opt/hft/{config,logs,data} lead to where the programs keep them.
link_dir() { # NAME TARGET, TARGET relative to /opt/hft
  local path=$opt/$1
  if [[ -L $path ]]; then
    ln -sfn "$2" "$path"
  elif [[ -d $path ]] && rmdir "$path" 2>/dev/null; then
    ln -s "$2" "$path"
  elif [[ -e $path ]]; then
    say "WARNING: kept $path (not empty): the programs use $(cd "$opt" && realpath -m "$2")"
    return 0
  else
    ln -s "$2" "$path"
  fi
}
link_dir config ../../etc/hft
link_dir logs ../../var/log/hft
link_dir data ../../var/lib/hft/data
for p in "$here"/bin/*; do
  link=$root/usr/local/bin/${p##*/}
  if [[ ! -e $link || -L $link ]]; then ln -sfn "../../../opt/hft/bin/${p##*/}" "$link"; fi
done

if [[ -z $root ]]; then
  command -v systemd-sysusers >/dev/null && systemd-sysusers /etc/sysusers.d/hft.conf
  command -v systemd-tmpfiles >/dev/null && systemd-tmpfiles --create /etc/tmpfiles.d/hft.conf
  if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    say "units installed: systemctl start hft.target (systemctl enable hft.target to start at boot)"
  else
    say "systemd is not running here: units installed but not loaded"
  fi
else
  say "remote root $root: systemd-sysusers, systemd-tmpfiles and systemctl daemon-reload skipped"
fi

missing=$(ldd "$opt"/bin/* 2>/dev/null | grep 'not found' | sort -u || true)
if [[ -n $missing ]]; then
  say "WARNING: shared libraries missing (deploy without --skip-deps installs them):"
  printf '%s\n' "$missing"
fi
for p in "$opt"/bin/*; do say "$("$p" --version 2>&1 | head -n 1) in $p"; done

run_verify "$opt/bin" "$root/etc/hft/hftd.toml" "$opt/scripts"
say "deployed"
INSTALLER
}

# ------------------------------------------------------------------------------ remote steps
read -ra extra_ssh <<<"$ssh_opts"
sudo=''
[[ $user == root ]] || sudo='sudo -n'

ssh_to() { # HOST ARGS...
  local host=$1
  shift
  ssh -p "$port" -o ConnectTimeout=15 "${extra_ssh[@]}" "$user@$host" "$@"
}

quote_args() { printf '%q ' "$@"; }

confirm() { # QUESTION: 0 yes
  local answer
  [[ $yes -eq 0 ]] || return 0
  printf '%s [y/N] ' "$1" >/dev/tty
  read -r answer </dev/tty || return 1
  [[ $answer == [yY] || $answer == [yY][eE][sS] ]]
}

deploy_host() { # HOST
  local host=$1 remote args what
  args=()
  [[ -z $root ]] || args+=(--root "$root")
  [[ $skip_deps -eq 0 ]] || args+=(--skip-deps)
  [[ $upgrade -eq 0 ]] || args+=(--upgrade)
  [[ $verify -eq 1 ]] || args+=(--no-verify)
  args+=(--method "$method")
  [[ -z $deb || $method == copy ]] || args+=(--deb "${deb##*/}")
  # One connection: the payload arrives on stdin, is unpacked in a temporary directory, run
  # as root, and removed.
  remote="set -e; d=\$(mktemp -d /tmp/hft-deploy.XXXXXX); trap 'rm -rf \"\$d\"' EXIT; tar -xzf - -C \"\$d\"; $sudo bash \"\$d/install.sh\" $(quote_args "${args[@]}")"
  what=''
  [[ -z $deb || $method == copy ]] || what="package ${deb##*/} where dpkg is, "
  [[ $have_dist -eq 0 ]] || what+="dist $dist, "
  say "== $host: deploying (${what}remote root ${root:-/}, method $method)"
  if [[ $dry_run -eq 1 ]]; then
    printf '+ tar -C %q -czf - . | ssh -p %s %s %s@%s %q\n' "$stage" "$port" "$ssh_opts" "$user" "$host" "$remote"
    return 0
  fi
  tar -C "$stage" -czf - . | ssh_to "$host" "$remote"
}

setup_kernel_host() { # HOST
  local host=$1 cmd
  local -a kargs
  read -ra kargs <<<"$kernel_args"
  [[ -z $root ]] || kargs+=(--root "$root")
  cmd="$sudo $root/opt/hft/scripts/setup_kernel.sh $(quote_args "${kargs[@]}")"
  if [[ $dry_run -eq 1 ]]; then
    printf '+ ssh -p %s %s %s@%s %q\n' "$port" "$ssh_opts" "$user" "$host" "$cmd"
    return 0
  fi
  if ! confirm "Run setup_kernel.sh ${kernel_args:-(--cores 6,7 --hugepages 8)} on $host? It writes the kernel boot parameters (isolcpus, nohz_full, hugepages); they apply at the next reboot."; then
    say "$host: kernel setup skipped"
    return 0
  fi
  ssh_to "$host" "$cmd" </dev/null || return 1
  if [[ $reboot -eq 0 ]]; then
    say "$host: REBOOT REQUIRED for the kernel parameters: ssh $user@$host ${sudo:+sudo }systemctl reboot"
    say "$host: then check: ssh $user@$host ${sudo:+sudo }/opt/hft/scripts/verify_system.sh --bin-dir /opt/hft/bin"
  elif [[ -n $root ]]; then
    say "$host: reboot skipped: --remote-root $root is not the server's root"
  elif confirm "Reboot $host now?"; then
    say "$host: rebooting"
    ssh_to "$host" "$sudo systemctl reboot" </dev/null || true
  else
    say "$host: not rebooted; the kernel parameters apply at the next reboot"
  fi
}

main() {
  local host failed=()
  make_payload
  if [[ $dry_run -eq 1 ]]; then
    say "dry run: payload (would be unpacked and run on each server):"
    (cd "$stage" && find . -type f | sort | sed 's/^/  /')
    say "install.sh:"
    sed 's/^/  | /' "$stage/install.sh"
  fi
  for host in "${hosts[@]}"; do
    if deploy_host "$host" && { [[ $setup_kernel -eq 0 ]] || setup_kernel_host "$host"; }; then
      say "== $host: done"
    else
      warn "== $host: FAILED (see the messages above)"
      failed+=("$host")
    fi
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    warn "failed: ${failed[*]}"
    return 1
  fi
  say "deployed to ${hosts[*]}"
}

if [[ -n $log_file ]]; then
  mkdir -p "$(dirname "$log_file")"
  set +e
  main 2>&1 | tee -a "$log_file"
  rc=${PIPESTATUS[0]}
  exit "$rc"
fi
main

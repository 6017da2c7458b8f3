#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs, with apt-get, everything hft needs to build, test and collect data on Debian 12.
# Idempotent: installs only what is missing, and says so.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config cmake clang llvm lld
  libsystemd-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libbpf-dev libxdp-dev
  libnuma-dev doctest-dev libclang-rt-14-dev zlib1g-dev nlohmann-json3-dev
  # run and test
  systemd python3 python3-numpy python3-matplotlib iproute2 procps util-linux passwd
  xdp-tools openssh-client openssh-server file
  # hft-monitor's logrotate.d and the metrics test's node_exporter (where systemd runs,
  # Debian starts it on :9100: `systemctl disable --now prometheus-node-exporter` if unwanted)
  logrotate prometheus-node-exporter
  # data collection and benchmarks
  sysstat linux-perf sockperf numactl ethtool
  # the exchange-link capture (collect_data.sh) and its dissector's tests (tshark, editcap)
  tcpdump tshark
  # the Debian package (debian/) and its test (tests/tools/deb_package_test.sh)
  debhelper dpkg-dev fakeroot lintian
  # the fleet playbook (scripts/fleet/) and its test against two sshd servers
  ansible-core
  # linters the tests run
  shellcheck flake8 clang-format
  # the .hlog test's reader (hdr-histogram-js, installed by npm ci)
  nodejs
)
# Debian's npm conflicts with a Node.js that ships its own npm (the nodesource build does).
command -v npm >/dev/null 2>&1 || packages+=(npm)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: needs root to run apt-get; run it as root (or with sudo)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture: no, and without asking.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job (README): on a fresh Debian 12 machine, install what is missing, build, start
# exchange-sim and hftd, trade one session, collect the performance, system and trading data,
# analyse it, and stop everything.
#
#   bash scripts/quickstart.sh [DURATION]      (seconds of trading, default 30)
#
# Root for apt-get and the exchange-link capture: as a user it asks sudo once.
#
# The data directory and the analysis report are printed at the end. On a machine with fewer
# than 4 CPUs the engine's workers run in the yield poll mode (busy polling needs cores of its
# own); see docs/hftd.md.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "quickstart: needs root (apt-get, the capture) and sudo is not installed: run it as root" >&2
    exit 1
  fi
  exec sudo bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${1:-30}
case $duration in
'' | *[!0-9]*) echo "quickstart: DURATION must be a whole number of seconds, not '$duration'" >&2; exit 2 ;;
esac

echo "== 1/4 dependencies"
bash scripts/install-deps.sh

echo "== 2/4 build (build/release)"
if [ -f build/release/build.ninja ]; then
  meson setup --reconfigure build/release "$root" --buildtype=release >/dev/null
else
  meson setup build/release "$root" --buildtype=release >/dev/null
fi
ninja -C build/release daemon/hftd ctl/hftctl exchange-sim/exchange-sim >/dev/null
echo "built: build/release/daemon/hftd, build/release/ctl/hftctl, build/release/exchange-sim/exchange-sim"

echo "== 3/4 trade a ${duration}-second session and collect the data"
data="$root/build/quickstart/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$(dirname "$data")"
HFTD="$root/build/release/daemon/hftd" HFTCTL="$root/build/release/ctl/hftctl" \
  EXCHANGE_SIM="$root/build/release/exchange-sim/exchange-sim" \
  bash scripts/collect_data.sh "$duration" --direct --out "$data" \
  --hftd-config "$root/conf/hftd.toml" --exchange-config "$root/conf/exchange-sim.toml"

echo "== 4/4 analyse"
/usr/bin/python3 scripts/analyze_results.py "$data"
echo
echo "data:     $data"
echo "report:   $data/analysis/report.txt and report.json, plots in $data/analysis/"
echo "session:  $data/session/ (journal, latency samples, histograms, stats)"
echo "capture:  $data/capture/exchange.pcapng (wire-to-wire in the report; decode it with"
echo "          tshark -r $data/capture/exchange.pcapng -X lua_script:$root/tools/wireshark/hft.lua"
echo "          -o hft.tcp_port:<port in capture/capture.json>, docs/wireshark.md)"

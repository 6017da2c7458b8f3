#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Market data transports side by side: tcp, udp (kernel socket) and af_xdp, on a veth pair
between two network namespaces this run creates (hftxdp-<random>) and deletes.

For each transport, in one run:
  1. latency at a fixed high rate: per-message receive latency (exchange send timestamp to
     frame parsed in hftd, from hftd's session summary) and tick-to-trade (measured by the
     exchange: order received minus the md_timestamp that led to it);
  2. the highest rate of a ladder it sustains without loss: every frame the exchange sent is
     parsed by hftd (no seq gap, no UDP send error, no session dropped as a slow consumer),
     and, separately, also handed to the strategy (nothing lost at a full strategy ring: on two
     CPUs the strategy thread shares a core with exchange-sim, whose sends carry the
     receiver's kernel path on veth). When the exchange cannot keep its 1 ms cadence
     (missed ticks) it sends less than offered: the table gives the rate really sent.

Rates are snapshots per second: exchange-sim ticks every millisecond with `rate / 1000`
symbols. Prints a Markdown table (and --json). Needs root. Run:
  meson test -C BUILD --benchmark md_transports_bench --verbose
  or: HFTD=... HFTCTL=... EXCHANGE_SIM=... HFTD_XDP_OBJECT=... bench_md_transports.py
"""
import argparse
import json
import os
import re
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xdp_fixture import (CREATED, ENGINE_IP, EXCHANGE_IP, FEED_PORT, TCP_PORT,  # noqa: E402
                         Proc, VethPair, can_use_namespaces, delete_leftover_namespaces, hftctl,
                         run)

HFTD = os.environ["HFTD"]
EXCHANGE_SIM = os.environ["EXCHANGE_SIM"]
SOURCE_ROOT = os.environ.get("HFT_SOURCE_ROOT",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                          ".."))

LATENCY_RE = re.compile(r"Market data receive latency over (\S+) .*n=(\d+) p50=(\d+) p90=(\d+) "
                        r"p99=(\d+) p99\.9=(\d+) max=(\d+)")
LOST_RE = re.compile(r"Market data over \S+: (\d+) frames, (\d+) lost at a full strategy ring")
SENDTO_RE = re.compile(r"sendto\(\) time per datagram .*: p50 (\d+) p90 (\d+) p99 (\d+)")
UDP_SENT_RE = re.compile(r"UDP feed \S+: (\d+) market data frames in (\d+) datagrams .*, (\d+) "
                         r"send errors")


def renice_worker(pid, name, nice):
    """setpriority on one thread of hftd (Linux: a thread id is a PRIO_PROCESS target);
    nice "idle" makes it SCHED_IDLE: any other thread that wakes on its core runs at once."""
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == name:
                if nice == "idle":
                    os.sched_setscheduler(int(tid), os.SCHED_IDLE, os.sched_param(0))
                else:
                    os.setpriority(os.PRIO_PROCESS, int(tid), nice)
                return
    raise AssertionError("no thread %s in hftd" % name)


def one_run(veth, tmp, variant, rate, seconds, poll_mode, cores, nices=None):
    """One exchange + one hftd for `seconds` of trading; returns the figures. `variant` is a
    transport, or af_xdp_skb / af_xdp_native: af_xdp with xdp_mode forced."""
    transport = "af_xdp" if variant.startswith("af_xdp") else variant
    config = os.path.join(tmp, "hftd-%s.toml" % variant)
    with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
        text = f.read()
    if variant in ("af_xdp_skb", "af_xdp_native"):
        text = text.replace('xdp_mode = "auto"', 'xdp_mode = "%s"' % variant.split("_")[2])
    with open(config, "w") as f:
        f.write(text)
    symbols = max(1, rate // 1000)
    stats_file = os.path.join(tmp, "ex-%s-%d.json" % (variant, rate))
    x = ["ip", "netns", "exec", veth.exchange_ns]
    e = ["ip", "netns", "exec", veth.engine_ns]
    feed = "%s:%d" % (ENGINE_IP, FEED_PORT)
    exchange_argv = x + [EXCHANGE_SIM, "--bind", EXCHANGE_IP, "--port", str(TCP_PORT),
                         "--tick-rate", "1", "--symbols", str(symbols), "--seed", "7",
                         "--stats-file", stats_file]
    if transport != "tcp":
        exchange_argv += ["--udp-feed", feed, "--udp-feed-only"]
    if cores["exchange"] is not None:
        exchange_argv = ["taskset", "-c", str(cores["exchange"])] + exchange_argv
    exchange = Proc(exchange_argv)
    hftd = None
    sock = os.path.join(tmp, "control.sock")
    try:
        exchange.wait_line("Listening on port")
        if "exchange-sim" in (nices or {}):
            os.setpriority(os.PRIO_PROCESS, exchange.p.pid, nices["exchange-sim"])
        hftd = Proc(e + [HFTD, "--config", config,
                         "--interface", veth.engine_if, "--network-core", str(cores["network"]),
                         "--strategy-core", str(cores["strategy"]), "--poll-mode", poll_mode,
                         "--exchange", "%s:%d" % (EXCHANGE_IP, TCP_PORT), "--socket", sock,
                         "--sessions-dir", os.path.join(tmp, "sessions"), "--md-transport",
                         transport, "--udp-feed", feed, "--start-session"])
        hftd.wait_line("Workers running")
        for name, nice in (nices or {}).items():
            if name.startswith("hft-"):
                renice_worker(hftd.p.pid, name, nice)
        hftd.wait_line("Connected to exchange", timeout=30)
        time.sleep(seconds)  # a benchmark: the measurement window is a fixed length
        summary = json.loads(hftctl(sock, "stop-session", "--json").stdout)
        final = summary.get("stats", summary)
        _, lost_line = hftd.wait_line("Market data over %s:" % transport)
        latency_line = None
        try:
            _, latency_line = hftd.wait_line("Market data receive latency over", timeout=5)
        except AssertionError:
            pass
        hftd.stop(signal.SIGTERM)
        exchange.stop(signal.SIGINT)
        with open(stats_file) as f:
            ex = json.load(f)
        sendto = {}
        if transport == "tcp":
            sent = ex["market_data_frames"]
            send_errors = 0
        else:
            _, line = exchange.wait_line("market data frames in", timeout=10)
            m = UDP_SENT_RE.search(line)
            sent, send_errors = int(m.group(1)), int(m.group(3))
            _, line = exchange.wait_line("sendto() time per datagram", timeout=10)
            sendto = dict(zip(("p50", "p90", "p99"), map(int, SENDTO_RE.search(line).groups())))
        lost_ring = int(LOST_RE.search(lost_line).group(2))
        figures = {
            "transport": variant, "rate": symbols * 1000, "seconds": seconds,
            "sent": sent, "received": final["md_messages"], "gaps": final["md_gaps"],
            "lost_at_ring": lost_ring, "send_errors": send_errors,
            "ticks": ex["ticks"], "ticks_missed": ex["ticks_missed"],
            "slow_consumer": ex["slow_consumer_disconnects"],
            "tick_to_trade": ex.get("tick_to_trade_ns", {}),
            "orders": ex["orders"], "sendto": sendto,
        }
        if latency_line:
            m = LATENCY_RE.search(latency_line)
            figures["receive_latency"] = dict(zip(("n", "p50", "p90", "p99", "p99_9", "max"),
                                                  map(int, m.groups()[1:])))
        figures["sent_rate"] = int(sent / seconds)
        figures["lossless"] = (figures["received"] == sent and figures["gaps"] == 0 and
                               send_errors == 0 and figures["slow_consumer"] == 0 and sent > 0)
        figures["engine_lossless"] = figures["lossless"] and lost_ring == 0
        return figures
    finally:
        if hftd:
            hftd.stop(signal.SIGKILL)
        exchange.stop(signal.SIGKILL)
        if os.path.exists(sock):
            os.unlink(sock)


def median(values):
    values = sorted(v for v in values if v)
    return values[len(values) // 2] if values else 0


def us(ns):
    return "%.1f" % (ns / 1000.0) if ns else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--transports", default="tcp,udp,af_xdp",
                    help="any of tcp, udp, af_xdp, af_xdp_native, af_xdp_skb")
    ap.add_argument("--rate", type=int, default=20000,
                    help="snapshots/s for the latency runs (default 20000)")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each latency run")
    ap.add_argument("--ladder", default="20000,50000,100000,200000,400000",
                    help="rates tried for the highest lossless rate, ascending; '' = none")
    ap.add_argument("--ladder-seconds", type=float, default=4.0)
    ap.add_argument("--poll-mode", default="yield", choices=("yield", "busy"))
    ap.add_argument("--network-nice", type=int,
                    help="nice of hftd's network thread (e.g. -20 with --poll-mode busy on a "
                         "shared machine, so that other work does not take its core)")
    ap.add_argument("--strategy-nice",
                    help="nice of hftd's strategy thread, or 'idle' for SCHED_IDLE: with "
                         "--poll-mode busy on two CPUs it shares a core with exchange-sim, "
                         "which must not wait behind it")
    ap.add_argument("--exchange-nice", type=int,
                    help="nice of exchange-sim (e.g. -10 so that it keeps its 1 ms cadence)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="latency runs per transport, interleaved (tcp, udp, af_xdp, tcp, ...)")
    ap.add_argument("--json", help="write every figure here")
    args = ap.parse_args()

    why = can_use_namespaces()
    if why:
        print("skipped: " + why)
        return 77
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        print("skipped: needs two CPUs")
        return 77
    # The network thread gets the last CPU; the strategy thread and exchange-sim share the rest.
    cores = {"network": allowed[-1], "strategy": allowed[0],
             "exchange": allowed[0] if len(allowed) == 2 else allowed[1]}
    transports = args.transports.split(",")
    nices = {}
    if args.network_nice is not None:
        nices["hft-net"] = args.network_nice
    if args.strategy_nice is not None:
        nices["hft-strategy"] = (args.strategy_nice if args.strategy_nice == "idle"
                                 else int(args.strategy_nice))
    if args.exchange_nice is not None:
        nices["exchange-sim"] = args.exchange_nice
    results = {"latency": [], "ladder": [], "host": os.uname().release,
               "cpus": len(allowed), "poll_mode": args.poll_mode, "nice": nices,
               "load_average": os.getloadavg()}
    tmp = tempfile.mkdtemp(prefix="hft-xdp-bench-")
    veth = VethPair()
    try:
        for _ in range(args.rounds):
            for t in transports:
                r = one_run(veth, tmp, t, args.rate, args.seconds, args.poll_mode, cores, nices)
                results["latency"].append(r)
                print("latency run %-6s %6d/s: sent %d received %d lossless %s p50 %s us" % (
                    t, r["rate"], r["sent"], r["received"], r["lossless"],
                    us(r.get("receive_latency", {}).get("p50"))), file=sys.stderr)
        best = {}
        for t in transports if args.ladder else []:
            best[t] = 0
            for rate in map(int, args.ladder.split(",")):
                r = one_run(veth, tmp, t, rate, args.ladder_seconds, args.poll_mode, cores,
                            nices)
                results["ladder"].append(r)
                print("ladder run  %-6s %6d/s: sent %d received %d gaps %d ring %d missed "
                      "ticks %d lossless %s" % (t, r["rate"], r["sent"], r["received"],
                                                r["gaps"], r["lost_at_ring"], r["ticks_missed"],
                                                r["lossless"]), file=sys.stderr)
                if not r["lossless"]:
                    break
                if r["engine_lossless"]:
                    best[t] = max(best[t], r["sent_rate"])
        results["highest_lossless_rate"] = best
    finally:
        veth.delete()
        delete_leftover_namespaces()
        run("rm", "-rf", tmp, check=False)

    print("\nMarket data transports on a veth pair (kernel %s, %d CPUs, poll mode %s%s, load "
          "average at start %.1f)\n" % (results["host"], results["cpus"], args.poll_mode,
                                        "".join(", %s nice %s" % kv for kv in nices.items()),
                                        results["load_average"][0]))
    print("| transport | offered/sent (snapshots/s) | receive p50 (us) | p90 | p99 | p99.9 | "
          "max | tick-to-trade p50 (us) | p99 | orders | sendto p50 (us) | lossless |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["latency"]:
        lat = r.get("receive_latency", {})
        t2t = r["tick_to_trade"]
        print("| %s | %d / %d | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s%s |" % (
            r["transport"], r["rate"], r["sent_rate"], us(lat.get("p50")), us(lat.get("p90")),
            us(lat.get("p99")), us(lat.get("p99_9")), us(lat.get("max")), us(t2t.get("p50")),
            us(t2t.get("p99")), r["orders"], us(r["sendto"].get("p50")),
            "yes" if r["lossless"] else "NO",
            "" if r["engine_lossless"] else " (%d lost at the strategy ring)" % r["lost_at_ring"]))
    if args.rounds > 1:
        print("\nMedians over %d interleaved rounds:\n" % args.rounds)
        print("| transport | receive p50 (us) | receive p99 (us) | tick-to-trade p50 (us) | "
              "sendto p50 (us) |")
        print("|---|---|---|---|---|")
        for t in transports:
            runs = [r for r in results["latency"] if r["transport"] == t]
            print("| %s | %s | %s | %s | %s |" % (
                t, us(median(r.get("receive_latency", {}).get("p50") for r in runs)),
                us(median(r.get("receive_latency", {}).get("p99") for r in runs)),
                us(median(r["tick_to_trade"].get("p50") for r in runs)),
                us(median(r["sendto"].get("p50") for r in runs))))
    if not args.ladder:
        transports = []
    else:
        print("\n| transport | highest rate parsed without loss (offered / sent, snapshots/s) "
              "| ... and all handed to the strategy |")
        print("|---|---|---|")

    def highest(runs):
        top = max(runs, key=lambda r: r["rate"]) if runs else None
        return "%d / %d" % (top["rate"], top["sent_rate"]) if top else \
            "below " + args.ladder.split(",")[0]
    for t in transports:
        ladder = [r for r in results["ladder"] if r["transport"] == t]
        parsed, engine = [], []
        for r in ladder:  # ascending: the first failure ends each streak
            if not r["lossless"]:
                break
            parsed.append(r)
        for r in ladder:
            if not r["engine_lossless"]:
                break
            engine.append(r)
        print("| %s | %s | %s |" % (t, highest(parsed), highest(engine)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    left = [n for n in CREATED if n in run("ip", "netns", "list").stdout.split()]
    if left:
        print("namespaces left behind: %s" % left, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

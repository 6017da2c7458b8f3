#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes a synthetic data directory (the layout of docs/data-format.md) with known figures.

Usage: synthetic_data.py DIR    (for a demo: then run scripts/analyze_results.py DIR)

Order i = 1..1000 has rx_to_decoded = i, decoded_to_book = 2i, book_to_decided = 3i,
decided_to_sent = 4i (so rx_to_sent = 10i), md_wire = 7i for odd i (even i carry no market-data
timestamp) and an exchange tick-to-trade of 100i. Rows are written in a shuffled order.
"""

import hashlib
import json
import os
import random
import sys

ORDERS = 1000
T0 = 1_790_000_000_000_000_000  # CLOCK_REALTIME ns, 2026
DURATION_NS = 50_000_000_000
RX_MESSAGES = 100_000
FILLS = 400
STAGES = ("md_wire", "rx_to_decoded", "decoded_to_book", "book_to_decided", "decided_to_sent",
          "rx_to_sent")
# (stage, multiple of i) for the stages every order has.
STAGE_MULTIPLES = (("rx_to_decoded", 1), ("decoded_to_book", 2), ("book_to_decided", 3),
                   ("decided_to_sent", 4), ("rx_to_sent", 10))

MPSTAT = """\
Linux 6.1.0-18-amd64 (trader01) \t11/24/2026 \t_x86_64_\t(2 CPU)

09:30:00     CPU    %usr   %nice    %sys %iowait    %irq   %soft  %steal  %guest  %gnice   %idle
09:30:01     all   53.00    0.00    2.00    0.00    0.00    0.00    0.00    0.00    0.00   45.00
09:30:01       0    8.00    0.00    2.00    0.00    0.00    0.00    0.00    0.00    0.00   90.00
09:30:01       1   99.00    0.00    1.00    0.00    0.00    0.00    0.00    0.00    0.00    0.00

09:30:01     CPU    %usr   %nice    %sys %iowait    %irq   %soft  %steal  %guest  %gnice   %idle
09:30:02     all   58.00    0.00    2.00    0.00    0.00    0.00    0.00    0.00    0.00   40.00
09:30:02       0   17.00    0.00    3.00    0.00    0.00    0.00    0.00    0.00    0.00   80.00
09:30:02       1   99.00    0.00    1.00    0.00    0.00    0.00    0.00    0.00    0.00    0.00

09:30:02     CPU    %usr   %nice    %sys %iowait    %irq   %soft  %steal  %guest  %gnice   %idle
09:30:03     all   63.00    0.00    2.00    0.00    0.00    0.00    0.00    0.00    0.00   35.00
09:30:03       0   26.00    0.00    4.00    0.00    0.00    0.00    0.00    0.00    0.00   70.00
09:30:03       1   99.00    0.00    1.00    0.00    0.00    0.00    0.00    0.00    0.00    0.00

Average:     CPU    %usr   %nice    %sys %iowait    %irq   %soft  %steal  %guest  %gnice   %idle
Average:     all   58.00    0.00    2.00    0.00    0.00    0.00    0.00    0.00    0.00   40.00
Average:       0   17.00    0.00    3.00    0.00    0.00    0.00    0.00    0.00    0.00   80.00
Average:       1   99.00    0.00    1.00    0.00    0.00    0.00    0.00    0.00    0.00    0.00
"""

PIDSTAT = """\
Linux 6.1.0-18-amd64 (trader01) \t11/24/2026 \t_x86_64_\t(2 CPU)

09:30:00      UID      TGID       TID    %usr %system  %guest   %wait    %CPU   CPU  Command
09:30:01      998      4242         -   99.00    2.00    0.00    0.00  101.00     1  hftd
09:30:01      998         -      4242    0.00    1.00    0.00    0.00    1.00     0  |__hftd
09:30:01      998         -      4245   99.00    1.00    0.00    0.00  100.00     1  |__hft-net
09:30:02      998      4242         -   99.00    2.00    0.00    0.00  101.00     1  hftd
09:30:02      998         -      4242    0.00    3.00    0.00    0.00    3.00     0  |__hftd
09:30:02      998         -      4245   99.00    1.00    0.00    0.00  100.00     1  |__hft-net
Average:      998      4242         -   99.00    2.00    0.00    0.00  101.00     -  hftd
Average:      998         -      4242    0.00    2.00    0.00    0.00    2.00     -  |__hftd
Average:      998         -      4245   99.00    1.00    0.00    0.00  100.00     -  |__hft-net
"""

VMSTAT = """\
procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu----- -----timestamp-----
 r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st                 UTC
 3  0      0 900000   2064 180004    0    0   198   109   36   62  1  1 98  0  0 2026-11-24 09:30:00
 2  0      0 800000   2064 180004    0    0     0     0 1000 2000 50  2 48  0  0 2026-11-24 09:30:01
 4  0      0 700000   2064 180004    0    0     0     0 3000 4000 60  2 38  0  0 2026-11-24 09:30:02
"""


def percentile_rank(num, den, count):
    return min(max(-(-num * count // den), 1), count)


def bucket_of(value):
    """libhft/core/histogram.h: (lowest, highest) of the bucket holding value."""
    if value < 256:
        return value, value
    msb = value.bit_length() - 1
    shift = msb - 7
    sub = value >> shift
    return sub << shift, ((sub + 1) << shift) - 1


def engine_histogram(values):
    """What the engine writes for a stage: its bucketed percentiles and non-empty buckets."""
    values = sorted(values)
    counts = {}
    for v in values:
        counts[bucket_of(v)] = counts.get(bucket_of(v), 0) + 1
    buckets = [[low, high, n] for (low, high), n in sorted(counts.items())]
    out = {"count": len(values), "min": values[0] if values else 0,
           "max": values[-1] if values else 0,
           "mean": sum(values) / len(values) if values else 0.0}
    for key, num, den in (("p50", 50, 100), ("p90", 90, 100), ("p99", 99, 100),
                          ("p99_9", 999, 1000)):
        if not values:
            out[key] = 0
            continue
        rank, seen = percentile_rank(num, den, len(values)), 0
        for low, high, n in buckets:
            seen += n
            if seen >= rank:
                out[key] = min(high, out["max"])
                break
    out["buckets"] = buckets
    return out


def latency_rows():
    """(row, stage samples) for the orders, in a shuffled but fixed order."""
    rows, samples = [], {s: [] for s in STAGES}
    for i in range(1, ORDERS + 1):
        rx = T0 + i * 1_000_000
        md = rx - 7 * i if i % 2 else 0
        decoded = rx + i
        book = decoded + 2 * i
        decided = book + 3 * i
        sent = decided + 4 * i
        rows.append("{},{},{},{},{},{},{},{}".format(100000 + i, 1 + i % 2, md, rx, decoded,
                                                     book, decided, sent))
        if md:
            samples["md_wire"].append(rx - md)
        for stage, k in STAGE_MULTIPLES:
            samples[stage].append(k * i)
    random.Random(7).shuffle(rows)
    return rows, samples


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(text, bytes) else "w"
    with open(path, mode) as f:
        f.write(text)


def write_manifest(root):
    lines = []
    for directory, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            if rel == "MANIFEST.sha256" or rel.startswith("analysis"):
                continue
            with open(path, "rb") as f:
                lines.append("{}  {}".format(hashlib.sha256(f.read()).hexdigest(), rel))
    write(root, "MANIFEST.sha256", "\n".join(lines) + "\n")


def write_data_dir(root, exchange_orders=ORDERS, exchange_fills=FILLS, extra_latency_lines=()):
    """Writes the full synthetic directory; callers delete or alter files for variants."""
    rows, samples = latency_rows()
    header = "cl_ord_id,symbol_id,md_timestamp_ns,rx_ns,decoded_ns,book_ns,decided_ns,sent_ns"
    write(root, "session/latency.csv",
          "\n".join([header] + rows[:10] + list(extra_latency_lines) + rows[10:]) + "\n")
    histograms = {s: engine_histogram(samples[s]) for s in STAGES}
    write(root, "session/histograms.json", json.dumps({"stages": histograms}, indent=2) + "\n")
    stats = {
        "state": "idle", "session_id": "20261124-093000", "rx_packets": 90_000,
        "rx_messages": RX_MESSAGES, "md_gaps": 0, "orders_sent": ORDERS, "acks": 995,
        "fills": FILLS, "rejects": 5, "risk_rejects": 2, "cancels": 100,
        "session_started_ns": T0, "session_ended_ns": T0 + DURATION_NS,
        "symbols": [{"symbol_id": 1, "position": 10, "realized_pnl": 12.5,
                     "unrealized_pnl": -2.25},
                    {"symbol_id": 2, "position": -5, "realized_pnl": -3.0,
                     "unrealized_pnl": 1.0}],
        "latency": {s: {k: histograms[s][k] for k in ("count", "p50", "p90", "p99", "p99_9",
                                                      "max")} for s in STAGES},
    }
    write(root, "session/stats.json", json.dumps(stats, indent=2) + "\n")
    write(root, "session/journal.bin", b"HFTJRNL1" + bytes(64))
    ticks = [(T0 + i * 1_000_000 + 50_000, 100000 + i, 1 + i % 2, 100 * i)
             for i in range(1, ORDERS + 1)]
    write(root, "exchange/tick_to_trade.csv", "recv_ns,cl_ord_id,symbol_id,tick_to_trade_ns\n"
          + "".join("{},{},{},{}\n".format(*t) for t in ticks))
    tick_values = [t[3] for t in ticks]
    write(root, "exchange/exchange_stats.json", json.dumps({
        "orders": exchange_orders, "fills": exchange_fills,
        "fill_ratio": exchange_fills / exchange_orders, "rejects": 5,
        "market_data_frames": RX_MESSAGES, "cancels": 100,
        "tick_to_trade_ns": {"count": len(tick_values), "min": 100, "p50": 50000, "p90": 90000,
                             "p99": 99000, "p99_9": 99900, "max": 100000,
                             "mean": sum(tick_values) / len(tick_values)},
    }, indent=2) + "\n")
    hftctl = [{"state": "idle", "timestamp_ns": T0 - 1_000_000_000, "rx_messages": 0,
               "orders_sent": 0}]
    hftctl += [{"state": "trading", "timestamp_ns": T0 + k * 1_000_000_000,
                "rx_messages": 2000 * k, "orders_sent": 20 * k} for k in range(5)]
    write(root, "monitors/hftctl_stats.jsonl",
          "".join(json.dumps(h) + "\n" for h in hftctl[:3]) + "{not json\n"
          + "".join(json.dumps(h) + "\n" for h in hftctl[3:]))
    write(root, "monitors/mpstat.txt", MPSTAT)
    write(root, "monitors/pidstat.txt", PIDSTAT)
    write(root, "monitors/vmstat.txt", VMSTAT)
    write(root, "monitors/perf_stat.txt", " Performance counter stats for process id '4242':\n")
    write(root, "system/cmdline.txt",
          "BOOT_IMAGE=/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro isolcpus=1 nohz_full=1 "
          "rcu_nocbs=1 intel_idle.max_cstate=0 idle=poll\n")
    write(root, "system/lscpu.txt", "Architecture:            x86_64\n"
          "CPU(s):                  2\nModel name:              Synthetic CPU @ 3.00GHz\n"
          "Thread(s) per core:      1\nNUMA node(s):            1\n")
    write(root, "system/versions.txt", "hftd 0.1.0\nexchange-sim 0.1.0\nLinux 6.1.0-18-amd64\n")
    for name in ("cpuinfo.txt", "numa.txt", "hugepages.txt", "irq_affinity.txt",
                 "nic_stats.txt"):
        write(root, "system/" + name, "synthetic\n")
    write(root, "system/hftd.toml", "[engine]\nnetwork_core = 1\n")
    write(root, "system/exchange-sim.toml", "[exchange]\nport = 9000\n")
    write(root, "logs/hftd.log", "[2026-11-24 09:30:00.000] [info] session started\n"
          "[2026-11-24 09:30:01.000] [warning] md gap of 1 frame\n"
          "[2026-11-24 09:30:50.000] [info] session stopped\n")
    write(root, "logs/exchange-sim.log", "[2026-11-24 09:29:59.000] [info] listening\n")
    write_manifest(root)
    return root


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: synthetic_data.py DIR")
    print(write_data_dir(sys.argv[1]))

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Analyse a data directory made by scripts/collect_data.sh: latency, throughput, trading, CPU.

Usage: analyze_results.py DATA_DIR [--out DIR] [--no-plots] [--json-only] [--no-verify]

Writes report.json (schema in docs/data-format.md), report.txt and PNG plots to DIR
(default DATA_DIR/analysis/) and prints report.txt. Exit codes: 0 done, 1 the report could not
be written (output directory, missing numpy), 2 bad input (no data directory, no usable data).
Percentiles are exact, from the samples, by the nearest-rank method.
"""

import argparse
import array
import datetime
import hashlib
import json
import math
import os
import re
import sys
import tempfile
import warnings

try:
    import numpy as np
except ImportError:  # the pyenv interpreter on PATH has no numpy; Debian's python3 does
    np = None

SCHEMA_VERSION = 1
PROG = "analyze_results"

EXIT_OK = 0
EXIT_OUTPUT = 1
EXIT_INPUT = 2

ENGINE_STAGES = ("md_wire", "rx_to_decoded", "decoded_to_book", "book_to_decided",
                 "decided_to_sent", "rx_to_sent")
# From the kernel's SO_TIMESTAMPING stamps (latency.csv's kernel_rx_ns, send_ns, kernel_tx_ns;
# 0 where the kernel gave none): (stage, from, to).
KERNEL_SPANS = (("kernel_rx_to_rx", "kernel_rx_ns", "rx_ns"),
                ("send_to_kernel_tx", "send_ns", "kernel_tx_ns"),
                ("kernel_rx_to_kernel_tx", "kernel_rx_ns", "kernel_tx_ns"))
KERNEL_STAGES = tuple(stage for stage, _, _ in KERNEL_SPANS)
ALL_STAGES = ENGINE_STAGES + KERNEL_STAGES + ("wire_to_wire", "tick_to_trade")
# The same orders seen three ways (docs/performance.md, "Three views of one run").
VIEWS = (("wire", "wire_to_wire", "the capture: market data on the wire -> order on the wire"),
         ("kernel", "kernel_rx_to_kernel_tx", "kernel stamps: receive stamp -> transmit stamp"),
         ("user", "rx_to_sent", "user space: bytes read -> send() returned"))
# Engine stages measured between two latency.csv columns: (stage, from, to).
SPANS = (("rx_to_decoded", "rx_ns", "decoded_ns"), ("decoded_to_book", "decoded_ns", "book_ns"),
         ("book_to_decided", "book_ns", "decided_ns"), ("decided_to_sent", "decided_ns", "sent_ns"),
         ("rx_to_sent", "rx_ns", "sent_ns"))
# (key, numerator, denominator): integer fractions so that ranks are exact (99.9/100 is not).
PERCENTILES = (("p50", 50, 100), ("p90", 90, 100), ("p95", 95, 100), ("p99", 99, 100),
               ("p99_9", 999, 1000))
HISTOGRAM_FIELDS = ("count", "min", "max", "mean", "p50", "p90", "p99", "p99_9")

LATENCY_CSV = "session/latency.csv"
HISTOGRAMS_JSON = "session/histograms.json"
STATS_JSON = "session/stats.json"
TICK_CSV = "exchange/tick_to_trade.csv"
EXCHANGE_JSON = "exchange/exchange_stats.json"
MPSTAT = "monitors/mpstat.txt"
PIDSTAT = "monitors/pidstat.txt"
VMSTAT = "monitors/vmstat.txt"
HFTCTL = "monitors/hftctl_stats.jsonl"
MANIFEST = "MANIFEST.sha256"
CAPTURE_PCAP = "capture/exchange.pcapng"
CAPTURE_JSON = "capture/capture.json"
CAPTURE_CLASSIC = "capture/exchange.pcap"  # when editcap could not convert it
CORE_INPUTS = (LATENCY_CSV, HISTOGRAMS_JSON, STATS_JSON, TICK_CSV, EXCHANGE_JSON)

EXPECTED_FILES = (
    "system/cmdline.txt", "system/cpuinfo.txt", "system/lscpu.txt", "system/numa.txt",
    "system/hugepages.txt", "system/irq_affinity.txt", "system/nic_stats.txt",
    "system/versions.txt", "system/hftd.toml", "system/exchange-sim.toml",
    MPSTAT, VMSTAT, PIDSTAT, "monitors/perf_stat.txt", HFTCTL,
    LATENCY_CSV, HISTOGRAMS_JSON, STATS_JSON, "session/journal.bin",
    EXCHANGE_JSON, TICK_CSV,
    "logs/hftd.log", "logs/exchange-sim.log",
    CAPTURE_PCAP, CAPTURE_JSON,
    MANIFEST,
)

# Columns read and their smallest valid values (md_timestamp_ns is 0 when no market data).
LATENCY_COLUMNS = {"cl_ord_id": 0, "symbol_id": 0, "md_timestamp_ns": 0, "rx_ns": 1,
                   "decoded_ns": 1, "book_ns": 1, "decided_ns": 1, "sent_ns": 1}
# Read too when the header has them (hftd with kernel timestamps; older files lack them).
KERNEL_COLUMNS = {"kernel_rx_ns": 0, "send_ns": 0, "kernel_tx_ns": 0}
TICK_COLUMNS = {"recv_ns": 1, "cl_ord_id": 0, "symbol_id": 0, "tick_to_trade_ns": 0}
KERNEL_TUNING = ("isolcpus", "nohz_full", "rcu_nocbs", "rcu_nocb_poll", "irqaffinity", "idle",
                 "intel_idle.max_cstate", "processor.max_cstate", "intel_pstate", "mitigations",
                 "transparent_hugepage", "default_hugepagesz", "hugepagesz", "hugepages",
                 "nosoftlockup", "nowatchdog", "nmi_watchdog", "skew_tick", "tsc", "audit")
LSCPU_FIELDS = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)",
                "NUMA node(s)", "CPU max MHz")
INT64_MAX = 2 ** 63 - 1
MAX_SCATTER_POINTS = 200000
MAX_THREADS_LISTED = 50


class InputError(Exception):
    """Bad input; the message says what, where and how to fix it."""


class OutputError(Exception):
    """The report could not be written; the message says what, where and how to fix it."""


class Run:
    """One analysis: the data directory, and what was read, skipped or found missing."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.inputs = {}
        self.warnings = []

    def path(self, rel):
        return os.path.join(self.data_dir, rel)

    def warn(self, message):
        self.warnings.append(message)

    def input(self, rel):
        return self.inputs.setdefault(rel, {"rows": 0, "malformed_rows": 0,
                                            "first_malformed": None, "unusable": None})

    def bad_row(self, rel, lineno, reason):
        stats = self.input(rel)
        stats["malformed_rows"] += 1
        if stats["first_malformed"] is None:
            stats["first_malformed"] = "line {}: {}".format(lineno, reason)

    def unusable(self, rel, reason):
        self.input(rel)["unusable"] = reason
        self.warn("{} unusable: {}".format(rel, reason))

    def finish_input(self, rel):
        stats = self.inputs.get(rel)
        if stats and stats["malformed_rows"]:
            self.warn("skipped {} malformed rows in {} (first at {})".format(
                stats["malformed_rows"], rel, stats["first_malformed"]))

    def open_text(self, rel):
        """An open text file, or None when it is missing or unreadable (then noted)."""
        path = self.path(rel)
        if not os.path.isfile(path):
            return None
        try:
            return open(path, encoding="utf-8", errors="replace")
        except OSError as e:
            self.unusable(rel, "cannot read {}: {}; check its permissions".format(
                path, e.strerror))
            return None

    def load_json(self, rel):
        """The file's top-level JSON object, or None (missing, unreadable or invalid: noted)."""
        f = self.open_text(rel)
        if f is None:
            return None
        try:
            with f:
                obj = json.load(f)
        except json.JSONDecodeError as e:
            self.unusable(rel, "not valid JSON (line {}, column {}: {})".format(
                e.lineno, e.colno, e.msg))
            return None
        except (OSError, ValueError, RecursionError) as e:
            self.unusable(rel, "cannot parse: {}".format(e))
            return None
        if not isinstance(obj, dict):
            self.unusable(rel, "the top level is not a JSON object")
            return None
        self.input(rel)["rows"] = 1
        return obj


# ---------------------------------------------------------------------------------------------
# Numbers

def as_int(value):
    """An integer from JSON, or None: bools and non-integral floats are not integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def as_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def rounded(value, digits=3):
    return None if value is None else round(float(value), digits)


def rank_of(num, den, count):
    """1-based nearest rank of the num/den quantile among count samples: ceil(q * count)."""
    return min(max(-(-num * count // den), 1), count)


def empty_summary(source):
    out = {"source": source, "count": 0, "min": None, "max": None, "mean": None}
    for key, _, _ in PERCENTILES:
        out[key] = None
    return out


def summarize_samples(values):
    """count, min, max, mean and nearest-rank percentiles of an integer numpy array."""
    out = empty_summary("samples")
    count = int(values.size)
    if count == 0:
        return out
    ordered = np.sort(values)
    out.update(count=count, min=int(ordered[0]), max=int(ordered[-1]),
               mean=rounded(ordered.mean(dtype=np.float64)))
    for key, num, den in PERCENTILES:
        out[key] = int(ordered[rank_of(num, den, count) - 1])
    return out


# ---------------------------------------------------------------------------------------------
# Parsers

def load_int_csv(run, rel, minimums):
    """Integer columns of a CSV whose header names them (in any order), as numpy arrays.

    minimums maps each column wanted to its smallest valid value; a row outside them, with the
    wrong number of fields or a non-integer is malformed. Returns None when the file is missing
    or unusable (noted in run).
    """
    f = run.open_text(rel)
    if f is None:
        return None
    stats = run.input(rel)
    columns = tuple(minimums)
    try:
        with f:
            header_line = next((line.strip() for line in f if line.strip()), None)
            if header_line is None:
                run.unusable(rel, "the file is empty (not even a header)")
                return None
            header = [c.strip() for c in header_line.lstrip("\ufeff").split(",")]
            absent = [c for c in columns if c not in header]
            if absent:
                run.unusable(rel, "header {!r} lacks the column(s) {}; the file must start with "
                             "a header naming {}".format(header_line[:120], ", ".join(absent),
                                                         ", ".join(columns)))
                return None
            index = [header.index(c) for c in columns]
            data = int_columns_fast(f, len(header), index, minimums)
            if data is None:
                f.seek(0)
                data = int_columns_by_row(run, rel, f, len(header), index, minimums)
    except OSError as e:
        run.unusable(rel, "read error: {}".format(e.strerror))
        return None
    stats["rows"] = int(data[0].size)
    run.finish_input(rel)
    if not stats["rows"]:
        run.unusable(rel, "no valid rows")
        return None
    return dict(zip(columns, data))


def int_columns_fast(f, width, index, minimums):
    """All rows at C speed with numpy; None when any row is malformed (then parse row by row)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data" for a header-only file
            table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2, comments=None)
    except Exception:  # noqa: BLE001 - on any doubt the row-by-row parser reports precisely
        return None
    if table.shape[0] == 0 or table.shape[1] != width:
        return None
    data = [np.ascontiguousarray(table[:, i]) for i in index]
    if any(int(column.min()) < low for column, low in zip(data, minimums.values())):
        return None
    return data


def int_columns_by_row(run, rel, f, width, index, minimums):
    data = [array.array("q") for _ in index]  # 8 bytes a value, not a Python int each
    lows = list(minimums.values())
    header_seen = False
    for lineno, line in enumerate(f, 1):
        line = line.strip()
        if not line:
            continue
        if not header_seen:
            header_seen = True
            continue
        parts = line.split(",")
        if len(parts) != width:
            run.bad_row(rel, lineno, "expected {} fields, got {}".format(width, len(parts)))
            continue
        try:
            values = [int(parts[i]) for i in index]
        except ValueError:
            run.bad_row(rel, lineno, "a field is not an integer")
            continue
        if any(v > INT64_MAX for v in values):
            run.bad_row(rel, lineno, "a value is out of range")
            continue
        low = next((k for k, (v, m) in enumerate(zip(values, lows)) if v < m), None)
        if low is not None:
            run.bad_row(rel, lineno, "{} must be >= {}".format(list(minimums)[low], lows[low]))
            continue
        for column, value in zip(data, values):
            column.append(value)
    return [np.frombuffer(d, dtype=np.int64) for d in data]


def engine_stages_from_samples(run, columns):
    """Per-stage samples (numpy arrays) from latency.csv columns, plus per-stage notes."""
    samples, notes = {}, {}
    md, rx = columns["md_timestamp_ns"], columns["rx_ns"]
    has_md = md != 0
    wire = rx[has_md] - md[has_md]
    negative = int((wire < 0).sum())
    # Like the engine: a wire time across processes below zero is clock skew, not a latency.
    samples["md_wire"] = wire[wire >= 0]
    notes["md_wire"] = {"excluded_no_md_timestamp": int((~has_md).sum()),
                        "excluded_negative": negative}
    if negative:
        run.warn("md_wire: excluded {} rows where rx_ns < md_timestamp_ns (clock skew between "
                 "the exchange and the engine)".format(negative))
    for stage, start, end in SPANS:
        span = columns[end] - columns[start]
        negative = int((span < 0).sum())
        # Like the engine's histograms: a backwards step of CLOCK_REALTIME counts as 0.
        samples[stage] = np.maximum(span, 0)
        notes[stage] = {"negative_clamped": negative}
        if negative:
            run.warn("{}: {} samples were negative (CLOCK_REALTIME stepped back?) and count "
                     "as 0".format(stage, negative))
    if all(c in columns for c in KERNEL_COLUMNS):
        for stage, start, end in KERNEL_SPANS:
            # Like the engine: only orders that have both stamps (0 = the kernel gave none).
            has = (columns[start] != 0) & (columns[end] != 0)
            span = columns[end][has] - columns[start][has]
            negative = int((span < 0).sum())
            samples[stage] = np.maximum(span, 0)
            notes[stage] = {"excluded_no_kernel_stamp": int((~has).sum()),
                            "negative_clamped": negative}
            if negative:
                run.warn("{}: {} samples were negative (the TSC-to-CLOCK_REALTIME conversion is "
                         "off by more than the gap) and count as 0".format(stage, negative))
    return samples, notes


def latency_header(run):
    """The column names of latency.csv's header, or () when it cannot be read."""
    try:
        with open(run.path(LATENCY_CSV), encoding="utf-8", errors="replace") as f:
            line = next((line.strip() for line in f if line.strip()), "")
    except OSError:
        return ()
    return tuple(c.strip() for c in line.lstrip("\ufeff").split(","))


def three_views(stages):
    """The wire, kernel-stamp and user-space views of the same orders, side by side."""
    out = []
    for view, stage, what in VIEWS:
        s = stages.get(stage)
        out.append({"view": view, "stage": stage, "measures": what,
                    "count": s["count"] if s else None, "p50": s["p50"] if s else None,
                    "p99": s["p99"] if s else None, "max": s["max"] if s else None})
    return out


def summarize_histogram(run, rel, name, obj):
    """A stage summary from histograms.json; p95 from the buckets like the engine would."""
    out = empty_summary("histogram")
    if not isinstance(obj, dict):
        run.warn("{}: stage {!r} is not an object; ignored".format(rel, name))
        return None
    bad = []
    for key in HISTOGRAM_FIELDS:
        value = as_int(obj.get(key)) if key == "count" else as_number(obj.get(key))
        if value is None or value < 0:
            bad.append(key)
            continue
        out[key] = rounded(value) if key == "mean" else value
    if out["count"] is None:
        run.warn("{}: stage {!r} has no valid count; ignored".format(rel, name))
        return None
    if out["count"] == 0:
        return empty_summary("histogram")
    if bad:
        run.warn("{}: stage {!r} lacks valid {}".format(rel, name, ", ".join(bad)))
    buckets = parse_buckets(run, rel, name, obj.get("buckets"))
    if buckets:
        out["p95"] = bucket_percentile(buckets, 95, 100, out["max"])
    out["buckets"] = buckets
    return out


def parse_buckets(run, rel, name, raw):
    if raw is None:
        return []
    if not isinstance(raw, list):
        run.warn("{}: stage {!r} buckets is not a list; ignored".format(rel, name))
        return []
    buckets, bad = [], 0
    for entry in raw:
        values = [as_int(v) for v in entry] if isinstance(entry, list) else []
        if len(values) != 3 or None in values or values[0] < 0 or values[1] < values[0] \
                or values[2] < 0:
            bad += 1
            continue
        buckets.append(values)
    if bad:
        run.warn("{}: stage {!r}: skipped {} malformed buckets".format(rel, name, bad))
    buckets.sort()
    return buckets


def bucket_percentile(buckets, num, den, maximum):
    """The engine's rule: the top of the bucket holding the nearest-rank sample, clipped to max."""
    total = sum(b[2] for b in buckets)
    if total == 0:
        return None
    rank, seen = rank_of(num, den, total), 0
    for low, high, count in buckets:
        seen += count
        if seen >= rank:
            return min(high, maximum) if maximum is not None else high
    return maximum


def summarize_exchange_tick(run, obj):
    raw = obj.get("tick_to_trade_ns")
    if not isinstance(raw, dict):
        return None
    out = empty_summary("exchange_stats")
    for key in ("count", "min", "max", "mean", "p50", "p90", "p99", "p99_9"):
        value = as_int(raw.get(key)) if key == "count" else as_number(raw.get(key))
        out[key] = rounded(value) if key == "mean" and value is not None else value
    if out["count"] is None:
        run.warn("{}: tick_to_trade_ns has no valid count; ignored".format(EXCHANGE_JSON))
        return None
    return out


def parse_time_of_day(tokens):
    """Seconds since midnight from mpstat/pidstat's 'HH:MM:SS' and an optional AM/PM token."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2}):(\d{2})", tokens[0])
    if not match:
        return None
    hour, minute, second = (int(g) for g in match.groups())
    if len(tokens) > 1 and tokens[1] in ("AM", "PM"):
        hour = hour % 12 + (12 if tokens[1] == "PM" else 0)
    if hour > 23 or minute > 59 or second > 60:
        return None
    return hour * 3600 + minute * 60 + second


class Clock:
    """Turns times of day into seconds since the first one, across midnight."""

    def __init__(self):
        self.first = None
        self.last = None
        self.days = 0

    def seconds(self, tod):
        if self.first is None:
            self.first = tod
        elif tod < self.last:
            self.days += 1
        self.last = tod
        return tod + 86400 * self.days - self.first


def sysstat_records(run, rel, lines, is_header):
    """(lineno, header, tokens, seconds) for each data line of a sysstat report (mpstat,
    pidstat); 'Average:' summaries are skipped since the report computes its own."""
    header, clock = None, Clock()
    for lineno, line in enumerate(lines, 1):
        tokens = line.split()
        if not tokens or tokens[0] == "Linux" or tokens[0].startswith("Average"):
            continue
        if is_header(tokens):
            header = tokens
            continue
        if header is None:
            run.bad_row(rel, lineno, "data before any header line")
            continue
        tod = parse_time_of_day(tokens)
        if tod is None:
            run.bad_row(rel, lineno, "no HH:MM:SS time at the start")
            continue
        yield lineno, header, tokens, clock.seconds(tod)


def parse_mpstat(run, rel, lines):
    """{cpu: [(t_s, busy%)]} from `mpstat -P ALL 1`; busy = 100 - %idle. cpu is 'all' or a
    number as a string."""
    series = {}
    is_header = lambda t: "CPU" in t and "%idle" in t  # noqa: E731
    for lineno, header, tokens, t in sysstat_records(run, rel, lines, is_header):
        if len(tokens) != len(header):
            run.bad_row(rel, lineno, "expected {} columns, got {}".format(
                len(header), len(tokens)))
            continue
        cpu = tokens[header.index("CPU")]
        try:
            idle = float(tokens[header.index("%idle")])
        except ValueError:
            idle = float("nan")
        if not (cpu == "all" or cpu.isdigit()) or not 0.0 <= idle <= 100.0:
            run.bad_row(rel, lineno, "bad CPU or %idle")
            continue
        run.input(rel)["rows"] += 1
        series.setdefault(cpu, []).append((t, round(100.0 - idle, 2)))
    return series


def cpu_summary(run):
    f = run.open_text(MPSTAT)
    if f is None:
        return None
    run.input(MPSTAT)
    try:
        with f:
            series = parse_mpstat(run, MPSTAT, f)
    except OSError as e:
        run.unusable(MPSTAT, "read error: {}".format(e.strerror))
        return None
    run.finish_input(MPSTAT)
    if not series:
        run.unusable(MPSTAT, "no CPU utilisation lines (expected `LC_ALL=C mpstat -P ALL 1` "
                     "output)")
        return None

    def stats(points):
        busy = [b for _, b in points]
        return {"samples": len(busy), "mean_busy": rounded(sum(busy) / len(busy)),
                "max_busy": max(busy), "min_busy": min(busy)}

    cores = sorted((c for c in series if c != "all"), key=int)
    times = [t for t, _ in series.get("all") or series[cores[0]]]
    steps = sorted(b - a for a, b in zip(times, times[1:]))
    return {
        "source": MPSTAT,
        "busy_definition": "100 - %idle",
        "interval_s": steps[len(steps) // 2] if steps else None,
        "all": stats(series["all"]) if "all" in series else None,
        "per_core": [dict(cpu=int(c), **stats(series[c])) for c in cores],
        "series": {c: [[t, b] for t, b in series[c]] for c in (["all"] if "all" in series
                                                               else []) + cores},
    }


def thread_summary(run):
    """Per-thread %CPU and the CPUs each thread ran on, from `pidstat -t -p PID 1` or
    hft-monitor's `pidstat -t -u -r -w -G ^hftd$ 1`, whose memory and context-switch
    sections are passed over."""
    f = run.open_text(PIDSTAT)
    if f is None:
        return None
    run.input(PIDSTAT)
    threads, process = {}, []
    is_header = lambda t: "TID" in t and "Command" in t  # noqa: E731  (any section's)
    try:
        with f:
            for lineno, header, tokens, _ in sysstat_records(run, PIDSTAT, f, is_header):
                if "%CPU" not in header:
                    continue  # -r or -w section: no CPU figures
                width = header.index("Command")
                if len(tokens) < len(header):
                    run.bad_row(PIDSTAT, lineno, "expected {} columns, got {}".format(
                        len(header), len(tokens)))
                    continue
                tid = tokens[header.index("TID")]
                command = " ".join(tokens[width:]).replace("|__", "", 1)
                cpu = tokens[header.index("CPU")] if "CPU" in header else "-"
                try:
                    percent = float(tokens[header.index("%CPU")])
                except ValueError:
                    run.bad_row(PIDSTAT, lineno, "%CPU is not a number")
                    continue
                run.input(PIDSTAT)["rows"] += 1
                if tid == "-":
                    process.append(percent)
                    continue
                entry = threads.setdefault(tid, {"tid": int(tid) if tid.isdigit() else tid,
                                                 "command": command, "cpu": [], "cpus": set()})
                entry["cpu"].append(percent)
                if cpu.isdigit():
                    entry["cpus"].add(int(cpu))
    except OSError as e:
        run.unusable(PIDSTAT, "read error: {}".format(e.strerror))
        return None
    run.finish_input(PIDSTAT)
    if not threads and not process:
        run.unusable(PIDSTAT, "no per-thread lines (expected `LC_ALL=C pidstat -t -p PID 1` "
                     "output)")
        return None
    listed = [{"tid": t["tid"], "command": t["command"], "samples": len(t["cpu"]),
               "mean_cpu": rounded(sum(t["cpu"]) / len(t["cpu"])), "max_cpu": max(t["cpu"]),
               "cpus": sorted(t["cpus"])} for t in threads.values()]
    listed.sort(key=lambda t: -t["mean_cpu"])
    return {
        "source": PIDSTAT,
        "process": {"samples": len(process),
                    "mean_cpu": rounded(sum(process) / len(process)) if process else None,
                    "max_cpu": max(process) if process else None},
        "threads": listed[:MAX_THREADS_LISTED],
    }


def vmstat_summary(run):
    """mean/min/max of every vmstat column; the first sample (averages since boot) is dropped."""
    f = run.open_text(VMSTAT)
    if f is None:
        return None
    run.input(VMSTAT)
    header, first, columns = None, True, {}
    try:
        with f:
            for lineno, line in enumerate(f, 1):
                tokens = line.split()
                if not tokens or tokens[0].startswith("procs"):
                    continue
                if tokens[0] == "r" and "cs" in tokens:
                    header = tokens
                    continue
                if header is None:
                    run.bad_row(VMSTAT, lineno, "data before the header")
                    continue
                # With -t the header ends in a time zone and the rows in a date and a time.
                names = header[:-1] if len(tokens) == len(header) + 1 else header
                if len(tokens) not in (len(header), len(header) + 1):
                    run.bad_row(VMSTAT, lineno, "expected {} columns, got {}".format(
                        len(header), len(tokens)))
                    continue
                try:
                    values = [int(tokens[i]) for i in range(len(names))]
                except ValueError:
                    run.bad_row(VMSTAT, lineno, "a column is not an integer")
                    continue
                if first:
                    first = False
                    continue
                run.input(VMSTAT)["rows"] += 1
                for name, value in zip(names, values):
                    columns.setdefault(name, []).append(value)
    except OSError as e:
        run.unusable(VMSTAT, "read error: {}".format(e.strerror))
        return None
    run.finish_input(VMSTAT)
    if not columns:
        return None
    return {"source": VMSTAT, "samples": len(next(iter(columns.values()))),
            "columns": {n: {"mean": rounded(sum(v) / len(v)), "min": min(v), "max": max(v)}
                        for n, v in columns.items()}}


# ---------------------------------------------------------------------------------------------
# Engine and exchange counters

def counter(run, rel, obj, key, required=True):
    value = obj.get(key)
    if value is None:
        if required:
            run.warn("{}: no {!r}".format(rel, key))
        return None
    number = as_int(value)
    if number is None or number < 0:
        run.warn("{}: {!r} is not a non-negative integer: {!r}".format(rel, key, value))
        return None
    return number


def ratio(num, den, digits=6):
    if num is None or not den:
        return None
    return round(num / den, digits)


def session_and_trading(run, stats):
    """The session block and the trading block from stats.json."""
    get = lambda key, required=True: counter(run, STATS_JSON, stats, key, required)  # noqa
    started, ended = get("session_started_ns"), get("session_ended_ns")
    duration = None
    if started and ended:
        if ended > started:
            duration = (ended - started) / 1e9
        else:
            run.warn("{}: session_ended_ns is not after session_started_ns; no rates"
                     .format(STATS_JSON))
    elif started is not None and ended is not None:
        run.warn("{}: session_started_ns or session_ended_ns is 0 (was the session still "
                 "running when it was copied?); no rates".format(STATS_JSON))
    session = {"session_id": stats.get("session_id") if isinstance(stats.get("session_id"), str)
               else None,
               "state": stats.get("state") if isinstance(stats.get("state"), str) else None,
               "session_started_ns": started, "session_ended_ns": ended,
               "duration_s": rounded(duration, 6)}
    orders, fills = get("orders_sent"), get("fills")
    trading = {"source": STATS_JSON, "orders_sent": orders, "acks": get("acks"), "fills": fills,
               "fill_ratio": ratio(fills, orders), "rejects": get("rejects"),
               "risk_rejects": get("risk_rejects"), "cancels": get("cancels"),
               "md_gaps": get("md_gaps"), "symbols": [],
               "pnl": {"realized": 0.0, "unrealized": 0.0, "total": 0.0}}
    symbols = stats.get("symbols", [])
    if not isinstance(symbols, list):
        run.warn("{}: symbols is not a list".format(STATS_JSON))
        symbols = []
    for entry in symbols:
        if not isinstance(entry, dict) or as_int(entry.get("symbol_id")) is None:
            run.warn("{}: a symbols entry has no symbol_id; ignored".format(STATS_JSON))
            continue
        realized = as_number(entry.get("realized_pnl"))
        unrealized = as_number(entry.get("unrealized_pnl"))
        total = None if realized is None or unrealized is None else realized + unrealized
        trading["symbols"].append({
            "symbol_id": as_int(entry["symbol_id"]), "position": as_int(entry.get("position")),
            "realized_pnl": realized, "unrealized_pnl": unrealized,
            "total_pnl": rounded(total, 6)})
        trading["pnl"]["realized"] += realized or 0.0
        trading["pnl"]["unrealized"] += unrealized or 0.0
    pnl = trading["pnl"]
    pnl["total"] = pnl["realized"] + pnl["unrealized"]
    for key in pnl:
        pnl[key] = round(pnl[key], 6)
    md_key = "md_messages" if "md_messages" in stats else "rx_messages"
    md = get(md_key)
    throughput = {"source": STATS_JSON, "duration_s": rounded(duration, 6),
                  "md_counter": md_key, "md_messages": md, "orders_sent": orders,
                  "md_msgs_per_s": rounded(md / duration) if md is not None and duration
                  else None,
                  "orders_per_s": rounded(orders / duration) if orders is not None and duration
                  else None}
    return session, trading, throughput


def exchange_block(run, obj):
    get = lambda key: counter(run, EXCHANGE_JSON, obj, key)  # noqa: E731
    orders, fills = get("orders"), get("fills")
    fill_ratio = as_number(obj.get("fill_ratio"))
    named = ("orders", "fills", "fill_ratio", "rejects", "market_data_frames")
    others = {k: v for k, v in obj.items() if as_number(v) is not None and k not in named}
    return {"source": EXCHANGE_JSON, "orders": orders, "fills": fills,
            "fill_ratio": fill_ratio if fill_ratio is not None else ratio(fills, orders),
            "rejects": get("rejects"), "market_data_frames": get("market_data_frames"),
            "counters": others}


def consistency_block(trading, exchange):
    def pair(engine, theirs):
        equal = None if engine is None or theirs is None else engine == theirs
        return {"engine": engine, "exchange": theirs, "equal": equal}

    orders = pair(trading and trading["orders_sent"], exchange and exchange["orders"])
    fills = pair(trading and trading["fills"], exchange and exchange["fills"])
    checks = (orders["equal"], fills["equal"])
    consistent = None if None in checks else all(checks)
    return {"orders": orders, "fills": fills, "consistent": consistent}


STATS_ALIASES = {"md_messages": ("md_messages", "mdMessages"),
                 "rx_messages": ("rx_messages", "rxMessages"),
                 "orders_sent": ("orders_sent", "ordersSent")}
TIME_KEYS = ("timestamp_ns", "ts_ns", "time_ns", "now_ns", "uptime_ns", "uptimeNs")


def hftctl_throughput(run):
    """Per-interval message and order rates from consecutive `hftctl stats --json` lines."""
    f = run.open_text(HFTCTL)
    if f is None:
        return None
    run.input(HFTCTL)
    samples = []
    try:
        with f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    run.bad_row(HFTCTL, lineno, "not a JSON object")
                    continue
                if isinstance(obj, dict) and isinstance(obj.get("stats"), dict):
                    obj = obj["stats"]
                if not isinstance(obj, dict):
                    run.bad_row(HFTCTL, lineno, "not a JSON object")
                    continue
                sample = {"state": obj.get("state")}
                for name, keys in STATS_ALIASES.items():
                    sample[name] = next((as_int(obj[k]) for k in keys if k in obj), None)
                sample["t"] = next((as_int(obj[k]) for k in TIME_KEYS if k in obj), None)
                if sample["orders_sent"] is None or (sample["md_messages"] is None
                                                     and sample["rx_messages"] is None):
                    run.bad_row(HFTCTL, lineno, "no orders_sent or rx_messages counter")
                    continue
                run.input(HFTCTL)["rows"] += 1
                samples.append(sample)
    except OSError as e:
        run.unusable(HFTCTL, "read error: {}".format(e.strerror))
        return None
    run.finish_input(HFTCTL)
    if len(samples) < 2:
        return None
    md_key = "md_messages" if all(s["md_messages"] is not None for s in samples) \
        else "rx_messages"
    timed = all(s["t"] is not None for s in samples)
    series, resets = [], 0
    elapsed = 0.0
    for i, (a, b) in enumerate(zip(samples, samples[1:])):
        dt = (b["t"] - a["t"]) / 1e9 if timed else 1.0
        if dt <= 0 or a[md_key] is None or b[md_key] is None:
            resets += 1
            continue
        elapsed += dt
        d_md, d_orders = b[md_key] - a[md_key], b["orders_sent"] - a["orders_sent"]
        if d_md < 0 or d_orders < 0:
            resets += 1  # a new session restarted the counters
            continue
        if a["state"] is not None and (a["state"] != "trading" or b["state"] != "trading"):
            continue
        series.append({"t_s": round(elapsed, 3), "md_msgs_per_s": rounded(d_md / dt),
                       "orders_per_s": rounded(d_orders / dt)})

    def rate_stats(key):
        values = sorted(s[key] for s in series)
        if not values:
            return None
        return {"mean": rounded(sum(values) / len(values)),
                "p50": values[rank_of(1, 2, len(values)) - 1],
                "min": values[0], "max": values[-1]}

    return {"source": HFTCTL, "md_counter": md_key,
            "interval_clock": "sample timestamps" if timed else "1 s per line (no timestamp)",
            "intervals": len(series), "counter_resets": resets,
            "md_msgs_per_s": rate_stats("md_msgs_per_s"),
            "orders_per_s": rate_stats("orders_per_s"), "series": series}


# ---------------------------------------------------------------------------------------------
# The packet capture: pcapng, TCP reassembly, protocol frames, wire-to-wire

PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D
MAX_PCAPNG_BLOCK = 64 << 20  # a longer block is corruption, not a packet
# Frame sizes of docs/protocol.md; MARKET_DATA (1) is 24 + 16 * num_entries.
FRAME_SIZES = {2: 80, 3: 56, 4: 32, 5: 48, 6: 32, 7: 16, 8: 24}
FRAME_NAMES = {1: "MARKET_DATA", 2: "EXECUTION_REPORT", 3: "NEW_ORDER", 4: "CANCEL_ORDER",
               5: "LOGON", 6: "LOGON_RESPONSE", 7: "HEARTBEAT", 8: "LOGOUT"}
FRAME_HEADER = 16
FRAME_MAX = 4096
MD_MAX_ENTRIES = 64
MAX_MALFORMED_LISTED = 20


class CaptureError(Exception):
    """The capture file cannot be read at all (not pcapng, truncated header)."""


def pcapng_packets(f):
    """(interface link type, capture time in ns, packet bytes) for each packet of a pcapng file.

    Reads Section Header, Interface Description (if_tsresol, if_tsoffset), Enhanced and Simple
    Packet blocks and the obsolete Packet block; others are skipped. A truncated last block (a
    capture cut off mid-write) ends the packets quietly; a block that makes no sense raises
    CaptureError after the packets before it.
    """
    import struct
    endian = "<"
    interfaces = []  # (link type, ticks per second as (num, den): ns = ticks * num // den, offset)
    first = True
    while True:
        head = f.read(8)
        if len(head) < 8:
            if first:
                raise CaptureError("the file is empty or shorter than a block header")
            return
        block_type = struct.unpack("<I", head[:4])[0]
        if block_type == PCAPNG_SHB:
            rest = f.read(4)
            if len(rest) < 4:
                return
            magic = struct.unpack("<I", rest)[0]
            if magic == PCAPNG_BYTE_ORDER_MAGIC:
                endian = "<"
            elif magic == 0x4D3C2B1A:
                endian = ">"
            else:
                raise CaptureError("bad byte-order magic in a section header")
            length = struct.unpack(endian + "I", head[4:8])[0]
            if length < 28 or length % 4 or length > MAX_PCAPNG_BLOCK:
                raise CaptureError("section header of impossible length {}".format(length))
            if len(f.read(length - 12)) < length - 12:
                return
            interfaces = []  # interface ids restart in each section
            first = False
            continue
        if first:
            if head[:4] in PCAP_MAGICS:
                yield from pcap_packets(f, head)
                return
            raise CaptureError("neither pcapng nor pcap (no section header block at the start)")
        block_type, length = struct.unpack(endian + "II", head)
        if length < 12 or length % 4 or length > MAX_PCAPNG_BLOCK:
            raise CaptureError("block of type {} has an impossible length {}".format(
                block_type, length))
        body = f.read(length - 8)
        if len(body) < length - 8:
            return  # truncated tail: tcpdump was stopped mid-write
        body = body[:-4]
        if block_type == 1:  # Interface Description
            link_type, _, _ = struct.unpack(endian + "HHI", body[:8])
            num, den, offset = 10 ** 9, 10 ** 6, 0  # default resolution: microseconds
            pos = 8
            while pos + 4 <= len(body):
                code, size = struct.unpack(endian + "HH", body[pos:pos + 4])
                value = body[pos + 4:pos + 4 + size]
                if code == 0:
                    break
                if code == 9 and size >= 1:  # if_tsresol: 10^-v, or 2^-v with the top bit
                    v = value[0]
                    if v & 0x80:
                        num, den = 10 ** 9, 2 ** (v & 0x7F)
                    else:
                        num, den = 10 ** 9, 10 ** v
                elif code == 14 and size >= 8:  # if_tsoffset: seconds to add
                    offset = struct.unpack(endian + "q", value[:8])[0]
                pos += 4 + size + (-size % 4)
            interfaces.append((link_type, num, den, offset))
        elif block_type in (6, 2):  # Enhanced Packet, obsolete Packet
            if block_type == 6:
                iface, high, low, caplen, _ = struct.unpack(endian + "IIIII", body[:20])
            else:
                iface, _, high, low, caplen, _ = struct.unpack(endian + "HHIIII", body[:20])
            if iface >= len(interfaces):
                raise CaptureError("a packet names interface {} before its description"
                                   .format(iface))
            link_type, num, den, offset = interfaces[iface]
            ticks = (high << 32) | low
            ns = ticks * num // den + offset * 10 ** 9
            yield link_type, ns, body[20:20 + caplen]
        elif block_type == 3:  # Simple Packet: no timestamp, useless for timing
            continue


# Classic pcap (tcpdump's own output, kept when editcap is missing): magic -> (endian, ns/unit).
PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
               b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}


def pcap_packets(f, head):
    import struct
    endian, unit = PCAP_MAGICS[head[:4]]
    rest = f.read(16)
    if len(rest) < 16:
        raise CaptureError("pcap file shorter than its header")
    link_type = struct.unpack(endian + "I", rest[12:16])[0] & 0xFFFF
    while True:
        record = f.read(16)
        if len(record) < 16:
            return
        sec, frac, caplen, _ = struct.unpack(endian + "IIII", record)
        if caplen > MAX_PCAPNG_BLOCK:
            raise CaptureError("pcap record of impossible length {}".format(caplen))
        data = f.read(caplen)
        if len(data) < caplen:
            return
        yield link_type, sec * 10 ** 9 + frac * unit, data


def ip_payload(link_type, packet):
    """(protocol, src, dst, transport bytes) of an IPv4/IPv6 packet, or None."""
    import struct
    if link_type == 1:  # Ethernet (Linux loopback too)
        if len(packet) < 14:
            return None
        ether, pos = struct.unpack("!H", packet[12:14])[0], 14
        while ether in (0x8100, 0x88A8) and len(packet) >= pos + 4:  # VLAN tags
            ether, pos = struct.unpack("!H", packet[pos + 2:pos + 4])[0], pos + 4
        ip = packet[pos:] if ether in (0x0800, 0x86DD) else None
    elif link_type in (0, 108):  # BSD loopback: a 4-byte address family
        ip = packet[4:]
    elif link_type in (101, 228, 229):  # raw IP
        ip = packet
    elif link_type == 113:  # Linux cooked v1
        ip = packet[16:]
    elif link_type == 276:  # Linux cooked v2
        ip = packet[20:]
    else:
        return None
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            return None  # a fragment: loopback never fragments our frames
        end = min(total, len(ip)) if total else len(ip)  # 0 with TSO: take what is there
        return ip[9], ip[12:16], ip[16:20], ip[ihl:end]
    if version == 6 and len(ip) >= 40:
        length = struct.unpack("!H", ip[4:6])[0]
        return ip[6], ip[8:24], ip[24:40], ip[40:40 + length]
    return None


def frame_problem(msg_type, length, data):
    """Why a frame header is malformed per docs/protocol.md, or None. data is the frame."""
    if length < FRAME_HEADER:
        return "msg_length {} < 16".format(length)
    if length > FRAME_MAX:
        return "msg_length {} > 4096".format(length)
    if msg_type == 1:
        if len(data) >= 22:
            entries = int.from_bytes(data[20:22], "little")
            if entries > MD_MAX_ENTRIES:
                return "MARKET_DATA num_entries {} > 64".format(entries)
            if length != 24 + 16 * entries:
                return "MARKET_DATA msg_length {} != 24 + 16 * {}".format(length, entries)
        elif length < 24:
            return "MARKET_DATA msg_length {} < 24".format(length)
    elif msg_type in FRAME_SIZES and length != FRAME_SIZES[msg_type]:
        return "{} msg_length {} != {}".format(
            FRAME_NAMES[msg_type], length, FRAME_SIZES[msg_type])
    return None


class FrameSink:
    """The protocol frames found in a capture, and what could not be decoded."""

    def __init__(self):
        self.md_times = {}   # MARKET_DATA header timestamp -> first capture ns completing it
        self.orders = []     # (cl_ord_id, md_timestamp, capture ns), in capture order
        self.frames = {}     # type name -> count
        self.malformed = []  # {where, offset, reason}
        self.malformed_count = 0

    def bad(self, where, offset, reason):
        self.malformed_count += 1
        if len(self.malformed) < MAX_MALFORMED_LISTED:
            self.malformed.append({"where": where, "offset": offset, "reason": reason})

    def decode(self, data, ns, where, base):
        """Decodes whole frames from data; returns the bytes used (stops at a malformed or
        incomplete frame: then the caller keeps the rest)."""
        pos = 0
        while len(data) - pos >= FRAME_HEADER:
            length = int.from_bytes(data[pos:pos + 2], "little")
            msg_type = int.from_bytes(data[pos + 2:pos + 4], "little")
            problem = frame_problem(msg_type, length, data[pos:pos + 22])
            if problem:
                self.bad(where, base + pos, problem)
                return None
            if len(data) - pos < length:
                break
            frame = data[pos:pos + length]
            name = FRAME_NAMES.get(msg_type, "unknown")
            self.frames[name] = self.frames.get(name, 0) + 1
            if msg_type == 1:
                stamp = int.from_bytes(frame[8:16], "little")
                if stamp not in self.md_times or ns < self.md_times[stamp]:
                    self.md_times[stamp] = ns
            elif msg_type == 3:
                self.orders.append((int.from_bytes(frame[16:24], "little"),
                                    int.from_bytes(frame[48:56], "little"), ns))
            pos += length
        return pos


def frame_start(data):
    """The first offset from which valid frames run exactly to the end of data, or None.

    Senders write whole frames, so a segment seen first in a capture begun mid-connection
    most likely ends on a frame boundary even when it starts inside a frame.
    """
    for start in range(len(data) - FRAME_HEADER + 1):
        pos = start
        while len(data) - pos >= FRAME_HEADER:
            length = int.from_bytes(data[pos:pos + 2], "little")
            msg_type = int.from_bytes(data[pos + 2:pos + 4], "little")
            if msg_type not in FRAME_NAMES or frame_problem(msg_type, length,
                                                            data[pos:pos + 22]):
                break
            pos += length
        if pos == len(data):
            return start
    return None


class TcpDirection:
    """One direction of a TCP connection, reassembled by sequence number."""

    def __init__(self, name):
        self.name = name
        self.next = None       # sequence number of the next byte wanted (unwrapped)
        self.pending = {}      # out-of-order segments: unwrapped seq -> (bytes, ns)
        self.buffer = b""      # bytes not yet consumed as whole frames
        self.consumed = 0      # stream offset of buffer[0]
        self.broken = False    # a malformed frame: the receiver would close the connection
        self.isn = None
        self.aligned = True    # False until a capture begun mid-connection finds a frame start
        self.skipped = 0       # bytes passed over to find that start

    def unwrap(self, seq):
        if self.next is None:
            return seq
        return self.next + ((seq - self.next + (1 << 31)) % (1 << 32)) - (1 << 31)

    def segment(self, seq, syn, payload, ns, sink):
        if syn:
            self.isn = seq
            self.next = seq + 1
            return
        if not payload:
            return
        if self.next is None:
            self.isn = seq - 1  # the capture started mid-connection: maybe mid-frame too
            self.next = seq
            self.aligned = False
        start = self.unwrap(seq)
        self.pending[start] = max(self.pending.get(start, (b"", ns)), (payload, ns),
                                  key=lambda p: len(p[0]))
        while True:
            ready = [s for s in self.pending if s <= self.next]
            if not ready:
                break
            for s in sorted(ready):
                data, _ = self.pending.pop(s)
                skip = self.next - s
                if skip >= len(data):
                    continue  # a retransmission of bytes already had
                self.next += len(data) - skip
                # Frames complete when their last byte is in: now, also behind a filled hole.
                self.feed(data[skip:], ns, sink)

    def feed(self, data, ns, sink):
        if self.broken:
            return
        if not self.aligned:
            start = frame_start(data)
            if start is None:
                self.skipped += len(data)
                self.consumed += len(data)
                return
            self.aligned = True
            self.skipped += start
            self.consumed += start
            data = data[start:]
        self.buffer += data
        used = sink.decode(self.buffer, ns, self.name, self.consumed)
        if used is None:
            self.broken = True
            self.buffer = b""
            return
        self.buffer = self.buffer[used:]
        self.consumed += used

    def gaps(self):
        """Bytes held back behind a hole in the sequence space (lost by the capture)."""
        return sum(len(d) for d, _ in self.pending.values())


def address(raw):
    import ipaddress
    return str(ipaddress.ip_address(bytes(raw)))


def read_capture(run, rel):
    """The frames of the capture file, or None when it is missing or unusable (noted)."""
    import struct
    path = run.path(rel)
    if not os.path.isfile(path):
        return None
    sink = FrameSink()
    flows = {}
    packets = tcp_segments = udp_datagrams = other = 0
    first_ns = last_ns = None
    error = None
    try:
        with open(path, "rb") as f:
            try:
                for link_type, ns, packet in pcapng_packets(f):
                    packets += 1
                    first_ns = ns if first_ns is None else first_ns
                    last_ns = ns
                    parsed = ip_payload(link_type, packet)
                    if parsed is None:
                        other += 1
                        continue
                    proto, src, dst, seg = parsed
                    if proto == 6 and len(seg) >= 20:
                        sport, dport, seq = struct.unpack("!HHI", seg[:8])
                        offset, flags = (seg[12] >> 4) * 4, seg[13]
                        key = "tcp {}:{} > {}:{}".format(address(src), sport, address(dst),
                                                         dport)
                        flow = flows.setdefault(key, TcpDirection(key))
                        tcp_segments += 1
                        flow.segment(seq, bool(flags & 0x02), seg[offset:], ns, sink)
                    elif proto == 17 and len(seg) >= 8:
                        sport, dport = struct.unpack("!HH", seg[:4])
                        udp_datagrams += 1
                        where = "udp {}:{} > {}:{}".format(address(src), sport, address(dst),
                                                           dport)
                        data = seg[8:]
                        used = sink.decode(data, ns, where, 0)
                        if used is not None and used != len(data):
                            sink.bad(where, used, "a datagram ends inside a frame")
                    else:
                        other += 1
            except CaptureError as e:
                error = str(e)
            except struct.error:
                error = "a block is shorter than its fields"
    except OSError as e:
        run.unusable(rel, "cannot read {}: {}".format(path, e.strerror))
        return None
    run.input(rel)["rows"] = packets
    if error and not packets:
        run.unusable(rel, error)
        return None
    if error:
        run.warn("{}: read stopped after {} packets: {}".format(rel, packets, error))
    held = {name: flow.gaps() for name, flow in flows.items() if flow.gaps()}
    resync = {name: flow.skipped for name, flow in flows.items() if not flow.aligned
              or flow.skipped}
    if resync:
        run.warn("{}: the capture began inside {} TCP connection direction(s); {} bytes before "
                 "the first whole frame were passed over".format(
                     rel, len(resync), sum(resync.values())))
    if held:
        run.warn("{}: {} TCP direction(s) have a hole in the stream (packets the capture "
                 "lost): {} bytes after it were not decoded".format(
                     rel, len(held), sum(held.values())))
    if sink.malformed_count:
        first = sink.malformed[0]
        run.warn("{}: {} malformed protocol frame(s); first in {} at stream offset {}: {} "
                 "(decoding of that TCP direction stops there)".format(
                     rel, sink.malformed_count, first["where"], first["offset"],
                     first["reason"]))
    return {"sink": sink, "packets": packets, "tcp_segments": tcp_segments,
            "udp_datagrams": udp_datagrams, "other_packets": other,
            "tcp_directions": len(flows), "stream_holes": held,
            "joined_mid_stream": resync, "read_error": error,
            "first_ns": first_ns, "last_ns": last_ns}


def capture_drops(run):
    """capture/capture.json's counters (written by collect_data.sh from tcpdump's summary)."""
    obj = run.load_json(CAPTURE_JSON)
    if obj is None:
        return None
    out = {}
    for key in ("packets_captured", "packets_received_by_filter", "packets_dropped_by_kernel",
                "packets_dropped_by_interface", "max_packets"):
        out[key] = as_int(obj.get(key))
    out["limit_reached"] = obj.get("limit_reached") if isinstance(
        obj.get("limit_reached"), bool) else None
    for key in ("interface", "filter"):
        out[key] = obj.get(key) if isinstance(obj.get(key), str) else None
    if out["packets_dropped_by_kernel"]:
        run.warn("the capture lost {} packets in the kernel (tcpdump: dropped by kernel): "
                 "wire-to-wire misses those orders".format(out["packets_dropped_by_kernel"]))
    if out["packets_dropped_by_interface"]:
        run.warn("the capture lost {} packets at the interface".format(
            out["packets_dropped_by_interface"]))
    if out["limit_reached"]:
        run.warn("the capture stopped at its limit of {} packets: later orders have no "
                 "wire-to-wire time (collect_data.sh --capture-packets)".format(
                     out["max_packets"]))
    return out


def wire_to_wire(run):
    """(capture block, wire-to-wire samples, per-order rows) or (None, None, None)."""
    rel = CAPTURE_PCAP if os.path.isfile(run.path(CAPTURE_PCAP)) or not os.path.isfile(
        run.path(CAPTURE_CLASSIC)) else CAPTURE_CLASSIC
    cap = read_capture(run, rel)
    drops = capture_drops(run)
    if cap is None:
        if drops is not None:
            return {"source": CAPTURE_PCAP, "drops": drops}, None, None
        return None, None, None
    sink = cap.pop("sink")
    rows, samples, unpaired, no_md = [], [], 0, 0
    for cl_ord_id, md_ts, ns in sink.orders:
        if md_ts == 0:
            no_md += 1
            continue
        md_ns = sink.md_times.get(md_ts)
        if md_ns is None:
            unpaired += 1
            continue
        rows.append((cl_ord_id, md_ts, md_ns, ns, ns - md_ns))
        samples.append(ns - md_ns)
    if unpaired:
        run.warn("wire-to-wire: {} NEW_ORDER frames name a MARKET_DATA timestamp that is not in "
                 "the capture (lost, or sent before the capture started)".format(unpaired))
    negative = sum(1 for s in samples if s < 0)
    if negative:
        run.warn("wire-to-wire: {} orders were captured before their market data (reordered "
                 "capture timestamps)".format(negative))
    block = dict(cap, source=rel, frames=dict(sorted(sink.frames.items())),
                 malformed_frames=sink.malformed_count, malformed=sink.malformed,
                 orders=len(sink.orders), paired=len(rows), unpaired_orders=unpaired,
                 orders_without_md_timestamp=no_md, drops=drops)
    return block, np.array(samples, dtype=np.int64), rows


def write_wire_rows(rows, out_dir):
    path = os.path.join(out_dir, "wire_to_wire.csv")
    text = "cl_ord_id,md_timestamp_ns,md_capture_ns,order_capture_ns,wire_to_wire_ns\n" + \
        "".join("{},{},{},{},{}\n".format(*r) for r in rows)
    write_atomically(path, text)


# ---------------------------------------------------------------------------------------------
# System, logs, manifest

def read_small(run, rel, limit=1 << 20):
    f = run.open_text(rel)
    if f is None:
        return None
    try:
        with f:
            return f.read(limit)
    except OSError as e:
        run.unusable(rel, "read error: {}".format(e.strerror))
        return None


def system_block(run):
    out = {"cmdline": None, "tuning": {}, "cpu": {}, "versions": []}
    cmdline = read_small(run, "system/cmdline.txt")
    if cmdline is not None:
        out["cmdline"] = cmdline.strip()
        for token in cmdline.split():
            key, _, value = token.partition("=")
            if key in KERNEL_TUNING:
                out["tuning"][key] = value if value else True
    lscpu = read_small(run, "system/lscpu.txt")
    for line in (lscpu or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in LSCPU_FIELDS:
            out["cpu"][key.strip()] = value.strip()
    versions = read_small(run, "system/versions.txt")
    out["versions"] = [v.strip() for v in (versions or "").splitlines() if v.strip()][:30]
    return out


def logs_block(run):
    out = {}
    for rel in ("logs/hftd.log", "logs/exchange-sim.log"):
        f = run.open_text(rel)
        if f is None:
            continue
        counts = {"lines": 0, "errors": 0, "warnings": 0}
        try:
            with f:
                for line in f:
                    counts["lines"] += 1
                    low = line.lower()
                    if "[error]" in low or "[critical]" in low:
                        counts["errors"] += 1
                    elif "[warning]" in low or "[warn]" in low:
                        counts["warnings"] += 1
        except OSError as e:
            run.unusable(rel, "read error: {}".format(e.strerror))
            continue
        out[rel] = counts
    return out


def manifest_block(run, verify):
    f = run.open_text(MANIFEST)
    if f is None:
        return {"present": False}
    run.input(MANIFEST)
    entries = []
    with f:
        for lineno, line in enumerate(f, 1):
            match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line.rstrip("\n"))
            rel = match.group(2)[2:] if match and match.group(2).startswith("./") else \
                (match.group(2) if match else None)
            if not match or os.path.isabs(rel) or ".." in rel.split("/"):
                run.bad_row(MANIFEST, lineno, "expected '<sha256>  <relative path>'")
                continue
            entries.append((match.group(1).lower(), rel))
    run.input(MANIFEST)["rows"] = len(entries)
    run.finish_input(MANIFEST)
    out = {"present": True, "entries": len(entries), "verified": None, "mismatched": [],
           "missing": []}
    if not verify:
        return out
    verified = 0
    for digest, rel in entries:
        path = run.path(rel)
        h = hashlib.sha256()
        try:
            with open(path, "rb") as data:
                for chunk in iter(lambda: data.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            out["missing"].append(rel)
            continue
        if h.hexdigest() == digest:
            verified += 1
        else:
            out["mismatched"].append(rel)
    out["verified"] = verified
    if out["mismatched"] or out["missing"]:
        run.warn("{}: {} files differ from their checksum, {} listed files are missing; the "
                 "copy may be incomplete or altered".format(MANIFEST, len(out["mismatched"]),
                                                            len(out["missing"])))
    return out


# ---------------------------------------------------------------------------------------------
# The report

def build_report(data_dir, verify=True):
    """(report dict, samples for the plots). Raises InputError when there is no usable data."""
    if not os.path.exists(data_dir):
        raise InputError("data directory {} does not exist.\n  Pass the directory made by "
                         "scripts/collect_data.sh (it holds session/, exchange/, monitors/)."
                         .format(data_dir))
    if not os.path.isdir(data_dir):
        raise InputError("{} is not a directory.\n  Pass the data directory made by "
                         "scripts/collect_data.sh, not a file in it.".format(data_dir))
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise InputError("cannot read the data directory {}.\n  Check its permissions or run as "
                         "its owner.".format(data_dir))
    run = Run(data_dir)
    plot_data = {"samples": {}, "tick_times": None, "cpu": None, "wire_rows": None}

    wanted = dict(LATENCY_COLUMNS)
    if all(c in latency_header(run) for c in KERNEL_COLUMNS):
        wanted.update(KERNEL_COLUMNS)
    columns = load_int_csv(run, LATENCY_CSV, wanted)
    histograms = {}
    raw_hist = run.load_json(HISTOGRAMS_JSON)
    if raw_hist is not None:
        if isinstance(raw_hist.get("stages"), dict):
            for name, obj in raw_hist["stages"].items():
                summary = summarize_histogram(run, HISTOGRAMS_JSON, name, obj)
                if summary is not None:
                    histograms[name] = summary
        else:
            run.unusable(HISTOGRAMS_JSON, 'no "stages" object')

    stages = {}
    if columns is not None:
        samples, notes = engine_stages_from_samples(run, columns)
        for stage in (s for s in ENGINE_STAGES + KERNEL_STAGES if s in samples):
            stages[stage] = summarize_samples(samples[stage])
            stages[stage].update(notes[stage])
            if stage in histograms:
                stages[stage]["engine_histogram"] = {
                    k: histograms[stage][k] for k in ("count", "p50", "p99", "p99_9", "max")}
        plot_data["samples"].update(samples)
    elif histograms:
        if os.path.isfile(run.path(LATENCY_CSV)):
            run.warn("latency figures come from {} (bucketed, within 1%) because {} has no "
                     "usable rows".format(HISTOGRAMS_JSON, LATENCY_CSV))
    for name, summary in histograms.items():
        if name not in stages and name != "tick_to_trade":
            stages[name] = summary
            plot_data["samples"][name] = summary.get("buckets")

    ticks = load_int_csv(run, TICK_CSV, TICK_COLUMNS)
    exchange_raw = run.load_json(EXCHANGE_JSON)
    if ticks is not None:
        stages["tick_to_trade"] = summarize_samples(ticks["tick_to_trade_ns"])
        plot_data["samples"]["tick_to_trade"] = ticks["tick_to_trade_ns"]
        plot_data["tick_times"] = ticks["recv_ns"]
    elif exchange_raw is not None:
        summary = summarize_exchange_tick(run, exchange_raw)
        if summary is not None:
            stages["tick_to_trade"] = summary
    capture, wire, wire_rows = wire_to_wire(run)
    if wire is not None:
        stages["wire_to_wire"] = summarize_samples(wire)
        stages["wire_to_wire"].update(
            source="capture", unpaired_orders=capture["unpaired_orders"],
            capture_drops=(capture["drops"] or {}).get("packets_dropped_by_kernel"))
        plot_data["samples"]["wire_to_wire"] = wire
        plot_data["wire_rows"] = wire_rows
    for summary in stages.values():
        summary.pop("buckets", None)
    order = {s: i for i, s in enumerate(ALL_STAGES)}
    stages = dict(sorted(stages.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    stats = run.load_json(STATS_JSON)
    session, trading, engine_rates = (session_and_trading(run, stats) if stats is not None
                                      else (None, None, None))
    exchange = exchange_block(run, exchange_raw) if exchange_raw is not None else None
    if capture is not None and "orders" in capture:
        theirs = exchange["orders"] if exchange else None
        capture["exchange_orders_not_captured"] = None if theirs is None else \
            theirs - capture["orders"]
        if capture["exchange_orders_not_captured"]:
            run.warn("the exchange counted {} orders, the capture holds {}: wire-to-wire "
                     "covers {} of them".format(theirs, capture["orders"], capture["paired"]))

    if not stages and stats is None and exchange is None:
        used = [rel for rel in CORE_INPUTS if os.path.isfile(run.path(rel))]
        problems = "; ".join("{}: {}".format(rel, run.inputs[rel]["unusable"])
                             for rel in used if run.inputs.get(rel, {}).get("unusable"))
        hint = ""
        if os.path.isfile(os.path.join(data_dir, "latency.csv")) or \
                os.path.isfile(os.path.join(data_dir, "stats.json")):
            hint = "\n  {} looks like a session directory: pass the data directory that " \
                   "holds it as session/.".format(data_dir)
        raise InputError(
            "no usable data in {}: none of {} could be used ({}).{}\n  Check that "
            "scripts/collect_data.sh ran to the end and copied the engine's session directory "
            "and the exchange's statistics; docs/data-format.md describes the layout."
            .format(data_dir, ", ".join(CORE_INPUTS),
                    problems if problems else "all are missing", hint))

    cpu = cpu_summary(run)
    if cpu is not None:
        plot_data["cpu"] = cpu["series"]
    session_files = {}
    for name in ("journal.bin", "latency.csv"):
        path = run.path("session/" + name)
        if os.path.isfile(path):
            session_files[name] = {"bytes": os.path.getsize(path)}
    report = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": "scripts/analyze_results.py",
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "data_dir": os.path.abspath(data_dir),
        "session": session,
        "session_files": session_files,
        "latency": {"unit": "ns", "percentile_method": "nearest-rank", "stages": stages,
                    "views": three_views(stages)},
        "throughput": {"engine_stats": engine_rates, "hftctl": hftctl_throughput(run)},
        "trading": trading,
        "exchange": exchange,
        "capture": capture,
        "consistency": consistency_block(trading, exchange),
        "cpu": cpu,
        "threads": thread_summary(run),
        "vmstat": vmstat_summary(run),
        "system": system_block(run),
        "logs": logs_block(run),
        "manifest": manifest_block(run, verify),
        "plots": [],
        "inputs": {},
        "missing": [rel for rel in EXPECTED_FILES if not os.path.isfile(run.path(rel))],
        "warnings": run.warnings,
    }
    report["inputs"] = {rel: run.inputs[rel] for rel in sorted(run.inputs)}
    return report, plot_data


def fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float):
        return "{:.{}f}".format(value, digits)
    return str(value)


def render_text(report, out_dir):
    lines = ["hft run analysis: {}".format(report["data_dir"])]
    session = report["session"]
    if session:
        lines.append("session {}  state {}  duration {} s".format(
            session["session_id"] or "?", session["state"] or "?", fmt(session["duration_s"])))
    lines += ["", "Latency (ns, exact nearest-rank percentiles unless the source says otherwise)",
              "{:<23}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>10}{:>11}  {}".format(
                  "stage", "count", "min", "p50", "p90", "p95", "p99", "p99.9", "max", "mean",
                  "source")]
    for stage, s in report["latency"]["stages"].items():
        lines.append("{:<23}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>9}{:>10}{:>11}  {}".format(
            stage, fmt(s["count"]), fmt(s["min"]), fmt(s["p50"]), fmt(s["p90"]), fmt(s["p95"]),
            fmt(s["p99"]), fmt(s["p99_9"]), fmt(s["max"]), fmt(s["mean"]), s["source"]))
    views = report["latency"].get("views") or []
    if any(v["count"] for v in views):
        lines += ["", "Three views of the same orders (ns)",
                  "{:<8}{:<24}{:>9}{:>9}{:>9}{:>10}  {}".format(
                      "view", "stage", "count", "p50", "p99", "max", "measures")]
        for v in views:
            lines.append("{:<8}{:<24}{:>9}{:>9}{:>9}{:>10}  {}".format(
                v["view"], v["stage"], fmt(v["count"]), fmt(v["p50"]), fmt(v["p99"]),
                fmt(v["max"]), v["measures"]))
    rates, live = report["throughput"]["engine_stats"], report["throughput"]["hftctl"]
    lines.append("")
    if rates:
        lines.append("Throughput (stats.json): {} {}/s, orders {}/s".format(
            rates["md_counter"], fmt(rates["md_msgs_per_s"]), fmt(rates["orders_per_s"])))
    if live and live["md_msgs_per_s"]:
        lines.append("Throughput (hftctl, {} intervals): {} mean {}/s max {}/s, orders mean "
                     "{}/s max {}/s".format(live["intervals"], live["md_counter"],
                                            fmt(live["md_msgs_per_s"]["mean"]),
                                            fmt(live["md_msgs_per_s"]["max"]),
                                            fmt(live["orders_per_s"]["mean"]),
                                            fmt(live["orders_per_s"]["max"])))
    trading = report["trading"]
    if trading:
        lines.append("Trading: orders {}, fills {} (ratio {}), rejects {}, risk rejects {}, "
                     "cancels {}".format(fmt(trading["orders_sent"]), fmt(trading["fills"]),
                                         fmt(trading["fill_ratio"], 4), fmt(trading["rejects"]),
                                         fmt(trading["risk_rejects"]), fmt(trading["cancels"])))
        for sym in trading["symbols"]:
            lines.append("  symbol {}: position {}, realized {}, unrealized {}".format(
                sym["symbol_id"], fmt(sym["position"]), sym["realized_pnl"],
                sym["unrealized_pnl"]))
        lines.append("  PnL total {} (realized {}, unrealized {})".format(
            trading["pnl"]["total"], trading["pnl"]["realized"], trading["pnl"]["unrealized"]))
    c = report["consistency"]
    verdict = {True: "consistent", False: "MISMATCH", None: "cannot tell (a side is missing)"}
    lines.append("Engine vs exchange: orders {} / {}, fills {} / {}: {}".format(
        fmt(c["orders"]["engine"]), fmt(c["orders"]["exchange"]), fmt(c["fills"]["engine"]),
        fmt(c["fills"]["exchange"]), verdict[c["consistent"]]))
    cap = report["capture"]
    if cap:
        drops = cap.get("drops") or {}
        if "packets" in cap:
            lines.append("Capture: {} packets, {} orders, {} paired with their market data, {} "
                         "unpaired, {} malformed frames; dropped by kernel {}{}".format(
                             cap["packets"], cap["orders"], cap["paired"],
                             cap["unpaired_orders"], cap["malformed_frames"],
                             fmt(drops.get("packets_dropped_by_kernel")),
                             ", LIMIT REACHED" if drops.get("limit_reached") else ""))
        else:
            lines.append("Capture: no usable {}; dropped by kernel {}".format(
                CAPTURE_PCAP, fmt(drops.get("packets_dropped_by_kernel"))))
    cpu = report["cpu"]
    if cpu:
        lines.append("CPU %busy mean/max: " + "  ".join(
            "cpu{} {}/{}".format(core["cpu"], fmt(core["mean_busy"]), fmt(core["max_busy"]))
            for core in cpu["per_core"]))
    threads = report["threads"]
    if threads and threads["threads"]:
        lines.append("Busiest threads (%CPU mean, CPUs): " + ", ".join(
            "{} {} {}".format(t["command"], fmt(t["mean_cpu"]), t["cpus"])
            for t in threads["threads"][:6]))
    if report["missing"]:
        lines += ["", "Missing files: " + ", ".join(report["missing"])]
    if report["warnings"]:
        lines += ["", "Warnings:"] + ["  " + w for w in report["warnings"]]
    lines += ["", "Outputs in {}: report.json, report.txt{}".format(
        out_dir, "".join(", " + p for p in report["plots"]))]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Plots

def make_plots(report, plot_data, out_dir):
    """Writes the PNGs and returns their names; a plotting failure is a warning, not an exit."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        report["warnings"].append("plots skipped: matplotlib is not installed for this "
                                  "interpreter (Debian: apt install python3-matplotlib)")
        return []
    written = []
    jobs = [("latency_{}.png".format(re.sub(r"[^A-Za-z0-9_]", "_", stage)),
             lambda ax, s=stage: plot_distribution(ax, s, plot_data["samples"][s],
                                                   report["latency"]["stages"][s]))
            for stage in report["latency"]["stages"] if plot_data["samples"].get(stage)
            is not None and len(plot_data["samples"][stage])]
    if plot_data["tick_times"] is not None:
        jobs.append(("tick_to_trade_over_time.png",
                     lambda ax: plot_over_time(ax, plot_data["tick_times"],
                                               plot_data["samples"]["tick_to_trade"])))
    if plot_data["cpu"]:
        jobs.append(("cpu_per_core.png", lambda ax: plot_cpu(ax, plot_data["cpu"])))
    if plot_data["samples"].get("wire_to_wire") is not None and \
            len(plot_data["samples"]["wire_to_wire"]):
        jobs.append(("wire_to_wire_vs_tick_to_trade.png",
                     lambda ax: plot_outside_views(ax, plot_data["samples"], report)))
    for name, draw in jobs:
        fig, ax = plt.subplots(figsize=(9, 4.8))
        try:
            draw(ax)
            # Fixed margins: tight_layout measures every log-scale minor tick and is slow.
            fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.12)
            fig.savefig(os.path.join(out_dir, name), dpi=100)
            written.append(name)
        except (ValueError, OverflowError, OSError) as e:
            report["warnings"].append("plot {} not written: {}".format(name, e))
        finally:
            plt.close(fig)
    return written


def plot_distribution(ax, stage, data, summary):
    if summary["source"] == "histogram":
        # Each engine bucket (under 1% wide) goes whole into the log bin of its middle.
        buckets = np.array(data, dtype=np.float64).reshape(-1, 3)
        values, weights = (buckets[:, 0] + buckets[:, 1]) / 2, buckets[:, 2]
        title = "{}: {} samples (from the engine's histogram buckets)".format(
            stage, summary["count"])
    else:
        values, weights = data, None
        title = "{}: {} samples".format(stage, summary["count"])
    positive = values > 0
    zeros = int(np.sum(weights[~positive]) if weights is not None else np.sum(~positive))
    if positive.any():
        low, high = float(values[positive].min()), float(values[positive].max())
        if high <= low * 1.01:
            low, high = low / 1.5, high * 1.5
        bins = np.logspace(math.log10(low), math.log10(high), 80)
        ax.hist(values[positive], bins=bins, color="tab:blue", histtype="stepfilled",
                weights=None if weights is None else weights[positive])
    if zeros:
        title += " ({} zero values not shown)".format(zeros)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for key, label, colour in (("p50", "p50", "tab:green"), ("p99", "p99", "tab:orange"),
                               ("p99_9", "p99.9", "tab:red")):
        if summary.get(key):
            ax.axvline(summary[key], color=colour, linestyle="--",
                       label="{} = {} ns".format(label, summary[key]))
    ax.set_title(title)
    ax.set_xlabel("latency (ns, log scale)")
    ax.set_ylabel("samples (log scale)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")


def plot_over_time(ax, times, values):
    t = (times - times.min()) / 1e9
    step = max(1, values.size // MAX_SCATTER_POINTS)
    ax.scatter(t[::step], values[::step], s=2, alpha=0.4, color="tab:blue",
               label="orders" + (" (every {}th)".format(step) if step > 1 else ""))
    second = np.floor(t).astype(np.int64)
    order = np.lexsort((values, second))
    seconds, starts = np.unique(second[order], return_index=True)
    ends = list(starts[1:]) + [values.size]
    sorted_values = values[order]
    for key, num, den, colour in (("p50", 1, 2, "tab:green"), ("p99", 99, 100, "tab:red")):
        per_second = [sorted_values[s + rank_of(num, den, e - s) - 1] for s, e in zip(starts, ends)]
        ax.plot(seconds + 0.5, per_second, marker="o", markersize=3, color=colour,
                label=key + " per second")
    if values.size and values.min() > 0:
        ax.set_yscale("log")
    ax.set_title("Tick-to-trade at the exchange over the run")
    ax.set_xlabel("seconds since the first order")
    ax.set_ylabel("tick-to-trade (ns)")
    ax.legend(loc="upper right")


def plot_outside_views(ax, samples, report):
    """Cumulative distributions of the same path seen by the capture, the exchange and hftd."""
    stages = report["latency"]["stages"]
    for stage, label, colour in (("wire_to_wire", "wire-to-wire (capture)", "tab:blue"),
                                 ("tick_to_trade", "tick-to-trade (exchange)", "tab:red"),
                                 ("rx_to_sent", "rx_to_sent (hftd)", "tab:green")):
        data = samples.get(stage)
        # Histogram sources hold buckets, not samples: no exact curve to draw from them.
        exact = stages.get(stage, {}).get("source") in ("samples", "capture")
        if data is None or not exact or not len(data):
            continue
        ordered = np.sort(np.maximum(np.asarray(data, dtype=np.float64), 1.0))
        step = max(1, ordered.size // MAX_SCATTER_POINTS)
        y = np.arange(1, ordered.size + 1) / ordered.size
        ax.step(ordered[::step], y[::step], where="post", color=colour,
                label="{} p50 {} ns".format(label, stages[stage]["p50"]))
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_title("Market data to order: capture, exchange and engine views")
    ax.set_xlabel("latency (ns, log scale)")
    ax.set_ylabel("fraction of orders")
    ax.legend(loc="lower right")


def plot_cpu(ax, series):
    cores = [c for c in series if c != "all"]
    if len(cores) > 16:
        times = sorted({t for c in cores for t, _ in series[c]})
        index = {t: i for i, t in enumerate(times)}
        grid = np.full((len(cores), len(times)), np.nan)
        for row, core in enumerate(cores):
            for t, busy in series[core]:
                grid[row, index[t]] = busy
        image = ax.imshow(grid, aspect="auto", interpolation="nearest", vmin=0, vmax=100,
                          extent=(times[0], times[-1] + 1, len(cores) - 0.5, -0.5))
        ax.figure.colorbar(image, ax=ax, label="% busy")
        ax.set_ylabel("CPU")
    else:
        for core in cores:
            ax.plot([p[0] for p in series[core]], [p[1] for p in series[core]],
                    label="cpu" + core)
        if "all" in series:
            ax.plot([p[0] for p in series["all"]], [p[1] for p in series["all"]], "k--",
                    label="all")
        ax.set_ylim(-2, 125)  # headroom keeps the legend off a core pinned at 100%
        ax.set_ylabel("% busy (100 - %idle)")
        ax.legend(loc="upper center", fontsize="small", ncol=min(len(cores) + 1, 9))
    ax.set_title("CPU busy per core (mpstat)")
    ax.set_xlabel("seconds since the first sample")


# ---------------------------------------------------------------------------------------------
# Output

def write_atomically(path, text):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; the report is for everyone who can read it
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_outputs(report, plot_data, out_dir, plots, json_only):
    try:
        os.makedirs(out_dir, exist_ok=True)
        if plot_data.get("wire_rows") is not None:
            write_wire_rows(plot_data["wire_rows"], out_dir)
        if plots and not json_only:
            report["plots"] = make_plots(report, plot_data, out_dir)
        text = render_text(report, out_dir)
        write_atomically(os.path.join(out_dir, "report.json"),
                         json.dumps(report, indent=2, allow_nan=False) + "\n")
        if not json_only:
            write_atomically(os.path.join(out_dir, "report.txt"), text)
    except OSError as e:
        raise OutputError("cannot write the report to {}: {}.\n  Pass --out with a writable "
                          "directory.".format(e.filename or out_dir, e.strerror or e))
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="analyze_results.py",
        description="Analyse a data directory made by scripts/collect_data.sh: latency per "
                    "stage, throughput, trading summary, engine/exchange consistency and CPU "
                    "per core. See docs/data-format.md.")
    parser.add_argument("data_dir", metavar="DATA_DIR", help="the collected data directory")
    parser.add_argument("--out", metavar="DIR",
                        help="output directory (default: DATA_DIR/analysis)")
    parser.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    parser.add_argument("--json-only", action="store_true",
                        help="write only report.json and print it instead of the text report")
    parser.add_argument("--no-verify", action="store_true",
                        help="do not check files against MANIFEST.sha256")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if np is None:
        sys.stderr.write("{}: error: numpy is not available to {}.\n  Run the script with "
                         "/usr/bin/python3 (Debian: apt install python3-numpy python3-"
                         "matplotlib).\n".format(PROG, sys.executable))
        return EXIT_OUTPUT
    out_dir = args.out or os.path.join(args.data_dir, "analysis")
    try:
        report, plot_data = build_report(args.data_dir, verify=not args.no_verify)
        text = write_outputs(report, plot_data, out_dir, not args.no_plots, args.json_only)
    except InputError as e:
        sys.stderr.write("{}: error: {}\n".format(PROG, e))
        return EXIT_INPUT
    except OutputError as e:
        sys.stderr.write("{}: error: {}\n".format(PROG, e))
        return EXIT_OUTPUT
    for warning in report["warnings"]:
        sys.stderr.write("{}: warning: {}\n".format(PROG, warning))
    if args.json_only:
        sys.stdout.write(json.dumps(report, indent=2, allow_nan=False) + "\n")
    else:
        sys.stdout.write(text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

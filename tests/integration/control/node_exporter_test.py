#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# hftctl's metrics through the real node_exporter: hftctl writes the textfile from
# hftd-fake-control, node_exporter (on 127.0.0.1 only) serves it, and /metrics equals
# `hftctl stats --json` series by series.
# RealHftdTest does the same against a real hftd that traded a session with exchange-sim.
"""Usage: node_exporter_test.py (HFTCTL, HFTD_FAKE_CONTROL, HFTD, EXCHANGE_SIM and NODE_EXPORTER
name the binaries; PYTHONPATH holds hftproc). Exits 77 (skipped) when NODE_EXPORTER is not
installed."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hftctl_test import FakeDaemon  # noqa: E402
from hftproc import (HFTCTL, ProcCase, Proc, end_process, hftctl, start_exchange,  # noqa: E402
                     stats, wait_for)

NODE_EXPORTER = os.environ.get("NODE_EXPORTER", "prometheus-node-exporter")
DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs",
                         "grafana", "hft.json")
STATES = ("idle", "connecting", "trading", "stopping", "disconnected")
# stats JSON counter -> metric (docs/control.md, "Metrics").
COUNTERS = {
    "rx_packets": "hft_rx_packets_total", "rx_messages": "hft_rx_messages_total",
    "md_messages": "hft_md_messages_total", "md_gaps": "hft_md_gaps_total",
    "malformed_frames": "hft_malformed_frames_total",
    "orders_sent": "hft_orders_sent_total", "acks": "hft_order_acks_total",
    "fills": "hft_fills_total", "partial_fills": "hft_partial_fills_total",
    "risk_rejects": "hft_risk_rejects_total",
    "cancels": "hft_cancels_total", "expired": "hft_orders_expired_total",
    "reconnects": "hft_reconnects_total", "cancel_rejects": "hft_cancel_rejects_total",
    "unsent_orders": "hft_unsent_orders_total",
    "dropped_records": "hft_dropped_records_total",
    "write_errors": "hft_write_errors_total",
    "journal_records": "hft_journal_records_total", "journal_lost": "hft_journal_lost_total",
    "latency_samples_lost": "hft_latency_samples_lost_total",
    "md_recording_lost": "hft_md_recording_lost_total",
    "orders_held": "hft_orders_held_total",
}
# The reasons of the wire protocol's reject_reason (docs/protocol.md): rejects_<reason> in the
# stats JSON, hft_order_rejects_total{reason="<reason>"} in the metrics.
REJECT_REASONS = ("unknown_symbol", "invalid_price", "invalid_quantity", "duplicate_cl_ord_id",
                  "unknown_order", "not_logged_on", "invalid_side_or_tif", "throttled", "other")
GAUGES = {key: "hft_" + key for key in (
    "journal_unwritten", "journal_complete", "disk_full",
    "risk_max_order_qty", "risk_max_position", "risk_max_open_orders",
    "risk_max_orders_per_second", "risk_price_band_bps")}
SECONDS = {"session_started_ns": "hft_session_start_time_seconds",
           "session_ended_ns": "hft_session_end_time_seconds",
           "uptime_ns": "hft_uptime_seconds"}
QUANTILES = (("0", "min"), ("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"),
             ("0.999", "p99_9"), ("1", "max"))

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def unescape(value):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def parse_exposition(text):
    """({(name, frozenset(labels)): value}, {name: type}) for the hft_ series and TYPE lines."""
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE hft_"):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if not line.startswith("hft_"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("not a sample line: " + line)
        labels = frozenset((k, unescape(v)) for k, v in LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        if key in series:
            raise AssertionError("series twice: " + line)
        series[key] = float(m.group(3))
    return series, types


def expected_series(stats):
    """The series hftctl's textfile must give for one `hftctl stats --json` document."""
    s = {}

    def put(name, value, **labels):
        s[(name, frozenset(labels.items()))] = float(value)

    put("hft_link_up", stats["state"] == "trading")
    for state in STATES:
        put("hft_engine_state", stats["state"] == state, state=state)
    put("hft_kill_switch", stats["kill_switch"])
    put("hft_session_info", 1, session_id=stats["session_id"])
    for key, name in SECONDS.items():
        put(name, stats[key] / 1e9)
    for key, name in {**COUNTERS, **GAUGES}.items():
        put(name, stats[key])
    for reason in REJECT_REASONS:
        put("hft_order_rejects_total", stats["rejects_" + reason], reason=reason)
    unreported = stats["rejects"] - sum(stats["rejects_" + r] for r in REJECT_REASONS)
    if unreported > 0:
        put("hft_order_rejects_total", unreported, reason="unreported")
    for sym in stats["symbols"]:
        sid = str(sym["symbol_id"])
        put("hft_position", sym["position"], symbol_id=sid)
        put("hft_realized_pnl", sym["realized_pnl"], symbol_id=sid)
        put("hft_unrealized_pnl", sym["unrealized_pnl"], symbol_id=sid)
        put("hft_mid_price", sym["mid"], symbol_id=sid)
    for stage, lat in stats["latency"].items():
        for quantile, key in QUANTILES:
            put("hft_latency_seconds", lat[key] / 1e9, stage=stage, quantile=quantile)
        put("hft_latency_seconds_sum", lat["mean"] * lat["count"] / 1e9, stage=stage)
        put("hft_latency_seconds_count", lat["count"], stage=stage)
    return s


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_node_exporter(textdir):
    """node_exporter on 127.0.0.1 serving only the textfile collector of `textdir`, once it
    listens: (its Proc, its port)."""
    # A free port may be taken between the probe and the bind: then try another.
    for _ in range(5):
        port = free_port()
        exporter = Proc([NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
                         "--collector.disable-defaults", "--collector.textfile",
                         "--collector.textfile.directory=" + textdir])
        _, line, found = exporter.wait_until(
            lambda text: ("Listening on" in text and "ok")
            or ("address already in use" in text and "busy"), 20, 0,
            "node_exporter did not start")
        if found == "ok":
            return exporter, port
        exporter.stop()
    raise AssertionError("node_exporter found no free port on 127.0.0.1")


def scrape(port):
    # No proxy whatever the environment says: loopback only.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        return reply.read().decode()


def check_scrape_equals(case, port, stats):
    """/metrics on `port` carries exactly the hft_ series of `stats`, with their types."""
    text = scrape(port)
    case.assertIn("\nnode_textfile_scrape_error 0\n", text)
    series, types = parse_exposition(text)
    expected = expected_series(stats)
    missing = set(expected) - set(series)
    extra = set(series) - set(expected)
    case.assertFalse(missing or extra, f"missing {sorted(map(str, missing))}, "
                     f"unexpected {sorted(map(str, extra))}")
    for key, value in expected.items():
        case.assertEqual(series[key], value, key)
    for name in [*COUNTERS.values(), "hft_order_rejects_total"]:
        case.assertEqual(types[name], "counter", name)
    case.assertEqual(types["hft_latency_seconds"], "summary")
    case.assertEqual(types["hft_position"], "gauge")


class NodeExporterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hft-node-exporter-")
        os.chmod(cls.dir, 0o755)
        cls.textdir = os.path.join(cls.dir, "textfile")
        os.mkdir(cls.textdir)
        cls.daemon = None
        cls.exporter = None
        try:
            cls.daemon = FakeDaemon(cls.dir)
            cls.start_exporter()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_exporter(cls):
        cls.exporter, cls.port = start_node_exporter(cls.textdir)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.exporter is not None:
                cls.exporter.stop()
            if cls.daemon is not None:
                cls.daemon.stop()
        finally:
            shutil.rmtree(cls.dir, ignore_errors=True)

    def ctl(self, *args):
        r = subprocess.run([HFTCTL, "--socket", self.daemon.socket, *args],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def check_scrape_equals(self, stats):
        check_scrape_equals(self, self.port, stats)

    def test_textfile_served_by_node_exporter_equals_stats_json(self):
        path = os.path.join(self.textdir, "hft.prom")
        self.ctl("stats", "--textfile", path)
        stats = json.loads(self.ctl("--json", "stats"))
        self.assertTrue(stats["symbols"] and stats["latency"])
        self.check_scrape_equals(stats)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)

    def test_watch_replaces_the_textfile_by_rename_every_refresh(self):
        path = os.path.join(self.textdir, "hft.prom")
        self.ctl("start-session")  # a session id and state trading in the metrics
        proc = subprocess.Popen(
            [HFTCTL, "--socket", self.daemon.socket, "--json", "stats", "--watch", "0.2",
             "--textfile", path], stdout=subprocess.PIPE, text=True,
            preexec_fn=lambda: os.umask(0o077))
        try:
            # A line on stdout is the event: the textfile of that refresh is in place.
            inodes = []
            for _ in range(3):
                stats = json.loads(proc.stdout.readline())
                inodes.append(os.stat(path).st_ino)
            self.assertEqual(stats["state"], "trading")
            self.check_scrape_equals(stats)
        finally:
            end_process(proc, lambda p: p.terminate(), timeout=10)
            proc.stdout.close()
            self.ctl("stop-session")
        self.assertEqual(proc.returncode, 0)
        self.assertGreater(len(set(inodes)), 1, "the file was rewritten in place")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644, "umask must not hide it")
        self.assertEqual(os.listdir(self.textdir), ["hft.prom"], "a temporary file was left")

    def test_openmetrics_format_ends_with_eof_and_types_counter_families(self):
        text = self.ctl("stats", "--format", "openmetrics")
        self.assertTrue(text.endswith("\n# EOF\n"))
        self.assertIn("# TYPE hft_orders_sent counter\nhft_orders_sent_total ", text.replace(
            "# HELP hft_orders_sent Orders sent to the exchange.\n", ""))
        self.assertIn("# UNIT hft_latency_seconds seconds\n", text)
        prom = self.ctl("stats", "--format", "prometheus")
        self.assertEqual(parse_exposition(text)[0], parse_exposition(prom)[0])

    def test_grafana_dashboard_queries_only_exported_metrics(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        exported = {name for name, _ in parse_exposition(
            self.ctl("stats", "--format", "prometheus"))[0]}
        used = set()
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                used |= set(re.findall(r"\bhft_[a-z0-9_]+", target["expr"]))
        for variable in dashboard["templating"]["list"]:
            used |= set(re.findall(r"\bhft_[a-z0-9_]+", variable.get("definition", "")))
        self.assertTrue(used)
        self.assertEqual(used - exported, set(), "the dashboard names metrics hftctl lacks")
        ids = [panel["id"] for panel in dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")


class RealHftdTest(ProcCase):
    """A real hftd trades a session with exchange-sim; after stop-session its counters hold
    still, and the textfile hftctl writes, as node_exporter serves it, equals the stats JSON
    of the same refresh."""

    tmp_prefix = "hft-node-exporter-hftd-"

    def test_real_hftd_metrics_through_node_exporter_equal_stats_json(self):
        os.chmod(self.tmp, 0o755)
        textdir = os.path.join(self.tmp, "textfile")
        os.mkdir(textdir)
        exporter, port = start_node_exporter(textdir)
        self.procs.append(exporter)
        # The exchange throttles at one order a second: some orders come back rejected with
        # reason 8, which hftd must count as rejects_throttled and hftctl label "throttled".
        config = os.path.join(self.tmp, "exchange-sim.toml")
        with open(config, "w") as f:
            f.write("[orders]\nmax_orders_per_sec = 1\n")
        exchange, xport, _ = start_exchange(self.tmp, extra=["--config", config])
        self.procs.append(exchange)
        self.start_hftd(xport, "--start-session")

        def traded_and_throttled():
            s = stats(self.sock)
            return s["fills"] > 0 and s["rejects_throttled"] > 0 and s["state"] == "trading"
        wait_for(traded_and_throttled, "hftd to trade, fill and be throttled")
        hftctl(self.sock, "stop-session")
        wait_for(lambda: stats(self.sock)["state"] == "idle", "hftd to be idle")
        path = os.path.join(textdir, "hft.prom")
        # One refresh a minute: the file cannot change between the line read and the scrape.
        proc = subprocess.Popen([HFTCTL, "--socket", self.sock, "--json", "stats", "--watch",
                                 "60", "--textfile", path], stdout=subprocess.PIPE, text=True)
        try:
            doc = json.loads(proc.stdout.readline())
            self.assertGreater(doc["orders_sent"], 0)
            self.assertGreater(doc["fills"], 0)
            self.assertTrue(doc["symbols"] and doc["latency"], doc)
            self.assertTrue(doc["session_id"])
            self.assertGreater(doc["rejects_throttled"], 0)
            self.assertEqual(doc["rejects"], sum(doc["rejects_" + r] for r in REJECT_REASONS))
            check_scrape_equals(self, port, doc)
        finally:
            end_process(proc, lambda p: p.terminate(), timeout=10)
            proc.stdout.close()
        self.assertEqual(proc.returncode, 0)


if __name__ == "__main__":
    if shutil.which(NODE_EXPORTER) is None:
        print(f"{NODE_EXPORTER} not found (apt-get install prometheus-node-exporter): skipped")
        sys.exit(77)
    sys.stdout.reconfigure(line_buffering=True)
    unittest.main(verbosity=2)

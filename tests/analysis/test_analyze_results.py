#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scripts/analyze_results.py against synthetic data directories with known figures.

Run: /usr/bin/python3 tests/analysis/test_analyze_results.py
Set HFT_REAL_DATA_DIR to a directory made by scripts/collect_data.sh to check it too.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("HFT_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(SOURCE_ROOT, "scripts", "analyze_results.py")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ENGINE_STAGES = ("md_wire", "rx_to_decoded", "decoded_to_book", "book_to_decided",
                 "decided_to_sent", "rx_to_sent")

sys.path.insert(0, HERE)
import synthetic_data  # noqa: E402


def load_script_module():
    spec = importlib.util.spec_from_file_location("analyze_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


analyze = load_script_module()


def run_script(*args):
    return subprocess.run([sys.executable, SCRIPT] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=100)


_base = {}


def base_report():
    """The report on the untouched synthetic directory, made once for the tests that only read."""
    if not _base:
        root = tempfile.mkdtemp(prefix="hft-analysis-base-")
        _base["root"] = root
        synthetic_data.write_data_dir(os.path.join(root, "data"))
        result = run_script(os.path.join(root, "data"), "--out", os.path.join(root, "out"),
                            "--no-plots")
        if result.returncode != 0:
            raise AssertionError("analysis of the synthetic directory failed: " + result.stderr)
        with open(os.path.join(root, "out", "report.json")) as f:
            _base["report"] = json.load(f)
    return _base["report"]


def tearDownModule():
    if _base:
        shutil.rmtree(_base["root"], ignore_errors=True)


class Fixture(unittest.TestCase):
    """A fresh synthetic data directory per test, under one temporary root."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="hft-analysis-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.data = os.path.join(self.root, "data")
        self.out = os.path.join(self.root, "out")

    def make(self, **kwargs):
        synthetic_data.write_data_dir(self.data, **kwargs)

    def remove(self, *rels):
        for rel in rels:
            os.unlink(os.path.join(self.data, rel))

    def write(self, rel, text):
        synthetic_data.write(self.data, rel, text)

    def analyse(self, *extra, expect=0):
        result = run_script(self.data, "--out", self.out, "--no-plots", *extra)
        self.assertNotIn("Traceback", result.stderr)
        self.assertEqual(result.returncode, expect, result.stderr)
        self.result = result
        if expect != 0:
            return None
        with open(os.path.join(self.out, "report.json")) as f:
            return json.load(f)


class LatencyFromSamples(Fixture):
    def test_stages_have_exact_nearest_rank_figures(self):
        report = base_report()
        self.assertEqual(report["schema_version"], 1)
        stages = report["latency"]["stages"]
        self.assertEqual(list(stages), list(ENGINE_STAGES) + ["tick_to_trade"])
        rx = stages["rx_to_decoded"]
        self.assertEqual(rx["source"], "samples")
        self.assertEqual((rx["count"], rx["min"], rx["max"], rx["mean"]), (1000, 1, 1000, 500.5))
        self.assertEqual((rx["p50"], rx["p90"], rx["p95"], rx["p99"], rx["p99_9"]),
                         (500, 900, 950, 990, 999))
        for stage, k in synthetic_data.STAGE_MULTIPLES:
            s = stages[stage]
            self.assertEqual((s["count"], s["p50"], s["p99"], s["p99_9"], s["max"]),
                             (1000, 500 * k, 990 * k, 999 * k, 1000 * k), stage)
            self.assertEqual(s["mean"], 500.5 * k, stage)

    def test_md_wire_skips_rows_without_a_market_data_timestamp(self):
        wire = base_report()["latency"]["stages"]["md_wire"]
        # 500 odd orders, md_wire = 7i: ranks 250, 450, 475, 495, 500 of 7, 21, ..., 6993.
        self.assertEqual(wire["count"], 500)
        self.assertEqual(wire["excluded_no_md_timestamp"], 500)
        self.assertEqual((wire["min"], wire["p50"], wire["p90"], wire["p95"], wire["p99"],
                          wire["p99_9"], wire["max"], wire["mean"]),
                         (7, 3493, 6293, 6643, 6923, 6993, 6993, 3500.0))

    def test_kernel_stamp_stages_and_the_three_views(self):
        # latency.csv with hftd's kernel columns: kernel_rx = rx - 5i (none for i % 3 == 0),
        # send = decided + 2i, kernel_tx = send + 6i (none for i % 5 == 0).
        self.make()
        path = os.path.join(self.data, "session", "latency.csv")
        with open(path) as f:
            lines = f.read().strip().split("\n")
        out = [lines[0] + ",kernel_rx_ns,send_ns,kernel_tx_ns"]
        for line in lines[1:]:
            v = [int(x) for x in line.split(",")]
            i = v[0] - 100000
            send = v[6] + 2 * i
            out.append(line + ",{},{},{}".format(v[3] - 5 * i if i % 3 else 0, send,
                                                 send + 6 * i if i % 5 else 0))
        self.write("session/latency.csv", "\n".join(out) + "\n")
        synthetic_data.write_manifest(self.data)
        report = self.analyse()
        stages = report["latency"]["stages"]
        self.assertEqual(list(stages), list(ENGINE_STAGES) + [
            "kernel_rx_to_rx", "send_to_kernel_tx", "kernel_rx_to_kernel_tx", "tick_to_trade"])
        k = stages["kernel_rx_to_rx"]
        self.assertEqual((k["count"], k["min"], k["max"], k["excluded_no_kernel_stamp"]),
                         (667, 5, 5000, 333))
        k = stages["send_to_kernel_tx"]
        self.assertEqual((k["count"], k["min"], k["max"], k["excluded_no_kernel_stamp"]),
                         (800, 6, 5994, 200))
        k = stages["kernel_rx_to_kernel_tx"]  # 10i + 9i where both stamps exist
        self.assertEqual((k["count"], k["min"], k["max"]), (533, 19, 18962))
        views = {v["view"]: v for v in report["latency"]["views"]}
        self.assertEqual(views["kernel"]["p50"], k["p50"])
        self.assertEqual(views["user"]["max"], stages["rx_to_sent"]["max"])
        self.assertIsNone(views["wire"]["count"])  # no capture in this directory
        self.assertIn("Three views of the same orders", self.result.stdout)

    def test_engine_histogram_figures_sit_beside_the_exact_ones(self):
        rx = base_report()["latency"]["stages"]["rx_to_decoded"]
        self.assertEqual(rx["engine_histogram"]["p50"], 501)  # top of bucket [500, 501]

    def test_tick_to_trade_comes_from_the_exchange_csv(self):
        tick = base_report()["latency"]["stages"]["tick_to_trade"]
        self.assertEqual(tick["source"], "samples")
        self.assertEqual((tick["count"], tick["min"], tick["p50"], tick["p95"], tick["p99"],
                          tick["p99_9"], tick["max"], tick["mean"]),
                         (1000, 100, 50000, 95000, 99000, 99900, 100000, 50050.0))

    def test_malformed_rows_are_counted_reported_and_left_out(self):
        self.make(extra_latency_lines=["abc,1,0,1,2,3,4,5", "1,2,3", "7,1,0,,2,3,4,5",
                                       "8,1,0,0,0,0,0,0"])
        report = self.analyse()
        info = report["inputs"]["session/latency.csv"]
        self.assertEqual((info["rows"], info["malformed_rows"]), (1000, 4))
        self.assertIn("line 12", info["first_malformed"])
        self.assertTrue(any(w.startswith("skipped 4 malformed rows in session/latency.csv")
                            for w in report["warnings"]))
        self.assertIn("skipped 4 malformed rows in session/latency.csv", self.result.stderr)
        self.assertIn("skipped 4 malformed rows", self.result.stdout)
        self.assertEqual(report["latency"]["stages"]["rx_to_decoded"]["p50"], 500)
        self.assertEqual(report["inputs"]["monitors/hftctl_stats.jsonl"]["malformed_rows"], 1)

    def test_negative_spans_are_flagged(self):
        self.make()
        header = "cl_ord_id,symbol_id,md_timestamp_ns,rx_ns,decoded_ns,book_ns,decided_ns,sent_ns"
        # Row 1: md after rx (skew); row 2: decoded before rx (a clock step).
        self.write("session/latency.csv", header + "\n1,1,2000,1000,1100,1200,1300,1400\n"
                   "2,1,900,1000,990,1200,1300,1400\n")
        report = self.analyse()
        stages = report["latency"]["stages"]
        self.assertEqual(stages["md_wire"]["excluded_negative"], 1)
        self.assertEqual(stages["md_wire"]["count"], 1)
        self.assertEqual(stages["rx_to_decoded"]["negative_clamped"], 1)
        self.assertEqual(stages["rx_to_decoded"]["min"], 0)
        self.assertTrue(any("rx_to_decoded: 1 samples were negative" in w
                            for w in report["warnings"]))


class Fallbacks(Fixture):
    def test_histograms_are_used_without_latency_csv(self):
        self.make()
        self.remove("session/latency.csv")
        report = self.analyse()
        rx = report["latency"]["stages"]["rx_to_decoded"]
        self.assertEqual(rx["source"], "histogram")
        self.assertEqual((rx["count"], rx["p50"], rx["p99"], rx["max"]), (1000, 501, 991, 1000))
        self.assertEqual(rx["p95"], 951)  # the top of bucket [948, 951] that holds rank 950
        self.assertIn("session/latency.csv", report["missing"])

    def test_histograms_are_used_when_latency_csv_has_no_rows(self):
        self.make()
        self.write("session/latency.csv", "cl_ord_id,symbol_id,md_timestamp_ns,rx_ns,"
                   "decoded_ns,book_ns,decided_ns,sent_ns\n")
        report = self.analyse()
        self.assertEqual(report["latency"]["stages"]["md_wire"]["source"], "histogram")
        self.assertTrue(any("has no usable rows" in w for w in report["warnings"]))

    def test_tick_to_trade_falls_back_to_exchange_stats(self):
        self.make()
        self.remove("exchange/tick_to_trade.csv")
        tick = self.analyse()["latency"]["stages"]["tick_to_trade"]
        self.assertEqual(tick["source"], "exchange_stats")
        self.assertEqual((tick["count"], tick["p50"], tick["p99_9"], tick["p95"]),
                         (1000, 50000, 99900, None))


class TradingAndThroughput(Fixture):
    def test_trading_summary(self):
        trading = base_report()["trading"]
        self.assertEqual((trading["orders_sent"], trading["fills"], trading["fill_ratio"],
                          trading["rejects"], trading["risk_rejects"], trading["cancels"]),
                         (1000, 400, 0.4, 5, 2, 100))
        self.assertEqual([(s["symbol_id"], s["position"], s["total_pnl"])
                          for s in trading["symbols"]], [(1, 10, 10.25), (2, -5, -2.0)])
        self.assertEqual(trading["pnl"], {"realized": 9.5, "unrealized": -1.25, "total": 8.25})

    def test_rates_from_stats_and_from_hftctl(self):
        throughput = base_report()["throughput"]
        engine = throughput["engine_stats"]
        self.assertEqual((engine["duration_s"], engine["md_counter"], engine["md_msgs_per_s"],
                          engine["orders_per_s"]), (50.0, "rx_messages", 2000.0, 20.0))
        live = throughput["hftctl"]
        # The idle -> trading interval is left out; the malformed line is skipped.
        self.assertEqual(live["intervals"], 4)
        self.assertEqual(live["md_msgs_per_s"]["mean"], 2000.0)
        self.assertEqual(live["orders_per_s"]["max"], 20.0)

    def test_consistent_when_engine_and_exchange_agree(self):
        c = base_report()["consistency"]
        self.assertEqual(c["orders"], {"engine": 1000, "exchange": 1000, "equal": True})
        self.assertEqual(c["fills"], {"engine": 400, "exchange": 400, "equal": True})
        self.assertIs(c["consistent"], True)

    def test_inconsistent_when_the_exchange_saw_fewer_fills(self):
        self.make(exchange_fills=399)
        report = self.analyse()
        c = report["consistency"]
        self.assertEqual(c["fills"], {"engine": 400, "exchange": 399, "equal": False})
        self.assertIs(c["orders"]["equal"], True)
        self.assertIs(c["consistent"], False)
        self.assertIn("MISMATCH", self.result.stdout)

    def test_consistency_unknown_without_the_exchange_stats(self):
        self.make()
        self.remove("exchange/exchange_stats.json")
        report = self.analyse()
        self.assertIsNone(report["consistency"]["consistent"])
        self.assertIsNone(report["consistency"]["orders"]["exchange"])
        self.assertIn("exchange/exchange_stats.json", report["missing"])


class Monitors(Fixture):
    def test_cpu_per_core_from_mpstat(self):
        cpu = base_report()["cpu"]
        self.assertEqual(base_report()["inputs"]["monitors/mpstat.txt"]["malformed_rows"], 0)
        cores = {c["cpu"]: c for c in cpu["per_core"]}
        self.assertEqual(sorted(cores), [0, 1])
        self.assertEqual((cores[0]["samples"], cores[0]["mean_busy"], cores[0]["max_busy"]),
                         (3, 20.0, 30.0))  # idle 90, 80, 70; 'Average:' lines not counted
        self.assertEqual((cores[1]["mean_busy"], cores[1]["max_busy"]), (100.0, 100.0))
        self.assertEqual(cpu["all"]["mean_busy"], 60.0)
        self.assertEqual(cpu["series"]["0"], [[0, 10.0], [1, 20.0], [2, 30.0]])
        self.assertEqual(cpu["interval_s"], 1)

    def test_mpstat_with_a_12_hour_clock_across_midnight(self):
        run = analyze.Run("/nonexistent")
        text = ["11:59:59 PM  CPU    %usr   %idle", "11:59:59 PM    0   50.00   50.00",
                "12:00:00 AM    0   75.00   25.00", "garbage line"]
        series = analyze.parse_mpstat(run, "m", text)
        self.assertEqual(series["0"], [(0, 50.0), (1, 75.0)])
        self.assertEqual(run.inputs["m"]["malformed_rows"], 1)

    def test_threads_and_their_cpus_from_pidstat(self):
        threads = {t["command"]: t for t in base_report()["threads"]["threads"]}
        self.assertEqual((threads["hft-net"]["mean_cpu"], threads["hft-net"]["cpus"]),
                         (100.0, [1]))
        self.assertEqual((threads["hftd"]["mean_cpu"], threads["hftd"]["cpus"]), (2.0, [0]))

    def test_pidstat_of_hft_monitor_reads_only_its_cpu_section(self):
        # hft-monitor runs `pidstat -t -u -r -w -G ^hftd$` with S_TIME_FORMAT=ISO: three
        # sections a sample; the memory and context-switch rows carry no %CPU.
        self.make()
        cpu = ("UID      TGID       TID    %usr %system  %guest   %wait    %CPU   CPU  Command")
        mem = "UID      TGID       TID  minflt/s  majflt/s     VSZ     RSS   %MEM  Command"
        csw = "UID      TGID       TID   cswch/s nvcswch/s  Command"
        lines = ["Linux 6.1.0 (trader01) \t2026-11-24 \t_x86_64_\t(2 CPU)", ""]
        for t, usage in (("09:30:01", "77.00"), ("09:30:02", "79.00")):
            lines += [t + "  " + cpu,
                      t + "  998      4242         -   99.00    2.00    0.00    0.00  101.00     "
                      "1  hftd",
                      t + "  998         -      4245   %s    1.00    0.00    0.00  %s     1  "
                      "|__hft-net" % (usage, usage), "",
                      t + "  " + mem,
                      t + "  998      4242         -      0.00      0.00  409600   25528   1.25  "
                      "hftd",
                      t + "  998         -      4245      0.00      0.00  409600   25528   1.25  "
                      "|__hft-net", "",
                      t + "  " + csw,
                      t + "  998      4242         -      3.00      0.00  hftd",
                      t + "  998         -      4245     12.00    345.00  |__hft-net", ""]
        self.write("monitors/pidstat.txt", "\n".join(lines) + "\n")
        report = self.analyse()
        threads = {t["command"]: t for t in report["threads"]["threads"]}
        self.assertEqual(list(threads), ["hft-net"])
        self.assertEqual((threads["hft-net"]["samples"], threads["hft-net"]["mean_cpu"],
                          threads["hft-net"]["max_cpu"]), (2, 78.0, 79.0))
        self.assertEqual(report["threads"]["process"]["samples"], 2)
        self.assertEqual(report["inputs"]["monitors/pidstat.txt"]["malformed_rows"], 0)

    def test_vmstat_drops_the_since_boot_line(self):
        vmstat = base_report()["vmstat"]
        self.assertEqual(vmstat["samples"], 2)
        self.assertEqual(vmstat["columns"]["cs"], {"mean": 3000.0, "min": 2000, "max": 4000})

    def test_missing_optional_files_are_listed_not_fatal(self):
        self.make()
        self.remove("monitors/mpstat.txt", "monitors/perf_stat.txt", "logs/hftd.log")
        report = self.analyse()
        for rel in ("monitors/mpstat.txt", "monitors/perf_stat.txt", "logs/hftd.log"):
            self.assertIn(rel, report["missing"])
        self.assertIsNone(report["cpu"])
        self.assertIn("Missing files:", self.result.stdout)


class Outputs(Fixture):
    def test_plots_are_valid_pngs(self):
        self.make()
        result = run_script(self.data)  # default output: DATA_DIR/analysis
        self.assertEqual(result.returncode, 0, result.stderr)
        out = os.path.join(self.data, "analysis")
        expected = ["latency_{}.png".format(s) for s in ENGINE_STAGES + ("tick_to_trade",)]
        expected += ["tick_to_trade_over_time.png", "cpu_per_core.png"]
        with open(os.path.join(out, "report.json")) as f:
            self.assertEqual(sorted(json.load(f)["plots"]), sorted(expected))
        for name in expected:
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC, name)
        with open(os.path.join(out, "report.txt")) as f:
            self.assertEqual(f.read(), result.stdout)

    def test_histogram_fallback_is_plotted_from_buckets(self):
        self.make()
        self.remove("session/latency.csv", "exchange/tick_to_trade.csv", "monitors/mpstat.txt")
        result = run_script(self.data, "--out", self.out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(self.out, "latency_md_wire.png"), "rb") as f:
            self.assertEqual(f.read(8), PNG_MAGIC)
        self.assertFalse(os.path.exists(os.path.join(self.out, "latency_tick_to_trade.png")))

    def test_json_only_prints_the_report_and_writes_nothing_else(self):
        self.make()
        result = run_script(self.data, "--out", self.out, "--json-only")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["schema_version"], 1)
        self.assertEqual(os.listdir(self.out), ["report.json"])

    def test_manifest_is_verified(self):
        self.make()
        self.assertEqual(self.analyse()["manifest"]["mismatched"], [])
        with open(os.path.join(self.data, "session", "stats.json"), "a") as f:
            f.write(" ")
        manifest = self.analyse()["manifest"]
        self.assertEqual(manifest["mismatched"], ["session/stats.json"])
        self.assertGreater(manifest["verified"], 10)

    def test_unwritable_output_exits_1_with_a_message(self):
        self.make()
        with open(self.out, "w") as f:
            f.write("a file, not a directory")
        result = run_script(self.data, "--out", self.out, "--no-plots")
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot write the report", result.stderr)
        self.assertIn("--out", result.stderr)


class BadInput(Fixture):
    def assert_input_error(self, result, *needles):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        for needle in needles:
            self.assertIn(needle, result.stderr)

    def test_missing_directory_exits_2(self):
        missing = os.path.join(self.root, "nowhere")
        self.assert_input_error(run_script(missing), "does not exist", missing,
                                "collect_data.sh")

    def test_empty_directory_exits_2(self):
        os.makedirs(self.data)
        self.assert_input_error(run_script(self.data), "no usable data", "session/latency.csv")

    def test_a_session_directory_passed_by_mistake_gets_a_hint(self):
        self.make()
        self.assert_input_error(run_script(os.path.join(self.data, "session")),
                                "looks like a session directory")

    def test_garbage_everywhere_never_raises(self):
        self.make()
        for directory, _, files in os.walk(self.data):
            for name in files:
                with open(os.path.join(directory, name), "wb") as f:
                    f.write(b"\x00\xff garbage,1,2\n{[\n" * 3)
        self.assert_input_error(run_script(self.data, "--no-plots"), "no usable data")

    def test_garbage_monitors_with_good_session_data_still_report(self):
        self.make()
        for rel in ("monitors/mpstat.txt", "monitors/pidstat.txt", "monitors/vmstat.txt",
                    "monitors/hftctl_stats.jsonl", "session/histograms.json", "MANIFEST.sha256"):
            self.write(rel, "\x00garbage 12:00:00 CPU %idle\n12:00:01 x y\n{\"a\":\n")
        self.write("exchange/exchange_stats.json", '{"orders": "many", "fills": true}')
        report = self.analyse()
        self.assertIsNone(report["cpu"])
        self.assertIsNone(report["consistency"]["consistent"])
        self.assertEqual(report["latency"]["stages"]["rx_to_decoded"]["p50"], 500)


class Percentiles(unittest.TestCase):
    def test_nearest_rank(self):
        import numpy as np
        s = analyze.summarize_samples(np.arange(10, 0, -1, dtype=np.int64))
        self.assertEqual((s["p50"], s["p90"], s["p95"], s["p99"], s["p99_9"]), (5, 9, 10, 10, 10))
        one = analyze.summarize_samples(np.array([42], dtype=np.int64))
        self.assertEqual((one["min"], one["p50"], one["p99_9"], one["max"]), (42, 42, 42, 42))
        self.assertEqual(analyze.summarize_samples(np.array([], dtype=np.int64))["p50"], None)

    def test_ranks_are_integer_exact(self):
        # ceil(99.9 / 100 * 1000) is 1000 in binary floating point; the rank is 999.
        self.assertEqual(analyze.rank_of(999, 1000, 1000), 999)
        self.assertEqual(analyze.rank_of(999, 1000, 10000), 9990)


class RealData(unittest.TestCase):
    """A directory really collected by scripts/collect_data.sh (HFT_REAL_DATA_DIR)."""

    def test_a_real_data_directory(self):
        data = os.environ.get("HFT_REAL_DATA_DIR")
        if not data:
            self.skipTest("HFT_REAL_DATA_DIR is not set: point it at a directory made by "
                          "scripts/collect_data.sh to check a real run")
        out = tempfile.mkdtemp(prefix="hft-analysis-real-")
        self.addCleanup(shutil.rmtree, out, ignore_errors=True)
        result = run_script(data, "--out", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["schema_version"], 1)
        stages = report["latency"]["stages"]
        for stage in ENGINE_STAGES[1:] + ("tick_to_trade",):
            self.assertIn(stage, stages)
            self.assertGreater(stages[stage]["count"], 0, stage)
        for stage in ENGINE_STAGES[1:]:
            s = stages[stage]
            self.assertLessEqual(s["min"], s["p50"])
            self.assertLessEqual(s["p50"], s["p99"])
            self.assertLessEqual(s["p99"], s["max"])
        self.assertIs(report["consistency"]["consistent"], True, report["consistency"])
        self.assertIsNotNone(report["cpu"])
        for name in report["plots"]:
            with open(os.path.join(out, name), "rb") as f:
                self.assertEqual(f.read(8), PNG_MAGIC, name)


if __name__ == "__main__":
    unittest.main(verbosity=2)

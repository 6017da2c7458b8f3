#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scripts/collect_data.sh in direct mode with the built programs: a short run, Ctrl-C, failures.

Run by meson (HFTD, HFTCTL, EXCHANGE_SIM, HFT_SOURCE_ROOT set), or by hand with those set.
HFT_COLLECT_DURATION sets the run's length (default 8 s).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("HFT_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(SOURCE_ROOT, "scripts", "collect_data.sh")
ANALYZE = os.path.join(SOURCE_ROOT, "scripts", "analyze_results.py")
ANALYSIS_TEST = os.path.join(SOURCE_ROOT, "tests", "analysis", "test_analyze_results.py")
PYTHON = "/usr/bin/python3"
DURATION = int(os.environ.get("HFT_COLLECT_DURATION", "8"))

# docs/data-format.md: the collected files (analysis/ is the analysis's own output).
LAYOUT = (
    "system/cmdline.txt", "system/cpuinfo.txt", "system/lscpu.txt", "system/numa.txt",
    "system/hugepages.txt", "system/irq_affinity.txt", "system/nic_stats.txt",
    "system/versions.txt", "system/hftd.toml", "system/exchange-sim.toml",
    "monitors/mpstat.txt", "monitors/vmstat.txt", "monitors/pidstat.txt",
    "monitors/perf_stat.txt", "monitors/hftctl_stats.jsonl",
    "session/latency.csv", "session/histograms.json", "session/stats.json",
    "session/journal.bin",
    "exchange/exchange_stats.json", "exchange/tick_to_trade.csv",
    "logs/hftd.log", "logs/exchange-sim.log",
    "capture/exchange.pcapng", "capture/capture.json", "capture/tcpdump.log",
    "MANIFEST.sha256",
)


def programs_env():
    env = dict(os.environ)
    for name in ("HFTD", "HFTCTL", "EXCHANGE_SIM"):
        if not env.get(name):
            raise unittest.SkipTest("{} is not set: run through meson test".format(name))
    env["HFT_SOURCE_ROOT"] = SOURCE_ROOT
    return env


def started_pids(log_text):
    """{pid: program} of what collect_data.sh says it started."""
    found = {}
    for name, pid in re.findall(r"(hftd|exchange-sim) \(pid (\d+)\)", log_text):
        found[int(pid)] = name
    return found


def children_of(pid):
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(pid)],
                         capture_output=True, text=True).stdout
    kids = {}
    for line in out.splitlines():
        fields = line.split(None, 1)
        if len(fields) == 2:
            kids[int(fields[0])] = fields[1].strip()
    return kids


def still_running(pids):
    """The PIDs of pids ({pid: comm}) that still run the same program."""
    left = []
    for pid, comm in pids.items():
        try:
            with open("/proc/{}/comm".format(pid)) as f:
                now = f.read().strip()
            with open("/proc/{}/stat".format(pid)) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and comm.startswith(now[:15]):
            left.append("{} ({})".format(pid, comm))
    return left


def manifest_check(test, data):
    result = subprocess.run(["sha256sum", "--check", "--strict", "--quiet", "MANIFEST.sha256"],
                            cwd=data, capture_output=True, text=True)
    test.assertEqual(result.returncode, 0, result.stdout + result.stderr)
    with open(os.path.join(data, "MANIFEST.sha256")) as f:
        listed = {line.split("  ", 1)[1].rstrip("\n") for line in f}
    on_disk = set()
    for top, _, files in os.walk(data):
        for name in files:
            on_disk.add(os.path.relpath(os.path.join(top, name), data))
    on_disk.discard("MANIFEST.sha256")
    test.assertEqual(listed, on_disk, "MANIFEST.sha256 must list every file, by relative path")


class CollectDataRun(unittest.TestCase):
    """One short direct-mode run shared by the checks of its result."""

    @classmethod
    def setUpClass(cls):
        cls.env = programs_env()
        cls.tmp = tempfile.mkdtemp(prefix="hft-collect-test-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.result = subprocess.run(
            [SCRIPT, str(DURATION), "--direct", "--out", cls.data], env=cls.env,
            capture_output=True, text=True, timeout=DURATION + 180)
        sys.stderr.write(cls.result.stdout[-3000:] + cls.result.stderr[-3000:])

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("HFT_KEEP_TEST_DATA"):
            sys.stderr.write("kept {}\n".format(cls.tmp))
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.data, rel)

    def test_run_succeeds_and_prints_its_data_directory(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        lines = self.result.stdout.strip().splitlines()
        self.assertEqual(lines[-1], "Data directory: " + self.data)

    def test_progress_is_shown_every_second(self):
        progress = re.findall(r"elapsed +(\d+)s +remaining +(\d+)s +orders (\d+) +fills (\d+)",
                              self.result.stdout)
        self.assertGreaterEqual(len(progress), DURATION - 2, self.result.stdout)
        self.assertGreater(int(progress[-1][2]), 0, "orders must grow during the session")

    def test_layout_of_docs_data_format(self):
        missing = [rel for rel in LAYOUT if not os.path.isfile(self.path(rel))]
        self.assertEqual(missing, [])
        for leftover in ("sessions", "run"):
            self.assertFalse(os.path.exists(self.path(leftover)),
                             "{} is moved into the layout, not left behind".format(leftover))

    def test_system_snapshot_is_filled(self):
        for rel in LAYOUT:
            if rel.startswith("system/"):
                self.assertGreater(os.path.getsize(self.path(rel)), 0, rel)
        with open(self.path("system/versions.txt")) as f:
            versions = f.read()
        for program in ("hftd 0.", "hftctl 0.", "exchange-sim 0.", "kernel: "):
            self.assertIn(program, versions)
        with open(self.path("system/irq_affinity.txt")) as f:
            self.assertIn("default_smp_affinity", f.read())

    def test_monitors_recorded_the_run(self):
        for name in ("mpstat", "vmstat", "pidstat", "perf_stat"):
            rel = "monitors/{}.txt".format(name)
            self.assertGreater(os.path.getsize(self.path(rel)), 0, rel)
        with open(self.path("monitors/mpstat.txt")) as f:
            self.assertIn("%idle", f.read())
        with open(self.path("monitors/pidstat.txt")) as f:
            self.assertIn("hft-net", f.read(), "pidstat -t follows hftd's threads")
        with open(self.path("monitors/hftctl_stats.jsonl")) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        self.assertGreaterEqual(len(lines), 3)
        self.assertIn("trading", [line.get("state") for line in lines])

    def test_session_directory_is_copied(self):
        with open(self.path("session/stats.json")) as f:
            stats = json.load(f)
        self.assertRegex(self.result.stdout, r"session {} started".format(stats["session_id"]))
        self.assertGreater(stats["orders_sent"], 0)
        with open(self.path("session/latency.csv")) as f:
            self.assertTrue(f.readline().startswith("cl_ord_id,"))
        with open(self.path("session/journal.bin"), "rb") as f:
            self.assertEqual(f.read(8), b"HFTJRNL1")

    def test_exchange_statistics_are_collected(self):
        with open(self.path("exchange/exchange_stats.json")) as f:
            stats = json.load(f)
        self.assertGreater(stats["orders"], 0)
        with open(self.path("exchange/tick_to_trade.csv")) as f:
            self.assertEqual(f.readline().strip(), "recv_ns,cl_ord_id,symbol_id,tick_to_trade_ns")

    def test_exchange_link_is_captured(self):
        with open(self.path("capture/capture.json")) as f:
            capture = json.load(f)
        self.assertTrue(capture["captured"], capture)
        self.assertEqual(capture["interface"], "lo")
        self.assertRegex(capture["filter"], r"^tcp port \d+$")
        self.assertEqual(capture["packets_dropped_by_kernel"], 0, capture)
        self.assertFalse(capture["limit_reached"])
        self.assertGreater(capture["packets_captured"], 0)
        with open(self.path("capture/exchange.pcapng"), "rb") as f:
            self.assertEqual(f.read(4), b"\x0a\x0d\x0d\x0a", "pcapng section header")

    def test_manifest_verifies(self):
        manifest_check(self, self.data)

    def test_programs_are_stopped(self):
        pids = started_pids(self.result.stdout)
        self.assertEqual(sorted(pids.values()), ["exchange-sim", "hftd"])
        self.assertEqual(still_running(pids), [])

    def test_analysis_reports_on_the_directory(self):
        out = os.path.join(self.tmp, "analysis")
        result = subprocess.run([PYTHON, ANALYZE, self.data, "--out", out, "--no-plots"],
                                capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["missing"], [])
        self.assertTrue(report["manifest"]["present"])
        self.assertEqual(report["manifest"]["mismatched"], [])
        self.assertGreater(report["latency"]["stages"]["rx_to_sent"]["count"], 0)
        self.assertGreater(report["latency"]["stages"]["tick_to_trade"]["count"], 0)
        self.assertTrue(report["consistency"]["orders"]["equal"], report["consistency"])
        # Wire-to-wire from the capture: every order the exchange counted, paired.
        wire = report["latency"]["stages"]["wire_to_wire"]
        self.assertEqual(wire["count"], report["exchange"]["orders"])
        self.assertEqual(report["capture"]["unpaired_orders"], 0)
        self.assertTrue(os.path.isfile(os.path.join(out, "wire_to_wire.csv")))

    def test_analysis_suite_accepts_the_directory(self):
        # tests/analysis' check of "a directory really collected" (HFT_REAL_DATA_DIR).
        if not os.path.isfile(ANALYSIS_TEST):
            self.skipTest("tests/analysis/test_analyze_results.py is absent")
        env = dict(os.environ, HFT_REAL_DATA_DIR=self.data, HFT_SOURCE_ROOT=SOURCE_ROOT)
        result = subprocess.run([PYTHON, ANALYSIS_TEST, "RealData"], env=env,
                                capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("skipped", result.stderr)


class CollectDataInterrupted(unittest.TestCase):
    def setUp(self):
        self.env = programs_env()
        self.tmp = tempfile.mkdtemp(prefix="hft-collect-int-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.data = os.path.join(self.tmp, "data")

    def test_ctrl_c_stops_everything_it_started_and_keeps_the_data(self):
        proc = subprocess.Popen([SCRIPT, "120", "--direct", "--out", self.data], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        try:
            # The event: the first progress line after an order went out.
            for line in proc.stdout:
                seen.append(line)
                m = re.search(r"elapsed +\d+s .* orders (\d+)", line)
                if m and int(m.group(1)) > 0:
                    break
            else:
                self.fail("no progress with orders:\n" + "".join(seen))
            started = dict(children_of(proc.pid))
            started.update(started_pids("".join(seen)))
            self.assertIn("hftd", started.values())
            self.assertIn("exchange-sim", started.values())
            self.assertIn("mpstat", started.values())
            proc.send_signal(signal.SIGINT)
            rest, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        output = "".join(seen) + rest
        self.assertEqual(proc.returncode, 130, output)
        self.assertIn("SIGINT received", output)
        self.assertEqual(still_running(started), [], "left running after Ctrl-C")
        # The session was stopped early: hftd wrote its final files, exchange-sim its stats.
        for rel in ("session/stats.json", "session/latency.csv", "exchange/exchange_stats.json",
                    "monitors/mpstat.txt", "logs/hftd.log", "system/versions.txt"):
            self.assertTrue(os.path.isfile(os.path.join(self.data, rel)), rel)
        with open(os.path.join(self.data, "session/stats.json")) as f:
            self.assertGreater(json.load(f)["orders_sent"], 0)
        manifest_check(self, self.data)


class CollectDataFailures(unittest.TestCase):
    def setUp(self):
        self.env = programs_env()
        self.tmp = tempfile.mkdtemp(prefix="hft-collect-fail-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_script(self, *args, env=None):
        return subprocess.run([SCRIPT] + list(args), env=env or self.env, capture_output=True,
                              text=True, timeout=120)

    def test_usage_errors_exit_2(self):
        for args in (["--bogus"], ["0"], ["5", "6"], ["5", "--poll-mode", "spin"],
                     ["5", "--direct", "--cores", "0"], ["5", "--capture-packets", "0"],
                     ["5", "--capture-packets", "many"]):
            result = self.run_script(*args, "--out", os.path.join(self.tmp, "x"))
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertIn("--help", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x")))

    def test_a_non_empty_out_directory_is_refused(self):
        with open(os.path.join(self.tmp, "keep.txt"), "w") as f:
            f.write("mine\n")
        result = self.run_script("5", "--direct", "--out", self.tmp)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(os.listdir(self.tmp), ["keep.txt"])

    def test_help_documents_the_exit_codes(self):
        result = self.run_script("--help")
        self.assertEqual(result.returncode, 0)
        for text in ("Exit status", "130", "--direct", "--analyze", "MANIFEST.sha256"):
            self.assertIn(text, result.stdout)

    def test_an_engine_that_dies_fails_the_run_but_stops_the_exchange(self):
        fake = os.path.join(self.tmp, "hftd")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho 'hftd: invalid configuration (test)' >&2\nexit 78\n")
        os.chmod(fake, 0o755)
        data = os.path.join(self.tmp, "data")
        result = self.run_script("5", "--direct", "--out", data,
                                 env=dict(self.env, HFTD=fake))
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("hftd exited before serving its control socket", result.stderr)
        self.assertIn("invalid configuration (test)", result.stderr)
        pids = started_pids(result.stdout)
        self.assertIn("exchange-sim", pids.values())
        self.assertEqual(still_running(pids), [])
        self.assertTrue(os.path.isfile(os.path.join(data, "system/cmdline.txt")))
        self.assertTrue(os.path.isfile(os.path.join(data, "exchange/exchange_stats.json")))
        manifest_check(self, data)


if __name__ == "__main__":
    unittest.main(verbosity=2)

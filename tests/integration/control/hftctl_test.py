#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The real hftctl binary against hftd-fake-control: commands, exit codes, JSON,
# HFTD_SOCKET, --watch and an unprivileged user.
"""Usage: hftctl_test.py (HFTCTL and HFTD_FAKE_CONTROL name the binaries; PYTHONPATH holds
hftproc)."""

import grp
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from hftproc import end_process

HFTCTL = os.environ.get("HFTCTL", "hftctl")
FAKE = os.environ.get("HFTD_FAKE_CONTROL", "hftd-fake-control")
IS_ROOT = os.geteuid() == 0

STATS_KEYS = {
    "state": str, "session_id": str, "kill_switch": bool,
    "rx_packets": int, "rx_messages": int, "md_messages": int,
    "md_gaps": int, "malformed_frames": int, "orders_sent": int,
    "acks": int, "fills": int, "partial_fills": int, "rejects": int,
    "risk_rejects": int, "cancels": int, "expired": int, "reconnects": int,
    "session_started_ns": int, "uptime_ns": int, "symbols": list,
    "latency": dict,
}
# Exchange rejects by the wire's reject_reason (docs/control.md); they add up to "rejects".
REJECT_KEYS = tuple("rejects_" + r for r in (
    "unknown_symbol", "invalid_price", "invalid_quantity", "duplicate_cl_ord_id",
    "unknown_order", "not_logged_on", "invalid_side_or_tif", "throttled", "other"))
STATS_KEYS.update({key: int for key in REJECT_KEYS})
SYMBOL_KEYS = {"symbol_id": int, "position": int, "realized_pnl": float,
               "unrealized_pnl": float, "mid": float}
LATENCY_KEYS = ("count", "min", "mean", "p50", "p90", "p99", "p99_9", "max")


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def read_until(stream, needle, count, timeout):
    """Reads the pipe `stream` until `needle` has appeared `count` times; what was read."""
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(needle) < count:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([stream], [], [], max(left, 0))
        chunk = os.read(stream.fileno(), 65536) if ready else b""
        if not chunk:
            raise AssertionError("%r seen %d of %d times within %g s (or EOF):\n%s"
                                 % (needle, data.count(needle), count, timeout,
                                    data.decode(errors="replace")[-2000:]))
        data += chunk
    return data


def describe_tree(pid):
    """State, kernel wait channel and command of `pid` and its descendants, for a failure."""
    lines = []
    pending = [pid]
    while pending:
        p = pending.pop()
        try:
            with open("/proc/%d/status" % p) as f:
                status = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
            with open("/proc/%d/wchan" % p) as f:
                wchan = f.read()
            with open("/proc/%d/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            lines.append("%d %s wchan=%s SigPnd=%s ShdPnd=%s SigBlk=%s: %s"
                         % (p, status.get("State"), wchan, status.get("SigPnd"),
                            status.get("ShdPnd"), status.get("SigBlk"), cmd))
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    pending.extend(int(c) for c in f.read().split())
        except OSError as e:
            lines.append("%d: %s" % (p, e))
    return "\n".join(lines)


def kill_group(proc):
    """Ends `proc` and everything in its process group (it leads one), then reaps it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # also what it left running after it exited
    except ProcessLookupError:
        pass
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        stream.close()


class FakeDaemon:
    """hftd-fake-control on a socket; started() returns once it listens."""

    def __init__(self, directory, *extra):
        self.socket = os.path.join(directory, "run", "control.sock")
        self.log = open(os.path.join(directory, "daemon.log"), "w")
        group = "hft" if group_exists("hft") else ""
        self.proc = subprocess.Popen(
            [FAKE, "--socket", self.socket, "--group", group, *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        # Wait for the event (the "ready" line), not for a fixed time.
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError("hftd-fake-control did not start: " + line)

    def stop(self):
        """Stops the daemon; raises if it did not exit cleanly."""
        end_process(self.proc, lambda p: p.send_signal(signal.SIGTERM), timeout=10)
        self.proc.stdout.close()
        self.log.close()
        if self.proc.returncode != 0:
            with open(self.log.name) as log:
                raise RuntimeError(
                    f"hftd-fake-control exited {self.proc.returncode}:\n"
                    + log.read()[-4000:])
        if os.path.exists(self.socket):
            raise RuntimeError(f"{self.socket} was left behind")


def hftctl(*args, env_socket=None, prefix=(), timeout=30):
    env = dict(os.environ)
    env.pop("HFTD_SOCKET", None)
    if env_socket is not None:
        env["HFTD_SOCKET"] = env_socket
    return subprocess.run([*prefix, HFTCTL, *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


class HftctlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.created_group = False
        if IS_ROOT and not group_exists("hft"):
            subprocess.run(["groupadd", "--system", "hft"], check=True)
            cls.created_group = True
        cls.dir = tempfile.mkdtemp(prefix="hftctl-it-")
        os.chmod(cls.dir, 0o755)  # other users must reach the socket
        try:
            cls.daemon = FakeDaemon(cls.dir)
        except Exception:
            cls.cleanupClass()
            raise
        cls.sock = cls.daemon.socket

    @classmethod
    def tearDownClass(cls):
        try:
            cls.daemon.stop()
        finally:
            cls.cleanupClass()

    @classmethod
    def cleanupClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        if cls.created_group:
            subprocess.run(["groupdel", "hft"], check=False)

    def ctl(self, *args, **kwargs):
        return hftctl("--socket", self.sock, *args, **kwargs)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         f"stdout: {result.stdout}\nstderr: {result.stderr}")

    # --- commands -----------------------------------------------------------

    def test_status_prints_a_table_and_json(self):
        r = self.ctl("status")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"(?m)^State\s+\w+$")
        self.assertIn("127.0.0.1:9000", r.stdout)
        r = self.ctl("--json", "status")
        self.assertExit(r, 0)
        status = json.loads(r.stdout)
        for key in ("state", "session_id", "version", "network_core",
                    "strategy_core", "poll_mode", "exchange", "kill_switch",
                    "uptime_ns"):
            self.assertIn(key, status)

    def check_stats_schema(self, stats):
        for key, kind in STATS_KEYS.items():
            self.assertIn(key, stats)
            self.assertIsInstance(stats[key], kind, key)
        self.assertTrue(stats["symbols"])
        for symbol in stats["symbols"]:
            for key, kind in SYMBOL_KEYS.items():
                self.assertIsInstance(symbol[key], (int, float)
                                      if kind is float else kind, key)
        self.assertTrue(stats["latency"])
        for stage in stats["latency"].values():
            self.assertEqual(tuple(stage.keys()), LATENCY_KEYS)

    def test_stats_json_has_the_documented_schema(self):
        r = self.ctl("stats", "--json")
        self.assertExit(r, 0)
        stats = json.loads(r.stdout)
        self.check_stats_schema(stats)
        self.assertEqual(stats["rx_packets"], 1001)
        self.assertEqual(stats["symbols"][1]["mid"], 99999.0001)
        # The fake's 2 rejects: 1 invalid price, 1 throttled, through GetStats' a{sv}.
        self.assertEqual(stats["rejects_invalid_price"], 1)
        self.assertEqual(stats["rejects_throttled"], 1)
        self.assertEqual(sum(stats[k] for k in REJECT_KEYS), stats["rejects"])

    def test_stats_table_has_counters_symbols_and_percentiles(self):
        r = self.ctl("stats")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"(?m)^rx_packets\s+1001$")
        self.assertRegex(
            r.stdout,
            r"(?m)^Latency \(ns\)\s+Count\s+Min\s+Mean\s+p50\s+p90\s+p99\s+"
            r"p99\.9\s+Max$")
        self.assertRegex(r.stdout, r"(?m)^Symbol\s+Position\s+Realized PnL")

    def test_session_lifecycle_and_refusals(self):
        r = self.ctl("start-session", "--duration", "30")
        self.assertExit(r, 0)
        session_id = r.stdout.strip()
        self.assertRegex(session_id, r"^\d{8}-\d{6}-fake\d+$")
        try:
            r = self.ctl("start-session")
            self.assertExit(r, 1)
            self.assertIn(
                f"hftctl: start-session refused: a session is already "
                f"running ({session_id}). Stop it first with "
                f"`hftctl stop-session`.", r.stderr)
            r = self.ctl("status", "--json")
            self.assertEqual(json.loads(r.stdout)["session_id"], session_id)
        finally:
            r = self.ctl("stop-session", "--json")
        self.assertExit(r, 0)
        summary = json.loads(r.stdout)
        self.assertEqual(summary["session_id"], session_id)
        self.assertIn("directory", summary)
        self.check_stats_schema(summary["stats"])
        r = self.ctl("stop-session")
        self.assertExit(r, 1)
        self.assertIn("stop-session refused: no session is running.",
                      r.stderr)
        r = self.ctl("start-session")
        self.assertExit(r, 0)
        r = self.ctl("stop-session")
        self.assertExit(r, 0)
        self.assertIn(f"Session {r.stdout.split()[1]} stopped.", r.stdout)
        self.assertIn("Latency (ns)", r.stdout)

    def test_kill_switch_on_and_off(self):
        self.assertExit(self.ctl("kill-switch", "on"), 0)
        self.assertTrue(json.loads(self.ctl("--json", "status").stdout)
                        ["kill_switch"])
        r = self.ctl("--json", "kill-switch", "off")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout), {"kill_switch": False})
        self.assertFalse(json.loads(self.ctl("--json", "status").stdout)
                         ["kill_switch"])

    def test_reload_lists_applied_and_restart_settings(self):
        r = self.ctl("reload")
        self.assertExit(r, 0)
        self.assertIn("Needs restart:  network.core", r.stdout)
        r = self.ctl("reload", "--json")
        self.assertEqual(json.loads(r.stdout)["needs_restart"],
                         ["network.core"])

    def test_reload_of_an_invalid_config_exits_1(self):
        directory = tempfile.mkdtemp(prefix="hftctl-it-bad-")
        daemon = FakeDaemon(directory, "--fail-reload")
        try:
            r = hftctl("--socket", daemon.socket, "reload")
            self.assertExit(r, 1)
            self.assertIn("hftctl: reload refused: /etc/hftd/hftd.toml:12",
                          r.stderr)
            self.assertIn("running configuration is unchanged", r.stderr)
        finally:
            daemon.stop()
            shutil.rmtree(directory, ignore_errors=True)

    def test_version_shows_client_and_daemon(self):
        r = self.ctl("version")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"^hftctl \S+\nhftd \S+\n$")
        versions = json.loads(self.ctl("version", "--json").stdout)
        self.assertEqual(set(versions), {"hftctl", "hftd"})

    # --- usage, help, exit codes --------------------------------------------

    def test_help_for_the_tool_and_each_command(self):
        r = hftctl("--help")
        self.assertExit(r, 0)
        for text in ("Exit status:", "  3  hftd is not running", "--socket",
                     "HFTD_SOCKET", "stats [--watch SECS]"):
            self.assertIn(text, r.stdout)
        for command in ("status", "stats", "start-session", "stop-session",
                        "kill-switch", "reload", "version"):
            r = hftctl(command, "--help")
            self.assertExit(r, 0)
            self.assertIn(f"[--json | --format FORMAT] {command}", r.stdout)

    def test_usage_errors_exit_2(self):
        for args in (["bogus"], ["status", "--bogus"], ["kill-switch"],
                     ["kill-switch", "maybe"], ["start-session", "--duration",
                                                "-1"],
                     ["stats", "--watch", "0"], []):
            r = self.ctl(*args)
            self.assertExit(r, 2)
            self.assertTrue(r.stderr.startswith("hftctl: "), r.stderr)
            self.assertIn("hftctl --help", r.stderr)
            self.assertEqual(r.stdout, "")

    def test_absent_socket_exits_3(self):
        path = os.path.join(self.dir, "absent.sock")
        r = hftctl("--socket", path, "status")
        self.assertExit(r, 3)
        self.assertIn(path, r.stderr)
        self.assertIn("systemctl start hftd", r.stderr)

    def test_stale_socket_exits_3(self):
        path = os.path.join(self.dir, "stale.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(path)  # never listens: connecting is refused
        r = hftctl("--socket", path, "stats")
        self.assertExit(r, 3)
        self.assertIn("Connection refused", r.stderr)

    def test_hftd_socket_environment_variable(self):
        r = hftctl("status", env_socket=self.sock)
        self.assertExit(r, 0)
        absent = os.path.join(self.dir, "nothing.sock")
        r = hftctl("status", env_socket=absent)
        self.assertExit(r, 3)
        self.assertIn(absent, r.stderr)
        r = hftctl("--socket", self.sock, "status", env_socket=absent)
        self.assertExit(r, 0)

    # --- stats --watch ------------------------------------------------------

    def test_watch_redraws_until_sigint_then_exits_0(self):
        # Its own process group, signalled twice the way timeout(1) and a terminal's Ctrl-C
        # do (the process, then its group), once two screens are out: an event, not a time.
        proc = subprocess.Popen(
            [HFTCTL, "--socket", self.sock, "stats", "--watch", "0.2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0)
        try:
            out = read_until(proc.stdout, b"Ctrl-C to stop.", 2, timeout=30)
            proc.send_signal(signal.SIGINT)
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                self.fail("hftctl did not exit 15 s after SIGINT:\n" + describe_tree(proc.pid))
            out += proc.stdout.read()
            err = proc.stderr.read().decode()
        finally:
            kill_group(proc)
        self.assertEqual(proc.returncode, 0, err)
        text = out.decode()
        self.assertGreaterEqual(text.count("\x1b[2J"), 2, text)
        self.assertGreaterEqual(text.count("Latency (ns)"), 2)

    def test_watch_json_prints_one_document_per_refresh(self):
        proc = subprocess.Popen(
            [HFTCTL, "--socket", self.sock, "--json", "stats", "--watch",
             "0.2"], stdout=subprocess.PIPE, text=True)
        try:
            documents = [json.loads(proc.stdout.readline()) for _ in (1, 2)]
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(10), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        for document in documents:
            self.check_stats_schema(document)

    def test_watch_keeps_one_connection_and_reconnects_after_idle_close(self):
        directory = tempfile.mkdtemp(prefix="hftctl-it-idle-")
        daemon = FakeDaemon(directory, "--idle-timeout-ms", "700")
        pids = []
        try:
            # Refreshes faster than the idle timeout share one connection; slower ones find
            # it closed by the server and reconnect, and the watch goes on.
            for interval, refreshes in (("0.1", 6), ("1", 3)):
                proc = subprocess.Popen(
                    [HFTCTL, "--socket", daemon.socket, "--json", "stats", "--watch",
                     interval], stdout=subprocess.PIPE, text=True)
                try:
                    for _ in range(refreshes):
                        self.check_stats_schema(json.loads(proc.stdout.readline()))
                    proc.send_signal(signal.SIGINT)
                    self.assertEqual(proc.wait(10), 0)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                    proc.stdout.close()
                pids.append(proc.pid)
        finally:
            daemon.stop()
            with open(os.path.join(directory, "daemon.log")) as log:
                text = log.read()
            shutil.rmtree(directory, ignore_errors=True)
        fast, slow = (text.count(f" pid {pid}\n") for pid in pids)
        self.assertEqual(fast, 1, text)
        self.assertGreaterEqual(slow, 3, text)

    # --- permissions --------------------------------------------------------

    @unittest.skipUnless(IS_ROOT, "needs root to create a throwaway user")
    def test_unprivileged_user_reads_but_may_not_control(self):
        gid = grp.getgrnam("hft").gr_gid
        self.assertEqual(os.stat(self.sock).st_gid, gid)
        self.assertEqual(os.stat(self.sock).st_mode & 0o777, 0o660)
        user = "hfttest-" + secrets.token_hex(3)
        subprocess.run(["useradd", "--system", "--no-create-home", "-G",
                        "hft", user], check=True)
        try:
            entry = pwd.getpwnam(user)
            as_user = ["setpriv", f"--reuid={entry.pw_uid}",
                       f"--regid={entry.pw_gid}", "--init-groups"]
            r = self.ctl("status", prefix=as_user)
            self.assertExit(r, 0)
            self.assertExit(self.ctl("stats", "--json", prefix=as_user), 0)
            for args in (["start-session"], ["stop-session"], ["reload"],
                         ["kill-switch", "on"]):
                r = self.ctl(*args, prefix=as_user)
                self.assertExit(r, 1)
                self.assertIn(f"hftctl: {args[0]} refused: access denied",
                              r.stderr)
                self.assertIn("group hft-admin", r.stderr)
                self.assertIn(user, r.stderr)
            status = json.loads(self.ctl("--json", "status").stdout)
            self.assertFalse(status["kill_switch"])
            # Without group hft the socket itself is closed to the user.
            no_groups = as_user[:3] + ["--clear-groups"]
            r = self.ctl("status", prefix=no_groups)
            self.assertExit(r, 1)
            self.assertIn("permission denied", r.stderr)
            self.assertIn("group hft", r.stderr)
        finally:
            subprocess.run(["userdel", user], check=False)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    unittest.main(verbosity=2)

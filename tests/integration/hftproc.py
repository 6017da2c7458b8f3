# SPDX-License-Identifier: MIT
"""Process helpers shared by the integration tests: a child process whose stderr lines can be
waited on (Proc), ending a process with a deadline, hftctl and its stats, waiting on a predicate,
the two worker cores, hftd's command line, exchange-sim started on loopback, and a test case that
ends every process it started. Every wait is on an event (a log line, an exit, a counter) with a
deadline, never a fixed sleep. HFTD, HFTCTL, EXCHANGE_SIM and HFT_SOURCE_ROOT name the binaries
and the source tree."""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HFTD = os.environ.get("HFTD", "hftd")
HFTCTL = os.environ.get("HFTCTL", "hftctl")
EXCHANGE_SIM = os.environ.get("EXCHANGE_SIM", "exchange-sim")
SOURCE_ROOT = os.environ.get("HFT_SOURCE_ROOT",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HOST = "127.0.0.1"


def worker_cores():
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise unittest.SkipTest("needs two CPUs to pin the two workers")
    return cores[0], cores[1]


def end_process(p, ask=None, timeout=20):
    """Ends the subprocess.Popen `p`: ask(p) while it still runs (send a signal, close its
    stdin), then wait up to `timeout` s for its exit and kill it past that. The exit code."""
    if ask is not None and p.poll() is None:
        ask(p)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return p.returncode


class Proc:
    """A child process whose stderr is collected line by line so tests can wait on it. Failures
    name it by the file name of `name` (argv[0] unless given)."""

    def __init__(self, argv, env=None, name=None, stdin=None):
        self.argv = argv
        self.name = os.path.basename(name or argv[0])
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_until(self, test, timeout, start, failure):
        """(index, line, test(line)) for the first line from index `start` that passes `test`.
        Past `timeout` s, or once the process has exited and all its output is read, raises
        AssertionError: `failure`, then the last 40 lines."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    found = test(self.lines[i])
                    if found:
                        return i, self.lines[i], found
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(failure + "\n" + "\n".join(self.lines[-40:]))
                self.cond.wait(min(left, 0.2))

    def wait_line(self, needle, timeout=20, start=0):
        """(index, line) of the first line from index `start` that contains `needle`."""
        i, line, _ = self.wait_until(lambda text: needle in text, timeout, start,
                                     "%s: no line with %r within %ss; output:" % (
                                         self.name, needle, timeout))
        return i, line

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_exit(self, timeout=20):
        code = end_process(self.p, timeout=timeout)
        self.reader.join(5)
        self.p.stderr.close()
        return code

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.wait_exit(timeout)


def hftctl(sock, *args, check=True):
    r = subprocess.run([HFTCTL, "--socket", sock] + list(args), capture_output=True, text=True,
                       timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("hftctl %s: exit %d: %s %s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def stats(sock):
    return json.loads(hftctl(sock, "stats", "--json").stdout)


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def hftd_argv(exchange, sock, sessions, *extra, config=None, interface="lo"):
    """hftd's command line: workers pinned to worker_cores(), yield polling, the exchange at
    "host:port", the shipped conf/hftd.toml unless `config`; no --interface if interface=None."""
    net, strat = worker_cores()
    argv = [HFTD, "--config", config or os.path.join(SOURCE_ROOT, "conf", "hftd.toml")]
    if interface is not None:
        argv += ["--interface", interface]
    return argv + ["--network-core", str(net), "--strategy-core", str(strat),
                   "--poll-mode", "yield", "--exchange", exchange, "--socket", sock,
                   "--sessions-dir", sessions] + list(extra)


def unused_udp_port_outside_ephemeral_range():
    """A free loopback UDP port below the kernel's ephemeral range.

    A port from bind(0) is an ephemeral one: once the probe closes it, any socket that
    connect()s or sends unbound (other tests run in parallel) may be auto-bound to it before
    hftd binds it, and hftd's start then fails with "Address already in use". Nothing is
    auto-bound below the range, so only an explicit bind could take the port chosen here.
    """
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    candidates = list(range(max(1024, low - 8192), low))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free UDP port below the ephemeral range (%d)" % low)


def start_exchange(tmp, port=0, extra=(), tick_rate=5):
    """exchange-sim on loopback (seed 7, its stats file in `tmp`), once it listens: (the Proc,
    its port, the stats file). tick_rate=None keeps exchange-sim's default."""
    stats_file = os.path.join(tmp, "exchange_stats.json")
    ticks = [] if tick_rate is None else ["--tick-rate", str(tick_rate)]
    proc = Proc([EXCHANGE_SIM, "--port", str(port)] + ticks +
                ["--seed", "7", "--stats-file", stats_file] + list(extra))
    _, line = proc.wait_line("Listening on port")
    return proc, int(line.rsplit(" ", 1)[1]), stats_file


class ProcCase(unittest.TestCase):
    """A temporary directory (prefix tmp_prefix) that holds hftd's control socket (self.sock)
    and sessions (self.sessions). When the test ends, even halfway through a subclass's setUp,
    every process in self.procs is killed (the last started first), then every callable in
    self.closers runs, then the directory goes."""

    tmp_prefix = "hft-"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=self.tmp_prefix)
        self.sock = os.path.join(self.tmp, "control.sock")
        self.sessions = os.path.join(self.tmp, "sessions")
        self.procs = []
        self.closers = []
        self.addCleanup(self.end_everything)

    def end_everything(self):
        for p in reversed(self.procs):
            p.stop(signal.SIGKILL)
        for close in reversed(self.closers):
            close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_hftd(self, port, *extra, config=None, sessions=None, interface="lo"):
        """hftd against the exchange on loopback port `port`, once its control socket listens."""
        proc = Proc(hftd_argv("%s:%d" % (HOST, port), self.sock, sessions or self.sessions,
                              *extra, config=config, interface=interface))
        self.procs.append(proc)
        proc.wait_line("Control socket listening")
        return proc

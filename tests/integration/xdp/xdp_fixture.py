#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Shared by test_md_transports.py and bench_md_transports.py: child processes whose log lines
can be waited on, hftctl, and a veth pair between two network namespaces this run creates
(hftxdp-<random>) and always deletes."""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import unittest

HFTCTL = os.environ.get("HFTCTL", "hftctl")

EXCHANGE_IP = "10.77.0.1"
ENGINE_IP = "10.77.0.2"
TCP_PORT = 9000
FEED_PORT = 9001

NAMESPACES = []  # namespaces of this run still to delete (at exit whatever happens)
CREATED = []     # every namespace this run created: none may remain at the end


def worker_cores():
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise unittest.SkipTest("needs two CPUs to pin the two workers")
    return cores[0], cores[1]


class Proc:
    """A child process whose stderr is collected line by line so tests can wait on it."""

    def __init__(self, argv):
        self.argv = argv
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, needle, timeout=20, start=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if needle in self.lines[i]:
                        return i, self.lines[i]
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError("%s: no line with %r within %ss; output:\n%s" % (
                        os.path.basename(self.argv[-1] if "netns" in self.argv else
                                         self.argv[0]), needle, timeout,
                        "\n".join(self.lines[-40:])))
                self.cond.wait(min(left, 0.2))

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_exit(self, timeout=20):
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.reader.join(5)
        self.p.stderr.close()
        return self.p.returncode

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.wait_exit(timeout)


def run(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr))
    return r


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


def udp_feed_sent(exchange):
    """The exchange's own count of the frames it put on the UDP feed (its exit summary)."""
    _, line = exchange.wait_line("market data frames in", timeout=10)
    m = re.search(r"UDP feed \S+: (\d+) market data frames in (\d+) datagrams .*, (\d+) send "
                  r"errors", line)
    assert m, line
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def can_use_namespaces():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 to create network namespaces"
    name = "hftxdp-probe-" + secrets.token_hex(3)
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        return "cannot create a network namespace: " + r.stderr.strip()
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return ""


class VethPair:
    """Two namespaces joined by a veth pair: the exchange's side and the engine's side."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.exchange_ns = "hftxdp-x" + tag
        self.engine_ns = "hftxdp-e" + tag
        self.exchange_if = "hxa" + tag
        self.engine_if = "hxb" + tag
        for ns in (self.exchange_ns, self.engine_ns):
            run("ip", "netns", "add", ns)
            NAMESPACES.append(ns)
            CREATED.append(ns)
        run("ip", "link", "add", self.exchange_if, "netns", self.exchange_ns, "type", "veth",
            "peer", "name", self.engine_if, "netns", self.engine_ns)
        for ns, dev, addr in ((self.exchange_ns, self.exchange_if, EXCHANGE_IP),
                              (self.engine_ns, self.engine_if, ENGINE_IP)):
            run("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
            run("ip", "-n", ns, "link", "set", dev, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            # Multicast leaves by the veth (a route of our own namespace only).
            run("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)

    def xdp_attached(self):
        """True when any XDP program is attached to the engine's interface."""
        r = run("ip", "-n", self.engine_ns, "-d", "link", "show", "dev", self.engine_if)
        return "prog/xdp" in r.stdout or " xdp" in r.stdout.split("\n")[0]

    def delete(self):
        for ns in (self.exchange_ns, self.engine_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            if ns in NAMESPACES:
                NAMESPACES.remove(ns)


def delete_leftover_namespaces():
    for ns in list(NAMESPACES):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    NAMESPACES.clear()

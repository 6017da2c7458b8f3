#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Shared by test_md_transports.py and bench_md_transports.py: child processes whose log lines
can be waited on, hftctl (both from tests/integration/hftproc.py), and a veth pair between two
network namespaces this run creates (hftxdp-<random>) and always deletes."""
import os
import re
import secrets
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hftproc  # noqa: E402
from hftproc import (ProcCase, hftctl, hftd_argv, start_exchange, stats,  # noqa: E402,F401
                     wait_for)

EXCHANGE_IP = "10.77.0.1"
ENGINE_IP = "10.77.0.2"
TCP_PORT = 9000
FEED_PORT = 9001

NAMESPACES = []  # namespaces of this run still to delete (at exit whatever happens)
CREATED = []     # every namespace this run created: none may remain at the end


class Proc(hftproc.Proc):
    """hftproc.Proc whose failures name, under `ip netns exec`, the last word of the command."""

    def __init__(self, argv):
        super().__init__(argv, name=argv[-1] if "netns" in argv else argv[0])


def run(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr))
    return r


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

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Abuse of hftd's control socket while it trades against exchange-sim: a client that says
nothing, one that sends garbage, and waves of hundreds of connections (far more than
[control] max_connections). Trading goes on (the journal shows orders and reports written
during the abuse, no sequence gaps) and `hftctl status` works afterwards."""

import os
import select
import socket
import struct
import time
import unittest

from hostile_common import HftdCase, hftctl, stat_at_least, stats, wait_for
from hftproc import start_exchange
from test_engine import read_journal

IDLE_TIMEOUT_MS = 300
MAX_CONNECTIONS = 16


def connect(path):
    """A blocking connect that waits (up to 10 s) while hftd's listen backlog is full, as a
    persistent abuser would, rather than failing with EAGAIN."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 10, 0))
    try:
        s.connect(path)
    except OSError:
        s.close()
        raise
    return s


def wait_eof(socks, timeout):
    """Waits until hftd has closed every socket in `socks` (EOF or reset); returns the
    monotonic time at which each was seen closed, in order."""
    closed = {}
    deadline = time.monotonic() + timeout
    while len(closed) < len(socks):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("%d of %d control connections still open after %ss"
                                 % (len(socks) - len(closed), len(socks), timeout))
        open_ = [s for s in socks if s.fileno() not in closed]
        ready, _, _ = select.select(open_, [], [], left)
        for s in ready:
            try:
                data = s.recv(4096)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                closed[s.fileno()] = time.monotonic()
    return [closed[s.fileno()] for s in socks]


class ControlAbuseTest(HftdCase):
    def setUp(self):
        super().setUp()
        exchange, port, _ = start_exchange(self.tmp)
        self.procs.append(exchange)
        conf = self.config({"control": {"idle_timeout_ms": str(IDLE_TIMEOUT_MS),
                                        "max_connections": str(MAX_CONNECTIONS)}})
        self.hftd = self.start_hftd(port, "--start-session", config=conf)
        self.hftd.wait_line("Connected to exchange")
        self.before = wait_for(stat_at_least(self.sock, "fills", 1), "a first fill")

    def journal_between(self, since_ns, until_ns):
        """(orders sent, reports received) the journal holds for [since_ns, until_ns]."""
        path = os.path.join(self.session_dir(self.before["session_id"]), "journal.bin")
        records = [r for r in read_journal(path) if since_ns <= r[0] <= until_ns]
        orders = sum(1 for r in records
                     if r[1] == 0 and struct.unpack_from("<H", r[2], 2)[0] == 3)
        reports = sum(1 for r in records if r[1] == 1)
        return orders, reports

    def assert_trading_went_on(self, since_ns, until_ns):
        # The journal is written every ~50 ms: wait for the flush that covers the window.
        orders, reports = wait_for(
            lambda: (lambda o: o if o[0] > 0 and o[1] > 0 else None)(
                self.journal_between(since_ns, until_ns)),
            "orders and reports journaled during the abuse")
        after = stats(self.sock)
        print("during the abuse: %d orders sent, %d reports received (%.1f s)"
              % (orders, reports, (until_ns - since_ns) / 1e9))
        self.assertGreater(after["orders_sent"], self.before["orders_sent"])
        self.assertGreater(after["fills"], self.before["fills"])
        self.assertEqual(after["md_gaps"], 0)
        self.assertEqual(after["state"], "trading")
        self.assert_up(self.hftd)
        self.assertEqual(self.hftd.stop(), 0)

    def test_silent_and_garbage_clients_are_closed_and_trading_goes_on(self):
        since = time.time_ns()
        silent = connect(self.sock)
        garbage = connect(self.sock)
        self.closers += [silent.close, garbage.close]
        opened = time.monotonic()
        garbage.sendall(b"\x00GET / HTTP/1.1\r\n\r\n" + bytes(range(256)) * 4)
        silent_closed, garbage_closed = wait_eof([silent, garbage], timeout=10)
        # Closed by the idle timeout, not sooner; the garbage one at the latest by then too.
        self.assertGreaterEqual(silent_closed - opened, IDLE_TIMEOUT_MS / 1000 * 0.9)
        self.assertLess(garbage_closed - opened, 5)
        self.assertEqual(hftctl(self.sock, "status").returncode, 0)
        # Keep at it a while: a fresh silent client each time the last is dropped.
        while time.monotonic() - opened < 3:
            s = connect(self.sock)
            self.closers.append(s.close)
            wait_eof([s], timeout=10)
        self.assert_trading_went_on(since, time.time_ns())

    def test_hundreds_of_connections_beyond_the_cap_leave_trading_alone(self):
        since = time.time_ns()
        start = time.monotonic()
        waves = 0
        refused_at_once = 0
        while waves < 2 or time.monotonic() - start < 3:
            socks, opened = [], []
            for i in range(300):
                s = connect(self.sock)
                opened.append(time.monotonic())
                self.closers.append(s.close)
                if i % 3 == 0:
                    try:
                        s.sendall(b"\x00AUTH GARBAGE\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # already refused: over the cap
                socks.append(s)
            closed_at = wait_eof(socks, timeout=30)
            refused_at_once += sum(1 for o, c in zip(opened, closed_at)
                                   if c - o < IDLE_TIMEOUT_MS / 2000)
            for s in socks:
                s.close()
            waves += 1
        until = time.time_ns()
        print("%d waves of 300 connections, %d closed at once (over the cap of %d or garbage)"
              % (waves, refused_at_once, MAX_CONNECTIONS))
        self.assertGreater(refused_at_once, waves * (300 - 2 * MAX_CONNECTIONS) // 2)
        self.assertEqual(hftctl(self.sock, "status").returncode, 0)
        self.assert_trading_went_on(since, until)


if __name__ == "__main__":
    unittest.main(verbosity=2)

# SPDX-License-Identifier: MIT
"""Whole-process tests of exchange-sim: the real binary on loopback, driven by hftproto.
Every wait is on an event (a log line, a frame, an exit) with a deadline, never a fixed sleep.
EXCHANGE_SIM names the binary; PYTHONPATH holds hftproto and hftproc."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import hftproto as hp
from hftproc import HOST, Proc

EXE = os.environ.get("EXCHANGE_SIM", "exchange-sim")


class ExchangeProcess(Proc):
    """exchange-sim started with --port 0; stderr is drained by a thread (a full pipe would
    stall the exchange) and kept for waiting on lines."""

    def __init__(self, *args, port_timeout=10.0):
        super().__init__([EXE, "--port", "0", *args], stdin=subprocess.DEVNULL)
        m = self.wait_for_line(r"Listening on port (\d+)", port_timeout)
        self.port = int(m.group(1))

    def wait_for_line(self, pattern, timeout=5.0, start=0):
        """The first log line from index `start` matching the regex; fails on the deadline."""
        _, _, m = self.wait_until(re.compile(pattern).search, timeout, start,
                                  f"no log line matching {pattern!r}; log:")
        return m

    def log_size(self):
        with self.cond:
            return len(self.lines)

    def log(self):
        return self.text()

    def client(self):
        return hp.Client(HOST, self.port)

    def terminate(self, timeout=10.0):
        """SIGTERM and wait for the exit code."""
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout)
        self.reader.join(5)
        return rc


def run_exe(*args, timeout=10):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def market_data_times(client, symbol, count, timeout, check=None):
    """Local arrival times (monotonic s) of `count` MARKET_DATA frames of one symbol; every
    MARKET_DATA frame read on the way is checked against the spec's ladder rules."""
    times = []
    deadline = time.monotonic() + timeout
    while len(times) < count:
        msg = client.recv(max(0.01, deadline - time.monotonic()))
        if isinstance(msg, hp.MarketData):
            err = hp.check_ladder(msg)
            if err:
                raise AssertionError(f"invalid ladder: {err}: {msg}")
            if check:
                check(msg)
            if msg.symbol_id == symbol:
                times.append(time.monotonic())
    return times


def mean_interval(times):
    return (times[-1] - times[0]) / (len(times) - 1)


class ExchangeSimTest(unittest.TestCase):
    def setUp(self):
        self.processes = []
        self.clients = []
        self.tmp = tempfile.TemporaryDirectory(prefix="xsim-it-")

    def tearDown(self):
        for c in self.clients:
            c.close()
        # Python 3.11 records the failure in the result before tearDown, not in _outcome.success.
        result = self._outcome.result
        failed = any(t is self for t, _ in result.errors + result.failures)
        for p in self.processes:
            p.stop(signal.SIGKILL)
            if failed:  # the exchange's own account of a failure is the first thing to read
                sys.stderr.write(f"--- exchange-sim log ({self.id()}):\n{p.log()}\n")
        self.tmp.cleanup()

    def start(self, *args):
        p = ExchangeProcess(*args)
        self.processes.append(p)
        return p

    def connect(self, exchange, logon=True, heartbeat_ms=0, account="it"):
        c = exchange.client()
        self.clients.append(c)
        if logon:
            r = c.logon(account, heartbeat_ms)
            self.assertEqual(r.status, hp.LogonStatus.ACCEPTED)
            self.assertNotEqual(r.session_id, 0)
        return c

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    # --- command line and configuration ---------------------------------------------------

    def test_bad_flag_exits_2_naming_it(self):
        r = run_exe("--bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)
        r = run_exe("--tick-rate", "fast")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tick-rate", r.stderr)
        r = run_exe("--fill-prob", "150")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--fill-prob", r.stderr)

    def test_help_and_version_exit_0(self):
        r = run_exe("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--tick-rate", r.stdout)
        r = run_exe("--version")
        self.assertEqual(r.returncode, 0)
        self.assertIn("exchange-sim", r.stdout)

    def test_bad_config_exits_78_with_file_line_and_key(self):
        conf = self.path("bad.toml")
        with open(conf, "w") as f:
            f.write("[market]\nsymbols = 2\ndepht = 4\n")
        r = run_exe("--config", conf)
        self.assertEqual(r.returncode, 78)
        self.assertIn(f"{conf}:3:", r.stderr)
        self.assertIn("depht", r.stderr)
        with open(conf, "w") as f:
            f.write("[orders]\n\nfill_prob = \"high\"\n")
        r = run_exe("--config", conf)
        self.assertEqual(r.returncode, 78)
        self.assertIn(f"{conf}:3:", r.stderr)
        self.assertIn("fill_prob", r.stderr)

    def test_config_file_applies_and_flags_override_it(self):
        conf = self.path("good.toml")
        with open(conf, "w") as f:
            f.write("[market]\nsymbols = 2\ndepth = 3\ntick_rate_ms = 5\n")
        x = self.start("--config", conf, "--depth", "7")
        c = self.connect(x)
        md = c.wait_for(lambda m: isinstance(m, hp.MarketData))
        self.assertEqual(len(md.entries), 14)  # the flag's depth, both sides
        seen = set()
        market_data_times(c, 1, 10, 5, check=lambda m: seen.add(m.symbol_id))
        self.assertEqual(seen, {1, 2})  # the file's symbols

    # --- market data --------------------------------------------------------------------

    def test_market_data_keeps_its_cadence_with_valid_ladders(self):
        x = self.start("--tick-rate", "20", "--symbols", "4", "--depth", "5")
        c = self.connect(x)
        symbols = set()
        times = market_data_times(c, 1, 60, 10, check=lambda m: symbols.add(m.symbol_id))
        interval = mean_interval(times)
        self.assertGreater(interval, 0.020 * 0.8)
        self.assertLess(interval, 0.020 * 1.2)
        self.assertEqual(symbols, {1, 2, 3, 4})
        self.assertEqual(c.gaps, 0)

    def test_tick_rate_0_publishes_as_fast_as_the_client_reads(self):
        x = self.start("--tick-rate", "0")
        c = self.connect(x)
        start = time.monotonic()
        times = market_data_times(c, 2, 2000, 20)
        self.assertLess(mean_interval(times), 0.005)  # far above any timed cadence
        self.assertLess(time.monotonic() - start, 20)

    # --- trading ------------------------------------------------------------------------

    def test_orders_acks_fills_expiry_cancel_and_rejects(self):
        x = self.start("--tick-rate", "10", "--fill-prob", "100", "--seed", "11")
        c = self.connect(x)
        md = c.wait_for(lambda m: isinstance(m, hp.MarketData) and m.symbol_id == 1)
        bid, ask, tick = md.best_bid(), md.best_ask(), 100
        ts = md.header.timestamp
        orders = {
            1: hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.IOC, ask + 2 * tick, 1_000_000 - 1, ts),
            2: hp.NewOrder(2, 1, hp.Side.SELL, hp.Tif.DAY, bid, 1, ts),
            3: hp.NewOrder(3, 1, hp.Side.BUY, hp.Tif.DAY, bid - 50 * tick, 5, ts),
        }
        for o in orders.values():
            c.send(o)
        c.send(hp.CancelOrder(3, 1))
        c.send(hp.CancelOrder(3, 1))   # no longer resting
        c.send(hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.IOC, ask, 1, ts))   # duplicate
        c.send(hp.NewOrder(4, 99, hp.Side.BUY, hp.Tif.IOC, ask, 1, ts))  # unknown symbol
        c.send(hp.NewOrder(5, 1, hp.Side.BUY, hp.Tif.IOC, 0, 1, ts))     # invalid price
        c.send(hp.NewOrder(6, 1, hp.Side.BUY, hp.Tif.IOC, ask, 0, ts))   # invalid qty
        c.send(hp.NewOrder(7, 1, 5, hp.Tif.IOC, ask, 1, ts))             # invalid side

        reports = []
        done = set()
        rejects = []
        cancel_rejects = []
        deadline = time.monotonic() + 10
        while len(done) < 3 or len(rejects) < 5 or len(cancel_rejects) < 1:
            msg = c.recv(max(0.01, deadline - time.monotonic()))
            if not isinstance(msg, hp.ExecutionReport):
                continue
            reports.append(msg)
            if msg.exec_type == hp.ExecType.REJECTED:
                rejects.append(msg)
            elif msg.exec_type == hp.ExecType.CANCEL_REJECTED:
                cancel_rejects.append(msg)
            elif msg.exec_type in (hp.ExecType.FILL, hp.ExecType.CANCELED, hp.ExecType.EXPIRED):
                done.add(msg.cl_ord_id)

        exec_ids = [r.exec_id for r in reports]
        self.assertEqual(exec_ids, sorted(exec_ids))
        self.assertEqual(len(set(exec_ids)), len(exec_ids))
        for cl, o in orders.items():
            mine = [r for r in reports if r.cl_ord_id == cl and r.exec_type not in
                    (hp.ExecType.REJECTED, hp.ExecType.CANCEL_REJECTED)]
            self.assertEqual(mine[0].exec_type, hp.ExecType.NEW, f"order {cl} not acked first")
            self.assertEqual(len({r.order_id for r in mine}), 1)
            self.assertNotEqual(mine[0].order_id, 0)
            for r in mine[:-1]:
                self.assertEqual(r.cum_qty + r.leaves_qty, o.qty)
            self.assertEqual(mine[-1].leaves_qty, 0)
        ioc = [r for r in reports if r.cl_ord_id == 1 and r.exec_type != hp.ExecType.REJECTED]
        fills = [r for r in ioc if r.exec_type in (hp.ExecType.PARTIAL_FILL, hp.ExecType.FILL)]
        self.assertGreaterEqual(len(fills), 1)  # fill-prob 100: it traded
        self.assertEqual(fills[0].last_px, ask)  # at the ladder's price, best first
        self.assertEqual(ioc[-1].exec_type, hp.ExecType.EXPIRED)  # 999,999 > displayed
        self.assertEqual(ioc[-1].cum_qty, sum(f.last_qty for f in fills))
        day = [r for r in reports if r.cl_ord_id == 2]
        self.assertEqual(day[-1].exec_type, hp.ExecType.FILL)
        self.assertEqual(day[-1].last_px, bid)
        canceled = [r for r in reports if r.cl_ord_id == 3]
        self.assertEqual([r.exec_type for r in canceled],
                         [hp.ExecType.NEW, hp.ExecType.CANCELED, hp.ExecType.CANCEL_REJECTED])
        self.assertEqual(cancel_rejects[0].reject_reason, hp.RejectReason.UNKNOWN_ORDER)
        self.assertEqual([r.reject_reason for r in rejects],
                         [hp.RejectReason.DUPLICATE_CL_ORD_ID, hp.RejectReason.UNKNOWN_SYMBOL,
                          hp.RejectReason.INVALID_PRICE, hp.RejectReason.INVALID_QUANTITY,
                          hp.RejectReason.INVALID_SIDE_OR_TIF])
        for r in rejects:
            self.assertEqual(r.order_id, 0)
            self.assertEqual(r.leaves_qty, 0)

        # LOGOUT from the client: the exchange answers LOGOUT and closes.
        c.send(hp.Logout(hp.LogoutReason.NORMAL))
        bye = c.wait_for(lambda m: isinstance(m, hp.Logout))
        self.assertEqual(bye.reason, hp.LogoutReason.NORMAL)
        with self.assertRaises(hp.ConnectionClosed):
            c.wait_for(lambda m: False, timeout=5)
        x.wait_for_line(r"Disconnect session_id \d+ .*client logged out")

    def test_resting_order_fills_when_the_market_moves_through_it(self):
        conf = self._write_conf("volatile.toml", "[market]\nvolatility_ticks = 20.0\n")
        x = self.start("--tick-rate", "1", "--symbols", "1", "--seed", "3", "--config", conf)
        c = self.connect(x)
        md = c.wait_for(lambda m: isinstance(m, hp.MarketData))
        limit = md.best_bid() - 100  # one tick under the bid: rests
        c.send(hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.DAY, limit, 1))
        ack = c.wait_for(lambda m: isinstance(m, hp.ExecutionReport))
        self.assertEqual(ack.exec_type, hp.ExecType.NEW)
        last_ask = None

        def fill_or_md(m):
            nonlocal last_ask
            if isinstance(m, hp.MarketData):
                last_ask = m.best_ask()
            return isinstance(m, hp.ExecutionReport)

        fill = c.wait_for(fill_or_md, timeout=30)
        self.assertEqual(fill.exec_type, hp.ExecType.FILL)
        self.assertEqual(fill.last_px, limit)
        self.assertLessEqual(last_ask, limit)  # the snapshot of that tick went through it

    def test_order_before_logon_is_rejected_reason_6_and_no_market_data(self):
        x = self.start("--tick-rate", "5")
        c = self.connect(x, logon=False)
        c.send(hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.IOC, 1_000_000, 1))
        c.send(hp.CancelOrder(1, 1))
        seen = []
        r = c.wait_for(lambda m: isinstance(m, hp.ExecutionReport), keep=seen)
        self.assertEqual(r.exec_type, hp.ExecType.REJECTED)
        self.assertEqual(r.reject_reason, hp.RejectReason.NOT_LOGGED_ON)
        self.assertEqual(r.order_id, 0)
        r = c.wait_for(lambda m: isinstance(m, hp.ExecutionReport), keep=seen)
        self.assertEqual(r.exec_type, hp.ExecType.CANCEL_REJECTED)
        self.assertEqual(r.reject_reason, hp.RejectReason.NOT_LOGGED_ON)
        # Twenty tick intervals without any MARKET_DATA on this connection.
        with self.assertRaises(TimeoutError):
            c.wait_for(lambda m: True, timeout=0.1, keep=seen)
        self.assertEqual(seen, [])
        # The wrong version is refused; then a good logon; then a second one is refused.
        r = c.logon("it", version=2)
        self.assertEqual((r.status, r.reason), (hp.LogonStatus.REJECTED,
                                                hp.LogonReason.UNSUPPORTED_VERSION))
        r = c.logon("it")
        self.assertEqual(r.status, hp.LogonStatus.ACCEPTED)
        self.assertEqual(r.heartbeat_interval_ms, hp.DEFAULT_HEARTBEAT_MS)
        r = c.logon("it")
        self.assertEqual((r.status, r.reason), (hp.LogonStatus.REJECTED,
                                                hp.LogonReason.ALREADY_LOGGED_ON))
        c.wait_for(lambda m: isinstance(m, hp.MarketData))

    # --- misbehaving clients ------------------------------------------------------------

    def test_garbage_client_is_dropped_while_another_keeps_its_cadence(self):
        x = self.start("--tick-rate", "20")
        good = self.connect(x)
        market_data_times(good, 1, 3, 5)
        bad = self.connect(x)
        start = x.log_size()
        done = {}

        def misbehave():
            # A well-formed header whose msg_length is above 4096 condemns the stream.
            bad.send_raw(struct.pack(hp.HEADER_FMT, 5000, 3, 2, 0) + b"\xff" * 64)
            try:
                bad.wait_for(lambda m: isinstance(m, hp.Logout), timeout=5)
                done["logout"] = True
                bad.wait_for(lambda m: False, timeout=5)
            except hp.ConnectionClosed:
                done["closed"] = True

        t = threading.Thread(target=misbehave)
        t.start()
        times = market_data_times(good, 1, 60, 10)
        t.join(10)
        self.assertTrue(done.get("closed"), "the garbage client was not disconnected")
        m = x.wait_for_line(r"Malformed frame from (127\.0\.0\.1:\d+) .*: (.*); closing",
                            start=start)
        self.assertEqual(m.group(1), f"127.0.0.1:{bad.sock.getsockname()[1]}")
        self.assertIn("4096", m.group(2))
        interval = mean_interval(times)
        self.assertGreater(interval, 0.020 * 0.8)
        self.assertLess(interval, 0.020 * 1.2)
        self.assertEqual(x.log().count("Malformed frame"), 1)  # logged once

    def test_unknown_type_is_skipped_and_the_session_goes_on(self):
        x = self.start("--tick-rate", "10")
        c = self.connect(x)
        c.send(hp.UnknownFrame(b"\0" * 8, hp.Header(msg_type=42)))
        c.send(hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.DAY, 500_000, 1))
        r = c.wait_for(lambda m: isinstance(m, hp.ExecutionReport))
        self.assertEqual(r.exec_type, hp.ExecType.NEW)

    def test_client_that_does_not_read_is_disconnected_as_slow_consumer(self):
        stats = self.path("stats.json")
        conf = self._write_conf("slow.toml", "[server]\noutput_buffer_bytes = 65536\n")
        x = self.start("--tick-rate", "1", "--symbols", "16", "--depth", "32",
                       "--stats-file", stats, "--config", conf)
        # The reader only drains bytes: decoding 16 MB/s in Python would make it slow too.
        reader = self.connect(x)
        received = [0]
        stop = threading.Event()

        def drain():
            reader.sock.settimeout(0.5)
            while not stop.is_set():
                try:
                    data = reader.sock.recv(1 << 20)
                except socket.timeout:
                    continue
                if not data:
                    break
                received[0] += len(data)

        t = threading.Thread(target=drain)
        t.start()
        try:
            slow = socket.socket()
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.connect((HOST, x.port))
            self.clients.append(slow)
            slow.sendall(hp.encode(hp.Logon(1, 0, "slow"), 1))
            m = x.wait_for_line(r"Slow consumer (127\.0\.0\.1:\d+)", timeout=30)
            self.assertEqual(m.group(1), f"127.0.0.1:{slow.getsockname()[1]}")
            x.wait_for_line(r"Disconnect session_id \d+ account 'slow'.*slow consumer")
            before = received[0]
            deadline = time.monotonic() + 5
            while received[0] < before + 100_000 and time.monotonic() < deadline:
                stop.wait(0.01)  # polls the reader's byte count, not a fixed sleep
            self.assertGreaterEqual(received[0], before + 100_000)  # the reader is still served
        finally:
            stop.set()
            t.join(5)
        self.assertEqual(x.terminate(), 0)
        self.assertNotRegex(x.log(), r"account 'it'.*slow consumer")
        with open(stats) as f:
            self.assertEqual(json.load(f)["slow_consumer_disconnects"], 1)

    def _write_conf(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    # --- session layer ------------------------------------------------------------------

    def test_heartbeats_both_ways_and_timeout_logout_reason_2(self):
        # Ticks far apart, so that only heartbeats keep the line busy.
        x = self.start("--tick-rate", "60000")
        silent = self.connect(x, heartbeat_ms=200)
        talker = self.connect(x, heartbeat_ms=200)
        logged_on = time.monotonic()
        heartbeats = 0
        logout = None
        while logout is None:
            msg = silent.recv(5)
            if isinstance(msg, hp.Heartbeat):
                heartbeats += 1
            elif isinstance(msg, hp.Logout):
                logout = msg
            talker.send(hp.Heartbeat())
        elapsed = time.monotonic() - logged_on
        self.assertEqual(logout.reason, hp.LogoutReason.HEARTBEAT_TIMEOUT)
        self.assertGreaterEqual(heartbeats, 1)  # the exchange heartbeats an idle line
        self.assertGreater(elapsed, 0.5)
        self.assertLess(elapsed, 2.0)
        with self.assertRaises(hp.ConnectionClosed):
            silent.wait_for(lambda m: False, timeout=5)
        x.wait_for_line(r"Heartbeat timeout")
        # The client that kept talking is still logged on.
        talker.send(hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.DAY, 500_000, 1))
        r = talker.wait_for(lambda m: isinstance(m, hp.ExecutionReport))
        self.assertEqual(r.exec_type, hp.ExecType.NEW)

    def test_sigterm_logs_out_clients_and_writes_matching_stats(self):
        stats = self.path("stats.json")
        samples = self.path("samples.csv")
        x = self.start("--tick-rate", "10", "--stats-file", stats, "--samples-file", samples)
        c = self.connect(x)

        # A second session rests orders and drops the connection: they are canceled.
        leaver = self.connect(x)
        for i in range(1, 4):
            leaver.send(hp.NewOrder(i, 2, hp.Side.SELL, hp.Tif.DAY, 9_000_000, 1))
        for _ in range(3):
            leaver.wait_for(lambda m: isinstance(m, hp.ExecutionReport))
        leaver.close()
        x.wait_for_line(r"Disconnect session_id \d+ .*: peer closed the connection; 3 orders "
                        r"sent, 3 resting orders canceled")

        sent = 0
        fills = 0
        reports = 0
        seen = []
        for i in range(1, 41):
            md = c.wait_for(lambda m: isinstance(m, hp.MarketData), keep=seen)
            side = hp.Side.BUY if i % 2 else hp.Side.SELL
            px = md.best_ask() if side == hp.Side.BUY else md.best_bid()
            c.send(hp.NewOrder(i, md.symbol_id, side, hp.Tif.IOC, px, 1, md.header.timestamp))
            sent += 1
        done = 0
        deadline = time.monotonic() + 10
        while done < sent:
            msg = seen.pop(0) if seen else c.recv(max(0.01, deadline - time.monotonic()))
            if isinstance(msg, hp.ExecutionReport):
                reports += 1
                if msg.exec_type in (hp.ExecType.PARTIAL_FILL, hp.ExecType.FILL):
                    fills += 1
                if msg.exec_type in (hp.ExecType.FILL, hp.ExecType.EXPIRED,
                                     hp.ExecType.REJECTED):
                    done += 1
        self.assertGreater(fills, 0)

        x.p.send_signal(signal.SIGTERM)
        bye = c.wait_for(lambda m: isinstance(m, hp.Logout), timeout=5)
        self.assertEqual(bye.reason, hp.LogoutReason.EXCHANGE_CLOSING)
        self.assertEqual(x.p.wait(10), 0)
        x.reader.join(5)
        log = x.log()
        self.assertRegex(log, r"Summary: 43 orders")
        self.assertRegex(log, r"Tick-to-trade \(ns\): count 40 min \d+ p50 \d+ p90 \d+ p99 \d+ "
                              r"p99\.9 \d+ max \d+")

        with open(stats) as f:
            s = json.load(f)
        self.assertEqual(s["orders"], sent + 3)
        self.assertEqual(s["fills"], fills)
        self.assertEqual(s["sessions"], 2)
        self.assertEqual(s["cancels_on_disconnect"], 3)
        self.assertEqual(s["execution_reports"], reports + 3)
        self.assertEqual(s["tick_to_trade_ns"]["count"], sent)
        self.assertGreater(s["market_data_frames"], 0)
        for key in ("orders", "fills", "partial_fills", "fill_ratio", "rejects",
                    "rejects_by_reason", "cancels", "expired", "market_data_frames", "sessions",
                    "malformed_frames", "slow_consumer_disconnects"):
            self.assertIn(key, s)
        for key in ("count", "min", "mean", "p50", "p90", "p99", "p99_9", "max"):
            self.assertIn(key, s["tick_to_trade_ns"])
        t2t = s["tick_to_trade_ns"]
        self.assertTrue(t2t["min"] <= t2t["p50"] <= t2t["p99"] <= t2t["max"])
        self.assertFalse(any(n.startswith("stats.json.tmp") for n in os.listdir(self.tmp.name)))

        with open(samples) as f:
            rows = f.read().splitlines()
        self.assertEqual(rows[0], "recv_ns,cl_ord_id,symbol_id,tick_to_trade_ns")
        self.assertEqual(len(rows), 1 + sent + 3)
        timed = [r for r in rows[1:] if not r.endswith(",")]
        self.assertEqual(len(timed), sent)
        self.assertTrue(all(int(r.split(",")[3]) >= 0 for r in timed))

    # --- latency model --------------------------------------------------------------------

    def test_order_entry_delay_shows_in_report_timing_and_tick_to_trade(self):
        stats = self.path("stats.json")
        delay_ns = 10_000_000
        x = self.start("--tick-rate", "10", "--stats-file", stats,
                       "--order-delay-us", str(delay_ns // 1000))
        c = self.connect(x)
        orders = 5
        for i in range(1, orders + 1):
            md = c.wait_for(lambda m: isinstance(m, hp.MarketData))
            sent = time.monotonic()
            c.send(hp.NewOrder(i, md.symbol_id, hp.Side.BUY, hp.Tif.IOC, md.best_ask(), 1,
                               md.header.timestamp))
            ack = c.wait_for(lambda m: isinstance(m, hp.ExecutionReport) and m.cl_ord_id == i)
            # The exchange acts on the order only after the delay: no report can come sooner.
            self.assertGreaterEqual(time.monotonic() - sent, delay_ns / 1e9)
            self.assertEqual(ack.exec_type, hp.ExecType.NEW)
        self.assertEqual(x.terminate(), 0)
        with open(stats) as f:
            s = json.load(f)
        self.assertEqual(s["tick_to_trade_ns"]["count"], orders)
        self.assertGreaterEqual(s["tick_to_trade_ns"]["min"], delay_ns)
        applied = s["order_entry_delay_ns"]
        self.assertEqual(applied["count"], orders)
        self.assertEqual(applied["p50"], delay_ns)
        self.assertEqual(applied["p99"], delay_ns)
        self.assertRegex(x.log(), r"Order-entry delay applied \(ns\): count 5 mean 10000000 "
                                  r"p50 10000000 p99 10000000")

    def test_no_delay_by_default_and_the_stats_say_so(self):
        stats = self.path("stats.json")
        x = self.start("--tick-rate", "10", "--stats-file", stats)
        c = self.connect(x)
        md = c.wait_for(lambda m: isinstance(m, hp.MarketData))
        c.send(hp.NewOrder(1, md.symbol_id, hp.Side.BUY, hp.Tif.IOC, md.best_ask(), 1,
                           md.header.timestamp))
        c.wait_for(lambda m: isinstance(m, hp.ExecutionReport))
        self.assertEqual(x.terminate(), 0)
        with open(stats) as f:
            s = json.load(f)
        self.assertEqual(s["order_entry_delay_ns"]["count"], 0)

    def test_market_data_delay_is_applied_and_reported_in_the_stats(self):
        stats = self.path("stats.json")
        delay_ns = 20_000_000
        x = self.start("--tick-rate", "5", "--stats-file", stats,
                       "--md-delay-us", str(delay_ns // 1000))
        c = self.connect(x)
        sent = 0
        orders = 3
        for i in range(1, orders + 1):
            md = c.wait_for(lambda m: isinstance(m, hp.MarketData))
            c.send(hp.NewOrder(i, md.symbol_id, hp.Side.BUY, hp.Tif.IOC, md.best_ask(), 1,
                               md.header.timestamp))
            c.wait_for(lambda m: isinstance(m, hp.ExecutionReport) and m.cl_ord_id == i)
            sent += 1
        self.assertEqual(x.terminate(), 0)
        with open(stats) as f:
            s = json.load(f)
        applied = s["market_data_delay_ns"]
        self.assertGreater(applied["count"], 0)
        self.assertEqual(applied["p50"], delay_ns)
        self.assertEqual(s["order_entry_delay_ns"]["count"], 0)
        self.assertRegex(x.log(), r"Market-data delay applied \(ns\): count \d+ mean 20000000")

    def test_market_data_delay_with_tick_rate_0_is_refused(self):
        r = run_exe("--tick-rate", "0", "--md-delay-us", "100")
        self.assertEqual(r.returncode, 2)
        self.assertIn("tick_rate_ms", r.stderr)

    def test_bad_latency_settings_exit_2_naming_the_flag(self):
        r = run_exe("--order-jitter", "gaussian")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--order-jitter", r.stderr)
        self.assertIn("exponential", r.stderr)
        r = run_exe("--order-spike-prob", "101")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--order-spike-prob", r.stderr)

    # --- recording and replay -------------------------------------------------------------

    def record(self, ticks=30):
        """A recording made by exchange-sim itself: `ticks` publications of 2 symbols."""
        rec = self.path("md.rec")
        x = self.start("--tick-rate", "5", "--symbols", "2", "--depth", "3", "--seed", "7",
                       "--record", rec)
        c = self.connect(x)
        market_data_times(c, 2, ticks, 10)
        self.assertEqual(x.terminate(), 0)
        x.wait_for_line(r"Recorded \d+ market data frames to ")
        return rec

    def replayed_frames(self, rec, *args):
        """Every MARKET_DATA frame (symbol and entries) a client gets from a replay, in order,
        until the exchange logs the end of the recording and the frames stop."""
        x = self.start("--replay", rec, "--seed", "3", *args)
        c = self.connect(x)
        m = x.wait_for_line(r"Replaying .*: (\d+) frames, 2 symbols, depth 3")
        total = int(m.group(1))
        frames = []
        while len(frames) < total:
            msg = c.recv(10)
            if isinstance(msg, hp.MarketData):
                frames.append((msg.symbol_id, [(e.price, e.qty, e.side, e.level)
                                               for e in msg.entries]))
        x.wait_for_line(r"Replay finished: \d+ frames")
        self.assertEqual(x.terminate(), 0)
        return frames

    def test_replay_twice_gives_the_same_frames_as_the_recording(self):
        rec = self.record()
        first = self.replayed_frames(rec, "--speed", "max")
        second = self.replayed_frames(rec, "--speed", "max")
        self.assertGreaterEqual(len(first), 60)
        self.assertEqual(first, second)
        # ... and they are the recorded ladders, frame for frame.
        with open(rec, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"HFTMDREC")
        recorded, at = [], 16
        while at < len(data):
            (length,) = struct.unpack_from("<H", data, at + 8)
            md = hp.decode(data[at + 8:at + 8 + length])
            recorded.append((md.symbol_id, [(e.price, e.qty, e.side, e.level)
                                            for e in md.entries]))
            at += 8 + length
        self.assertEqual(first, recorded)

    def test_replay_at_speed_1_keeps_the_recorded_pacing(self):
        rec = self.record(ticks=20)
        x = self.start("--replay", rec, "--speed", "1")
        c = self.connect(x)
        times = market_data_times(c, 2, 20, 10)
        # Recorded every 5 ms: 19 intervals take about 95 ms, not a burst.
        self.assertGreater(times[-1] - times[0], 0.07)
        self.assertEqual(x.terminate(), 0)

    def test_replay_of_a_bad_file_exits_66_naming_the_problem(self):
        bad = self.path("bad.rec")
        with open(bad, "wb") as f:
            f.write(b"NOTAREC!" + bytes(8))
        r = run_exe("--replay", bad)
        self.assertEqual(r.returncode, 66)
        self.assertIn("bad magic", r.stderr)
        self.assertIn(bad, r.stderr)
        rec = self.record(ticks=3)
        with open(rec, "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data[:-7])
        r = run_exe("--replay", bad)
        self.assertEqual(r.returncode, 66)
        self.assertIn("truncated", r.stderr)
        r = run_exe("--replay", self.path("missing.rec"))
        self.assertEqual(r.returncode, 66)
        self.assertIn("cannot open", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

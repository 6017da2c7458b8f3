#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hftd against the real exchange-sim on loopback: a short session, counts that agree on both
sides, a complete session directory whose journal reads back, and reconnection after the
exchange dies. Every wait is on an event (a log line, a socket, a counter), never a fixed sleep.
"""
import json
import os
import signal
import struct
import subprocess
import unittest
import zlib

from hftproc import HFTCTL, HFTD, SOURCE_ROOT, ProcCase, hftctl, start_exchange, stats, wait_for


def read_journal(path):
    """Reads journal.bin as docs/session-data.md describes it, checking every CRC."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"HFTJRNL1", "bad journal header"
    pos, records = 8, []
    while pos < len(data):
        length, crc = struct.unpack_from("<II", data, pos)
        payload = data[pos + 8:pos + 8 + length]
        assert len(payload) == length, "torn record at %d" % pos
        assert zlib.crc32(payload) == crc, "checksum mismatch at %d" % pos
        local_ns, direction, _, flen = struct.unpack_from("<QBBH", payload, 0)
        records.append((local_ns, direction, payload[12:12 + flen]))
        pos += 8 + length
    return records


class EngineTest(ProcCase):
    tmp_prefix = "hft-engine-"

    def test_session_counts_agree_with_the_exchange_and_the_journal_reads_back(self):
        exchange, port, exchange_stats = start_exchange(self.tmp)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "-v", "--start-session")
        hftd.wait_line("Connected to exchange")
        s = wait_for(lambda: (lambda x: x if x["fills"] >= 3 else None)(stats(self.sock)),
                     "three fills")
        self.assertGreater(s["rx_packets"], 0)
        self.assertGreater(s["orders_sent"], 0)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(), 0)

        final = summary.get("stats", summary)
        with open(exchange_stats) as f:
            ex = json.load(f)
        self.assertEqual(final["orders_sent"], ex["orders"], "orders: engine vs exchange")
        # Both count fill reports, partial fills included.
        self.assertEqual(final["fills"], ex["fills"], "fills: engine vs exchange")

        sessions = os.listdir(self.sessions)
        self.assertEqual(len(sessions), 1)
        sdir = os.path.join(self.sessions, sessions[0])
        for name in ("journal.bin", "latency.csv", "histograms.json", "stats.json"):
            self.assertTrue(os.path.exists(os.path.join(sdir, name)), name)
        records = read_journal(os.path.join(sdir, "journal.bin"))
        sent = [r for r in records if r[1] == 0 and struct.unpack_from("<H", r[2], 2)[0] == 3]
        reports = [r for r in records if r[1] == 1]
        self.assertEqual(len(sent), final["orders_sent"])
        # Positions agree with the fills the journal holds.
        position = {}
        for _, _, frame in reports:
            (cl, oid, eid, sym, etype, side, rr, _r, px, lpx, lqty, cum, leaves,
             _r2) = struct.unpack_from("<QQQIBBBBqqIIII", frame, 16)
            if etype in (1, 2):
                position[sym] = position.get(sym, 0) + (lqty if side == 0 else -lqty)
        for sym in final["symbols"]:
            self.assertEqual(sym["position"], position.get(sym["symbol_id"], 0),
                             "symbol %d position vs journal fills" % sym["symbol_id"])
        with open(os.path.join(sdir, "latency.csv")) as f:
            rows = f.read().strip().split("\n")
        self.assertEqual(len(rows) - 1, final["orders_sent"])
        with open(os.path.join(sdir, "stats.json")) as f:
            self.assertEqual(json.load(f)["orders_sent"], final["orders_sent"])
        self.assertIn("RX packets", hftd.text())

    def test_exchange_killed_mid_session_hftd_reconnects_when_it_returns(self):
        exchange, port, _ = start_exchange(self.tmp)
        hftd = self.start_hftd(port, "--start-session")
        first, _ = hftd.wait_line("Connected to exchange")
        wait_for(lambda: stats(self.sock)["md_messages"] > 10, "market data")
        exchange.stop(signal.SIGKILL)
        closed, _ = hftd.wait_line("Exchange connection closed", start=first + 1)
        self.assertIsNone(hftd.p.poll(), "hftd must stay up")
        self.assertIn(stats(self.sock)["state"], ("reconnecting", "connecting"))
        exchange2, _, _ = start_exchange(self.tmp, port=port)
        self.procs.append(exchange2)
        hftd.wait_line("Connected to exchange", start=closed + 1, timeout=30)
        s = wait_for(lambda: (lambda x: x if x["reconnects"] >= 1 else None)(stats(self.sock)),
                     "a reconnect counted")
        self.assertEqual(s["state"], "trading")
        self.assertEqual(hftd.stop(), 0)

    def test_start_session_fails_clearly_when_no_exchange_listens(self):
        exchange, port, _ = start_exchange(self.tmp)
        exchange.stop()
        hftd = self.start_hftd(port, "--idle")
        r = hftctl(self.sock, "start-session", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot start a session", r.stderr + r.stdout)
        self.assertEqual(stats(self.sock)["state"], "idle")
        self.assertEqual(hftd.stop(), 0)

    def test_a_core_outside_the_allowed_set_is_refused_with_exit_78(self):
        allowed = sorted(os.sched_getaffinity(0))
        bad = max(allowed) + 64
        r = subprocess.run([HFTD, "--config", os.path.join(SOURCE_ROOT, "conf", "hftd.toml"),
                            "--network-core", str(bad), "--strategy-core", str(allowed[0]),
                            "--socket", self.sock],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("core %d" % bad, r.stderr)
        self.assertIn("allowed", r.stderr)

    def test_bad_flag_exit_2_and_bad_config_exit_78(self):
        r = subprocess.run([HFTD, "--bogus"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--bogus", r.stderr)
        bad = os.path.join(self.tmp, "bad.toml")
        with open(bad, "w") as f:
            f.write("[risk]\nmax_order_qty = \"many\"\n")
        r = subprocess.run([HFTD, "--check-config", bad], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 78)
        self.assertIn("bad.toml:2:", r.stderr)
        r = subprocess.run([HFTD, "--check-config",
                            os.path.join(SOURCE_ROOT, "conf", "hftd.toml")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)


class ControlTest(ProcCase):
    """hftd driven by hftctl alone, as an operator would."""

    tmp_prefix = "hft-control-"

    def setUp(self):
        super().setUp()
        self.conf = os.path.join(self.tmp, "hftd.toml")
        with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
            self.shipped = f.read()
        self.write_conf(self.shipped)
        self.exchange, self.port, _ = start_exchange(self.tmp)
        self.procs.append(self.exchange)
        self.hftd = self.start_hftd(self.port, "--idle", config=self.conf, interface=None)

    def write_conf(self, text):
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.conf)

    def test_a_session_from_start_to_summary(self):
        status = json.loads(hftctl(self.sock, "status", "--json").stdout)
        self.assertEqual(status["state"], "idle")
        r = hftctl(self.sock, "start-session")
        session_id = r.stdout.strip().split()[-1]
        self.assertRegex(session_id, r"^\d{8}-\d{6}-[0-9a-f]{4}$")
        again = hftctl(self.sock, "start-session", check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("already running", again.stderr + again.stdout)
        first = wait_for(lambda: (lambda x: x if x["orders_sent"] > 0 else None)(
            stats(self.sock)), "orders")
        self.assertEqual(first["session_id"], session_id)
        wait_for(lambda: stats(self.sock)["orders_sent"] > first["orders_sent"],
                 "orders_sent rising")
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        self.assertEqual(summary["session_id"], session_id)
        self.assertTrue(summary["directory"].endswith(session_id))
        self.assertTrue(os.path.exists(os.path.join(summary["directory"], "stats.json")))
        self.assertEqual(stats(self.sock)["state"], "idle")
        none = hftctl(self.sock, "stop-session", check=False)
        self.assertEqual(none.returncode, 1)
        self.assertIn("no session", none.stderr + none.stdout)

    def test_kill_switch_stops_new_orders_and_turns_off(self):
        hftctl(self.sock, "start-session")
        wait_for(lambda: stats(self.sock)["orders_sent"] > 0, "orders")
        hftctl(self.sock, "kill-switch", "on")
        s = stats(self.sock)
        self.assertTrue(s["kill_switch"])
        # New intents are refused by risk from now on: risk_rejects rises, orders do not.
        frozen = s["orders_sent"]
        wait_for(lambda: stats(self.sock)["risk_rejects"] > s["risk_rejects"],
                 "the kill switch refusing orders")
        self.assertLessEqual(stats(self.sock)["orders_sent"], frozen + 1)
        hftctl(self.sock, "kill-switch", "off")
        self.assertFalse(stats(self.sock)["kill_switch"])
        wait_for(lambda: stats(self.sock)["orders_sent"] > frozen + 1, "trading resuming")

    def test_reload_keeps_the_old_config_on_error_and_applies_a_good_one(self):
        self.assertEqual(stats(self.sock)["risk_max_order_qty"], 100)
        self.write_conf(self.shipped.replace("max_order_qty = 100", "max_order_qty = lots"))
        bad = hftctl(self.sock, "reload", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("hftd.toml:", bad.stderr + bad.stdout)
        self.assertEqual(stats(self.sock)["risk_max_order_qty"], 100)
        self.write_conf(self.shipped.replace("max_order_qty = 100", "max_order_qty = 80"))
        good = json.loads(hftctl(self.sock, "reload", "--json").stdout)
        self.assertEqual(good["applied"], ["risk.max_order_qty"])
        self.assertEqual(good["needs_restart"], [])
        self.assertEqual(stats(self.sock)["risk_max_order_qty"], 80)
        # SIGHUP does the same.
        self.write_conf(self.shipped.replace("max_order_qty = 100", "max_order_qty = 70"))
        self.hftd.p.send_signal(signal.SIGHUP)
        wait_for(lambda: stats(self.sock)["risk_max_order_qty"] == 70, "SIGHUP reload")

    def test_reload_of_an_unchanged_file_keeps_the_command_line_and_reports_nothing(self):
        # hftd runs with --exchange, --sessions-dir, --poll-mode, --idle, ...: the file says
        # otherwise for each, and a reload must not bring the file's values back.
        before = json.loads(hftctl(self.sock, "status", "--json").stdout)
        self.assertEqual(before["exchange"], "127.0.0.1:%d" % self.port)
        r = json.loads(hftctl(self.sock, "reload", "--json").stdout)
        self.assertEqual(r["applied"], [])
        self.assertEqual(r["needs_restart"], [])
        after = json.loads(hftctl(self.sock, "status", "--json").stdout)
        for key in ("exchange", "poll_mode", "network_core", "strategy_core", "state"):
            self.assertEqual(after[key], before[key], key)
        # The next session still goes to the flag's exchange and into the flag's directory.
        hftctl(self.sock, "start-session")
        wait_for(lambda: stats(self.sock)["orders_sent"] > 0, "orders to the flag's exchange")
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        self.assertEqual(os.path.dirname(summary["directory"]), self.sessions)

    def test_reloads_at_once_from_sighup_and_hftctl_all_complete(self):
        self.write_conf(self.shipped.replace("max_order_qty = 100", "max_order_qty = 60"))
        clients = [subprocess.Popen([HFTCTL, "--socket", self.sock, "reload", "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(4)]
        for _ in range(4):
            self.hftd.p.send_signal(signal.SIGHUP)
        results = [c.communicate(timeout=30) for c in clients]
        for c, (out, err) in zip(clients, results):
            self.assertEqual(c.returncode, 0, err)
            applied = json.loads(out)["applied"]
            # Serialised: whichever ran first applied the change, the others found nothing new.
            self.assertIn(applied, ([], ["risk.max_order_qty"]))
        self.assertEqual(stats(self.sock)["risk_max_order_qty"], 60)
        self.assertEqual(hftctl(self.sock, "status").returncode, 0)

    def test_hftctl_exits_3_once_hftd_is_gone(self):
        self.assertEqual(self.hftd.stop(), 0)
        r = hftctl(self.sock, "status", check=False)
        self.assertEqual(r.returncode, 3)
        self.assertIn(self.sock, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

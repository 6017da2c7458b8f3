#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Faults around a trading hftd: the exchange killed and restarted (the order manager forgets
the orders that died with it), hftd itself killed (its journal reads back; a new hftd starts a
new session on the same directory) and a full session disk (new orders stop, or only latency
samples are lost; the journal keeps every record).
(test_engine.py already covers the reconnect itself.)"""

import errno
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import unittest

from hostile_common import HftdCase, hftctl, stat_at_least, stats, wait_for
from hftproc import Proc, hftd_argv, start_exchange
from test_engine import read_journal

NEW_ORDER, CANCEL_ORDER = 3, 4
TERMINAL = {2, 3, 4, 6}  # fill, canceled, rejected, expired
MAX_RECORD = 8 + 12 + 80  # record head + payload head + the largest journaled frame


def frame_type(frame):
    return struct.unpack_from("<H", frame, 2)[0]


def cl_ord_id(frame):
    return struct.unpack_from("<Q", frame, 16)[0]


def read_journal_to_last_record(path):
    """read_journal() over the file's whole records, and the size of the torn tail (bytes
    after the last whole record: a crash mid-write) that it leaves out."""
    with open(path, "rb") as f:
        data = f.read()
    end = 8
    while end + 8 <= len(data):
        (length,) = struct.unpack_from("<I", data, end)
        if end + 8 + length > len(data):
            break
        end += 8 + length
    whole = path + ".whole"
    with open(whole, "wb") as f:
        f.write(data[:end])
    try:
        return read_journal(whole), len(data) - end  # every CRC is checked
    finally:
        os.unlink(whole)


def open_orders(records):
    """cl_ord_ids sent and not yet done, by the journal."""
    sent, done = [], set()
    for _, direction, frame in records:
        if direction == 0 and frame_type(frame) == NEW_ORDER:
            sent.append(cl_ord_id(frame))
        elif direction == 1 and frame[44] in TERMINAL:
            done.add(cl_ord_id(frame))
    return [c for c in sent if c not in done]


class FaultTest(HftdCase):
    def journal(self, session_id, sessions=None):
        return os.path.join(self.session_dir(session_id, sessions), "journal.bin")

    def test_exchange_killed_and_restarted_open_orders_are_forgotten_consistently(self):
        # Every order rests (fill-prob 0, DAY orders): some are open when the exchange dies.
        exchange, port, _ = start_exchange(self.tmp, extra=["--fill-prob", "0"])
        self.procs.append(exchange)
        conf = self.config({"strategy": {"ioc": "false"}})
        hftd = self.start_hftd(port, "--start-session", config=conf)
        first, _ = hftd.wait_line("Connected to exchange")
        session_id = stats(self.sock)["session_id"]
        path = self.journal(session_id)
        wait_for(lambda: len(open_orders(read_journal_to_last_record(path)[0])) >= 5,
                 "five resting orders")
        exchange.stop(signal.SIGKILL)
        closed, _ = hftd.wait_line("Exchange connection closed", start=first + 1)
        at_kill = stats(self.sock)
        # Everything up to the kill is journaled once the flush after the close has run.
        wait_for(lambda: sum(1 for r in read_journal_to_last_record(path)[0]
                             if r[1] == 0 and frame_type(r[2]) == NEW_ORDER)
                 >= at_kill["orders_sent"], "the journal to catch up")
        dead = set(open_orders(read_journal_to_last_record(path)[0]))
        self.assertGreaterEqual(len(dead), 1)  # some may have filled before the kill

        exchange2, _, _ = start_exchange(self.tmp, port=port, extra=["--fill-prob", "0"])
        self.procs.append(exchange2)
        hftd.wait_line("Connected to exchange", start=closed + 1, timeout=30)
        # Trading resumes: new orders go out despite the dead ones (max_open_orders is 20).
        wait_for(stat_at_least(self.sock, "orders_sent", at_kill["orders_sent"] + 3),
                 "new orders after the reconnect")
        r = hftctl(self.sock, "stop-session", "--json")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(hftd.stop(), 0)

        records, torn = read_journal_to_last_record(path)
        self.assertEqual(torn, 0)
        cancels_of_dead = [cl_ord_id(f) for _, d, f in records
                           if d == 0 and frame_type(f) == CANCEL_ORDER and cl_ord_id(f) in dead]
        self.assertEqual(cancels_of_dead, [], "stop-session cancelled orders that died with "
                                              "the exchange: the order manager kept them")
        log = hftd.text()
        for bad in ("contradicts our state", "Execution report for order", "still open after",
                    "Kill switch ON"):
            self.assertNotIn(bad, log)
        self.assertFalse(at_kill["kill_switch"])

    def test_hftd_killed_mid_session_journal_reads_back_and_a_new_hftd_starts_cleanly(self):
        exchange, port, _ = start_exchange(self.tmp)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session")
        before = wait_for(stat_at_least(self.sock, "fills", 10), "ten fills")
        path = self.journal(before["session_id"])
        # What the stats count as sent reaches the journal ring first; wait for its flush.
        wait_for(lambda: sum(1 for r in read_journal_to_last_record(path)[0]
                             if r[1] == 0 and frame_type(r[2]) == NEW_ORDER)
                 >= before["orders_sent"], "the journal to hold the orders counted")
        self.assertEqual(hftd.stop(signal.SIGKILL), -signal.SIGKILL)

        records, torn = read_journal_to_last_record(path)
        sent = sum(1 for r in records if r[1] == 0 and frame_type(r[2]) == NEW_ORDER)
        print("killed hftd's journal: %d records (%d orders), torn tail %d bytes"
              % (len(records), sent, torn))
        self.assertGreaterEqual(sent, before["orders_sent"])
        self.assertLess(torn, MAX_RECORD)
        self.assertTrue(all(r[1] in (0, 1) for r in records))
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(path), "stats.json")))

        again = self.start_hftd(port, "--start-session")
        self.assertIn("removed stale socket", again.text())
        after = wait_for(stat_at_least(self.sock, "fills", 1), "fills in the new session")
        self.assertNotEqual(after["session_id"], before["session_id"])
        self.assertEqual(sorted(os.listdir(self.sessions)),
                         sorted([before["session_id"], after["session_id"]]))
        self.assertEqual(after["state"], "trading")
        self.assertEqual(read_journal_to_last_record(path)[0], records)  # left as it was
        self.assertEqual(again.stop(), 0)
        self.assertTrue(os.path.exists(os.path.join(self.sessions, after["session_id"],
                                                    "stats.json")))

    def test_a_nearly_full_journal_ring_stops_new_orders_and_loses_no_record(self):
        # The housekeeping thread stops taking records (a test hook, as if its disk stalled):
        # the journal ring fills, new orders stop with an eighth of it left for the reports of
        # orders already out, and resume once it drains. No record is lost.
        exchange, port, _ = start_exchange(self.tmp, extra=["--tick-rate", "2"])
        self.procs.append(exchange)
        conf = self.config({"strategy": {"cooldown_ms": "5"},
                            "risk": {"max_orders_per_second": "1000"},
                            "session": {"journal_ring": "1024"}})
        env = dict(os.environ, HFTD_TEST_HOOKS="1")
        hftd = Proc(hftd_argv("127.0.0.1:%d" % port, self.sock, self.sessions,
                              "--start-session", config=conf), env=env)
        self.procs.append(hftd)
        hftd.wait_line("Connected to exchange")
        wait_for(stat_at_least(self.sock, "orders_sent", 5), "orders before the stall")
        session_id = stats(self.sock)["session_id"]
        mark = len(hftd.lines)
        hftd.p.send_signal(signal.SIGUSR1)
        hftd.wait_line("stops taking journal and latency records", start=mark)
        hftd.wait_line("journal ring is nearly full", start=mark, timeout=120)
        held = wait_for(stat_at_least(self.sock, "orders_held", 5), "orders held")
        again = wait_for(stat_at_least(self.sock, "orders_held", held["orders_held"] + 20),
                         "more orders held")
        self.assertEqual(again["orders_sent"], held["orders_sent"], "an order went out")
        self.assertEqual(again["journal_lost"], 0)
        mark = len(hftd.lines)
        hftd.p.send_signal(signal.SIGUSR1)
        hftd.wait_line("journal ring has room again", start=mark)
        wait_for(stat_at_least(self.sock, "orders_sent", again["orders_sent"] + 5),
                 "orders once the ring drained")
        final, records = self.stop_and_read_journal(hftd, self.sessions, session_id)
        self.assertEqual(final["dropped_records"], 0)
        print("journal ring: %d orders sent, %d held, %d records read back"
              % (final["orders_sent"], final["orders_held"], len(records)))

    # A full session disk (docs/session-data.md, "Disk full"): a 4 MiB tmpfs that the test
    # fills mid-session. The journal reads back whole (every CRC) with every order hftd sent.

    def small_disk(self):
        disk = tempfile.mkdtemp(prefix="hft-full-")
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk],
                          capture_output=True).returncode != 0:
            os.rmdir(disk)
            self.skipTest("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)")

        def unmount():
            subprocess.run(["umount", disk], check=True)
            shutil.rmtree(disk)
        self.addCleanup(unmount)  # runs after the hftd.stop cleanups registered later (LIFO)
        return disk

    @staticmethod
    def fill(disk):
        """Writes a filler file until the filesystem has no page left; returns its path."""
        path = os.path.join(disk, "filler")
        with open(path, "wb", buffering=0) as f:
            for chunk in (1 << 16, 1 << 12):
                try:
                    while True:
                        f.write(b"\0" * chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
        return path

    def trade_on_small_disk(self, session_changes):
        disk = self.small_disk()
        exchange, port, _ = start_exchange(self.tmp, extra=["--tick-rate", "2"])
        self.procs.append(exchange)
        # Orders (and so journal records) several times faster than the defaults.
        # No market-data recording: when its write fails, the recorder cuts its file back to
        # the last whole frame, and the pages that gives back would let the journal write
        # again before the test frees space (test_md_recording.py covers the recorder's fault).
        conf = self.config({"strategy": {"cooldown_ms": "20"},
                            "risk": {"max_orders_per_second": "200"},
                            "session": {"record_market_data": "false", **session_changes}})
        hftd = self.start_hftd(port, "--start-session", config=conf, sessions=disk)
        self.addCleanup(hftd.stop, signal.SIGKILL)  # no-op when it already exited
        hftd.wait_line("Connected to exchange")
        wait_for(stat_at_least(self.sock, "orders_sent", 20), "20 orders before the disk fills")
        return disk, hftd

    def stop_and_read_journal(self, hftd, disk, session_id):
        r = hftctl(self.sock, "stop-session", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        final = stats(self.sock)
        records = read_journal(os.path.join(disk, session_id, "journal.bin"))  # every CRC
        self.assertEqual(hftd.stop(), 0)  # a clean exit, not a crash
        sent = [cl_ord_id(f) for _, d, f in records if d == 0 and frame_type(f) == NEW_ORDER]
        self.assertEqual(len(sent), final["orders_sent"], "an order is missing from the journal")
        self.assertEqual(len(set(sent)), len(sent))
        self.assertEqual(final["journal_lost"], 0)
        self.assertEqual(final["journal_complete"], 1)
        self.assertEqual(final["journal_records"], len(records))
        return final, records

    def test_full_disk_stops_new_orders_and_the_journal_keeps_every_record(self):
        disk, hftd = self.trade_on_small_disk({"journal_reserve_mib": "1"})
        session_id = stats(self.sock)["session_id"]
        mark = len(hftd.lines)
        self.fill(disk)
        _, line = hftd.wait_line("write failed", start=mark, timeout=60)
        self.assertIn("No space left on device", line)
        hftd.wait_line("New orders stopped", start=mark)
        held = wait_for(stat_at_least(self.sock, "orders_held", 5), "orders held", 30)
        again = wait_for(stat_at_least(self.sock, "orders_held", held["orders_held"] + 10),
                         "more orders held", 30)
        self.assertEqual(again["orders_sent"], held["orders_sent"], "an order went out")
        self.assertGreater(again["md_messages"], held["md_messages"])
        self.assertEqual(again["disk_full"], 1)
        self.assertEqual(again["state"], "trading")  # connected: cancels and reports flow
        self.assertGreater(again["write_errors"], 0)
        self.assert_up(hftd)
        final, records = self.stop_and_read_journal(hftd, disk, session_id)
        print("disk full: %d orders sent, %d held, %d journal records read back"
              % (final["orders_sent"], final["orders_held"], len(records)))

    def test_full_disk_with_keep_trading_loses_only_latency_samples(self):
        disk, hftd = self.trade_on_small_disk({"journal_reserve_mib": "1",
                                               "on_disk_full": "\"keep_trading\""})
        session_id = stats(self.sock)["session_id"]
        mark = len(hftd.lines)
        self.fill(disk)
        _, line = hftd.wait_line("latency.csv: write failed", start=mark, timeout=60)
        self.assertIn("keep_trading", line)
        full = stats(self.sock)
        after = wait_for(lambda: (lambda s: s if s["orders_sent"] >= full["orders_sent"] + 20
                                  and s["fills"] > full["fills"]
                                  and s["latency_samples_lost"] > 0 else None)(stats(self.sock)),
                         "orders, fills and lost latency samples after the disk filled", 60)
        self.assertEqual(after["state"], "trading")
        self.assertEqual(after["orders_held"], 0)
        self.assertEqual(after["disk_full"], 1)
        self.assertNotIn("New orders stopped", hftd.text())
        final, _ = self.stop_and_read_journal(hftd, disk, session_id)
        self.assertGreater(final["orders_sent"], full["orders_sent"])

    def test_journal_without_room_holds_its_records_and_writes_them_when_space_returns(self):
        disk, hftd = self.trade_on_small_disk({"journal_reserve_mib": "0",
                                               "on_disk_full": "\"keep_trading\""})
        session_id = stats(self.sock)["session_id"]
        mark = len(hftd.lines)
        filler = self.fill(disk)
        _, line = hftd.wait_line("journal.bin: write failed", start=mark, timeout=60)
        self.assertIn("held in memory", line)
        hftd.wait_line("New orders stopped", start=mark)
        held = wait_for(lambda: (lambda s: s if s["orders_held"] >= 5 and s["journal_unwritten"]
                                 else None)(stats(self.sock)), "orders held, records unwritten")
        self.assertEqual(held["journal_complete"], 0)
        # Whatever reached the file so far reads back whole: no torn record.
        read_journal(os.path.join(disk, session_id, "journal.bin"))
        mark = len(hftd.lines)
        os.unlink(filler)
        hftd.wait_line("written again, no record lost", start=mark)
        wait_for(lambda: (lambda s: s if s["orders_sent"] >= held["orders_sent"] + 10
                          and s["journal_unwritten"] == 0 else None)(stats(self.sock)),
                 "trading again once the journal is written", 60)
        self.stop_and_read_journal(hftd, disk, session_id)


if __name__ == "__main__":
    unittest.main(verbosity=2)

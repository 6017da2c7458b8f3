#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hftd against a hostile exchange played by hand (hostile_common.FakeExchange): garbage,
torn and oversized frames, byte-by-byte frames, a flood, a silent logon and a dead heartbeat.
In each, hftd stays up, counts and logs the bad frame once, and closes or reconnects as
docs/protocol.md and docs/hftd.md say. Every wait is on an event, never a fixed sleep."""

import random
import re
import select
import socket
import struct
import time
import unittest

import hftproto as hp
from hostile_common import (FakeExchange, HftdCase, hftctl, numbered_block, rss_kib,
                            stat_at_least, stats, valid_market_data, wait_for)

MALFORMED_LINE = re.compile(r"Malformed frame from exchange 127\.0\.0\.1: (.+); connection closed")


class FakeExchangeTest(HftdCase):
    def setUp(self):
        super().setUp()
        self.exchange = FakeExchange()
        self.closers.append(self.exchange.close)

    def trading(self, *extra, config=None, heartbeat_ms=1000):
        """hftd with a session logged on to the fake exchange, which heartbeats it."""
        hftd = self.start_hftd(self.exchange.port, "--start-session", *extra, config=config)
        session = self.exchange.accept()
        session.logon(heartbeat_ms)
        session.start_heartbeats(heartbeat_ms / 3000)
        hftd.wait_line("trading")
        return hftd, session

    def assert_malformed_once(self, hftd):
        """The bad frame is counted once and logged once, with its reason; returns the reason."""
        s = wait_for(stat_at_least(self.sock, "malformed_frames", 1), "malformed_frames")
        self.assertEqual(s["malformed_frames"], 1)
        _, line = hftd.wait_line("Malformed frame from exchange")
        lines = [ln for ln in hftd.text().split("\n") if "Malformed frame" in ln]
        self.assertEqual(len(lines), 1, "logged more than once:\n" + "\n".join(lines))
        m = MALFORMED_LINE.search(line)
        self.assertIsNotNone(m, line)
        return m.group(1)

    def assert_reconnects(self, hftd, first):
        """hftd closed the first connection, comes back, logs on again and trades."""
        first.wait_closed()
        second = self.exchange.accept()
        second.logon()
        second.start_heartbeats(0.3)
        s = wait_for(lambda: (lambda x: x if x["reconnects"] >= 1 and x["state"] == "trading"
                              else None)(stats(self.sock)), "a reconnect, trading again")
        self.assertEqual(s["reconnects"], 1)
        self.assert_up(hftd)
        return second

    def test_garbage_bytes_close_the_connection_are_counted_once_and_hftd_reconnects(self):
        hftd, session = self.trading()
        session.send_raw(random.Random(8).randbytes(512))
        reason = self.assert_malformed_once(hftd)
        self.assertTrue(reason)
        self.assert_reconnects(hftd, session)
        self.assertEqual(stats(self.sock)["malformed_frames"], 1)
        self.assertEqual(hftd.stop(), 0)

    def test_truncated_frame_then_close_is_counted_once_and_hftd_reconnects(self):
        hftd, session = self.trading()
        frame = hp.encode(valid_market_data(), session.next_seq)
        session.stop_heartbeats()
        session.send_raw(frame[:30])
        session.sock.shutdown(socket.SHUT_WR)  # mid-frame: hftd must not read past the end
        reason = self.assert_malformed_once(hftd)
        self.assertIn("inside a frame", reason)
        self.assertEqual(stats(self.sock)["md_messages"], 0)
        self.assert_reconnects(hftd, session)
        self.assertEqual(hftd.stop(), 0)

    def test_msg_length_65535_closes_the_connection_counted_once_and_hftd_reconnects(self):
        hftd, session = self.trading()
        with session.lock:
            header = struct.pack(hp.HEADER_FMT, 65535, hp.MsgType.MARKET_DATA, session.next_seq,
                                 hp.realtime_ns())
            session.sock.sendall(header + b"\x01" * 200)
        reason = self.assert_malformed_once(hftd)
        self.assertIn("above 4096", reason)
        self.assertEqual(stats(self.sock)["md_messages"], 0)
        self.assert_reconnects(hftd, session)
        self.assertEqual(hftd.stop(), 0)

    def test_frames_dribbled_one_byte_per_write_all_decode(self):
        hftd, session = self.trading()
        count = 40
        with session.lock:  # no heartbeat may land between the bytes of a frame
            # The first frame: each byte is read by hftd before the next is written.
            frame = hp.encode(valid_market_data(levels=1), session.next_seq)
            session.next_seq += 1
            for b in range(len(frame)):
                reads = stats(self.sock)["rx_packets"]
                session.sock.sendall(frame[b:b + 1])
                wait_for(stat_at_least(self.sock, "rx_packets", reads + 1), "hftd to read a byte")
                self.assertEqual(stats(self.sock)["md_messages"], 0 if b + 1 < len(frame) else 1)
            # The rest as fast as single-byte writes go.
            for i in range(1, count):
                frame = hp.encode(valid_market_data(symbol_id=1 + i % 4), session.next_seq)
                session.next_seq += 1
                for b in range(len(frame)):
                    session.sock.sendall(frame[b:b + 1])
        s = wait_for(stat_at_least(self.sock, "md_messages", count), "every dribbled frame")
        self.assertEqual(s["md_messages"], count)
        self.assertEqual(s["md_gaps"], 0)
        self.assertEqual(s["malformed_frames"], 0)
        self.assertGreater(s["rx_packets"], 56)
        print("dribble: %d frames arrived in %d reads" % (count, s["rx_packets"]))
        self.assert_up(hftd)
        self.assertEqual(s["state"], "trading")
        self.assertEqual(hftd.stop(), 0)

    def test_market_data_flood_for_5s_hftd_stays_up_with_flat_memory_and_loses_nothing(self):
        hftd, session = self.trading()
        template = hp.encode(valid_market_data(levels=20), 0)
        batch = 1000
        sent = blocked = 0
        rss_1s = None
        start = time.monotonic()
        while time.monotonic() - start < 5:
            with session.lock:
                view = memoryview(numbered_block(session, template, batch))
                while view:
                    try:
                        view = view[session.sock.send(view, socket.MSG_DONTWAIT):]
                    except BlockingIOError:
                        blocked += 1  # hftd is behind: wait until it reads
                        _, writable, _ = select.select([], [session.sock], [], 30)
                        self.assertTrue(writable, "hftd stopped reading for 30 s")
            sent += batch
            if rss_1s is None and time.monotonic() - start >= 1:
                rss_1s = rss_kib(hftd.p.pid)
        rss_end = rss_kib(hftd.p.pid)
        elapsed = time.monotonic() - start
        print("flood: %d frames of %d bytes in %.1f s (%.0f/s), send buffer full %d times, "
              "hftd RSS %d KiB after 1 s, %d KiB at the end"
              % (sent, len(template), elapsed, sent / elapsed, blocked, rss_1s, rss_end))
        self.assertGreater(blocked, 0, "the flood never outran hftd")
        self.assertLessEqual(rss_end, rss_1s + max(2048, rss_1s // 20), "hftd RSS grew")
        s = wait_for(stat_at_least(self.sock, "md_messages", sent), "hftd to read the flood", 60)
        self.assertEqual(s["md_messages"], sent)  # TCP: every frame arrives and is counted
        self.assertEqual(s["md_gaps"], 0)
        self.assertEqual(s["malformed_frames"], 0)
        self.assertEqual(s["reconnects"], 0)
        self.assert_up(hftd)
        self.assertEqual(hftd.stop(), 0)

    def test_exchange_that_never_answers_the_logon_fails_start_session_and_hftd_stays_idle(self):
        hftd = self.start_hftd(self.exchange.port, "--idle")
        # Not accepted yet: the kernel completes hftd's connect and holds its LOGON unanswered.
        r = hftctl(self.sock, "start-session", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("cannot start a session", r.stderr + r.stdout)
        self.assertIn("no logon response", r.stderr + r.stdout)
        session = self.exchange.accept()
        session.wait_msg(lambda m: isinstance(m, hp.Logon))
        session.wait_closed()  # hftd hung up on the silent exchange
        self.assert_up(hftd)
        self.assertEqual(stats(self.sock)["state"], "idle")
        # Idle means idle: no new connection attempt is waiting to be accepted.
        self.assertEqual(select.select([self.exchange.listener], [], [], 0)[0], [])
        self.assertEqual(hftd.stop(), 0)

    def test_exchange_that_stops_heartbeating_gets_logout_reason_2_then_hftd_reconnects(self):
        interval = 0.2
        conf = self.config({"exchange": {"heartbeat_ms": "200"}})
        hftd = self.start_hftd(self.exchange.port, "--start-session", config=conf)
        session = self.exchange.accept()
        _, _, logon = session.wait_msg(lambda m: isinstance(m, hp.Logon))
        self.assertEqual(logon.heartbeat_interval_ms, 200)  # asked for what the config says
        answered = session.logon(heartbeat_ms=200)
        # From here on the exchange says nothing at all.
        _, logout_at, logout = session.wait_msg(lambda m: isinstance(m, hp.Logout))
        self.assertEqual(logout.reason, hp.LogoutReason.HEARTBEAT_TIMEOUT)
        silence = logout_at - answered
        self.assertGreaterEqual(silence, 3 * interval)
        self.assertLess(silence, 3 * interval + 1.0)
        # hftd heartbeated the idle line meanwhile: one interval after anything it sent.
        beats = [t for t, _ in session.messages(hp.Heartbeat) if t < logout_at]
        self.assertGreaterEqual(len(beats), 2, "hftd sent %d heartbeats" % len(beats))
        hftd.wait_line("nothing received for three heartbeat intervals")
        second = self.assert_reconnects(hftd, session)
        self.assertIsNotNone(second)
        self.assertEqual(stats(self.sock)["malformed_frames"], 0)
        self.assertEqual(hftd.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)

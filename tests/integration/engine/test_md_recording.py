#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hftd records the market data it receives (market_data.rec, docs/session-data.md) and
exchange-sim --replay plays that recording back to a fresh hftd frame for frame. Every wait is
on an event (a log line, a counter), never a fixed sleep."""
import json
import os
import signal
import struct
import unittest

from hftproc import (HOST, SOURCE_ROOT, Proc, ProcCase, hftctl, hftd_argv, start_exchange, stats,
                     wait_for)

MARKET_DATA = 1  # msg_type, docs/protocol.md


def read_recording(path):
    """Reads a market-data recording as docs/exchange-sim.md ("Market-data recording format")
    describes it: [(receive_ns, frame bytes)], checking every field it can."""
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) >= 16, "truncated header"
    magic, version, header_size, _ = struct.unpack_from("<8sHHI", data, 0)
    assert magic == b"HFTMDREC", "bad magic %r" % magic
    assert version == 1 and header_size == 16, (version, header_size)
    records, at = [], header_size
    while at < len(data):
        assert len(data) - at >= 8 + 16, "truncated record at %d" % at
        (receive_ns,) = struct.unpack_from("<Q", data, at)
        length, msg_type = struct.unpack_from("<HH", data, at + 8)
        frame = data[at + 8:at + 8 + length]
        assert len(frame) == length, "truncated frame at %d" % at
        assert msg_type == MARKET_DATA, "type %d at %d" % (msg_type, at)
        records.append((receive_ns, frame))
        at += 8 + length
    return records


class MarketDataRecordingTest(ProcCase):
    tmp_prefix = "hft-mdrec-"

    def session_dir(self, sessions):
        names = os.listdir(sessions)
        self.assertEqual(len(names), 1, names)
        return os.path.join(sessions, names[0])

    def test_recording_holds_every_frame_and_replays_to_a_fresh_hftd(self):
        # 1. A short trading session against the random walk.
        exchange, port, _ = start_exchange(self.tmp)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session")
        hftd.wait_line("Connected to exchange")
        wait_for(lambda: (lambda x: x if x["md_messages"] >= 200 and x["orders_sent"] > 0
                          else None)(stats(self.sock)), "market data and an order")
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        final = summary.get("stats", summary)
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(), 0)

        rec = os.path.join(self.session_dir(self.sessions), "market_data.rec")
        records = read_recording(rec)
        self.assertGreaterEqual(len(records), 200)
        self.assertEqual(len(records), final["md_messages"] - final["md_recording_lost"])
        self.assertEqual(final["md_recording_lost"], 0, "a ring of 8192 is not full here")
        times = [t for t, _ in records]
        self.assertEqual(times, sorted(times), "receive times in arrival order")
        # The receive time follows the exchange's send time (header timestamp, same host clock).
        for t, frame in records:
            (sent,) = struct.unpack_from("<Q", frame, 8)
            self.assertGreaterEqual(t, sent)

        # 2. exchange-sim replays it, as fast as it can, to a fresh hftd session.
        replay_sessions = os.path.join(self.tmp, "replay-sessions")
        exchange2, port2, _ = start_exchange(self.tmp, tick_rate=None,
                                             extra=("--replay", rec, "--speed", "max"))
        self.procs.append(exchange2)
        self.sock = os.path.join(self.tmp, "control2.sock")
        hftd2 = self.start_hftd(port2, "--start-session", sessions=replay_sessions)
        _, line = exchange2.wait_line("Replay finished:", timeout=60)
        replayed = int(line.split("Replay finished:")[1].split()[0])
        self.assertEqual(replayed, len(records))
        s = wait_for(lambda: (lambda x: x if x["md_messages"] >= replayed else None)(
            stats(self.sock)), "every replayed frame at hftd")
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        final2 = summary.get("stats", summary)
        self.assertEqual(final2["md_messages"], len(records), "frames: replay vs recording")
        self.assertGreaterEqual(final2["md_messages"], s["md_messages"])
        self.assertEqual(hftd2.stop(), 0)
        self.assertEqual(exchange2.stop(), 0)

        # The second recording holds the same books: the body after the 16-byte header (which
        # the exchange restamps with its seq and send time) is byte for byte the first one's.
        again = read_recording(os.path.join(self.session_dir(replay_sessions),
                                            "market_data.rec"))
        self.assertEqual([f[16:] for _, f in again], [f[16:] for _, f in records])

    def test_a_full_recording_ring_counts_lost_frames_and_trading_goes_on(self):
        # The housekeeping thread stops taking records (test hook): the 8192-slot market-data
        # ring fills, frames are counted in md_recording_lost, hftd keeps receiving.
        exchange, port, _ = start_exchange(self.tmp, tick_rate=1)
        self.procs.append(exchange)
        env = dict(os.environ, HFTD_TEST_HOOKS="1")
        hftd = Proc(hftd_argv("%s:%d" % (HOST, port), self.sock, self.sessions,
                              "--start-session"), env=env)
        self.procs.append(hftd)
        hftd.wait_line("Connected to exchange")
        wait_for(lambda: stats(self.sock)["md_messages"] >= 50, "market data")
        mark = len(hftd.lines)
        hftd.p.send_signal(signal.SIGUSR1)
        hftd.wait_line("stops taking journal and latency records", start=mark)
        lost = wait_for(lambda: (lambda x: x if x["md_recording_lost"] > 0 else None)(
            stats(self.sock)), "a frame lost to the full ring", timeout=120)
        more = wait_for(lambda: (lambda x: x if x["md_messages"] > lost["md_messages"] + 100
                                 else None)(stats(self.sock)), "market data goes on")
        self.assertEqual(more["state"], "trading")
        self.assertGreater(more["md_recording_lost"], lost["md_recording_lost"])
        mark = len(hftd.lines)
        hftd.p.send_signal(signal.SIGUSR1)
        hftd.wait_line("takes again journal and latency records", start=mark)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        final = summary.get("stats", summary)
        self.assertEqual(hftd.stop(), 0)
        records = read_recording(os.path.join(self.session_dir(self.sessions),
                                              "market_data.rec"))
        self.assertGreater(final["md_recording_lost"], 0)
        self.assertEqual(len(records), final["md_messages"] - final["md_recording_lost"])
        print("md recording ring: %d frames received, %d recorded, %d lost"
              % (final["md_messages"], len(records), final["md_recording_lost"]))

    def test_record_market_data_false_writes_no_recording(self):
        conf = os.path.join(self.tmp, "hftd.toml")
        with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
            text = f.read()
        self.assertIn("record_market_data = true", text)
        with open(conf, "w") as f:
            f.write(text.replace("record_market_data = true", "record_market_data = false"))
        exchange, port, _ = start_exchange(self.tmp)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session", config=conf)
        hftd.wait_line("Connected to exchange")
        wait_for(lambda: stats(self.sock)["md_messages"] >= 20, "market data")
        hftctl(self.sock, "stop-session")
        self.assertEqual(hftd.stop(), 0)
        sdir = self.session_dir(self.sessions)
        self.assertTrue(os.path.exists(os.path.join(sdir, "journal.bin")))
        self.assertFalse(os.path.exists(os.path.join(sdir, "market_data.rec")))


if __name__ == "__main__":
    unittest.main()

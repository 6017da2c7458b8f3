#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hftd with [strategy] kind = "market_maker" against exchange-sim: its resting quotes fill, its
cancels are acknowledged, hftd's stats, the exchange's and the journal agree; and two replays of
one recording with the same seed give the same orders, frame for frame. Every wait is on an
event (a log line, a counter), never a fixed sleep."""
import json
import os
import random
import struct
import unittest

# The modules only (read_journal, read_recording): their test cases are not collected here.
import test_engine
import test_md_recording
from hftproc import SOURCE_ROOT, ProcCase, hftctl, start_exchange, stats, wait_for

MARKET_DATA, EXECUTION_REPORT, NEW_ORDER, CANCEL_ORDER = 1, 2, 3, 4  # docs/protocol.md
NEW, PARTIAL, FILL, CANCELED = 0, 1, 2, 3  # exec_type
DAY = 0  # tif


def market_maker_conf(tmp, extra=""):
    """conf/hftd.toml with kind = "market_maker" (and `extra` [strategy.market_maker] keys)."""
    with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
        text = f.read()
    assert 'kind = "momentum"' in text
    text = text.replace('kind = "momentum"', 'kind = "market_maker"')
    if extra:
        text += "\n[strategy.market_maker]\n" + extra
    path = os.path.join(tmp, "hftd-mm.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def frame_type(frame):
    return struct.unpack_from("<H", frame, 2)[0]


def new_order(frame):
    """NEW_ORDER fields: cl_ord_id, symbol, side, tif, price, qty, md_timestamp."""
    return struct.unpack_from("<QIBBxxqIxxxxQ", frame, 16)


def cancel_order(frame):
    """CANCEL_ORDER fields: cl_ord_id, symbol."""
    return struct.unpack_from("<QI", frame, 16)


def report(frame):
    """EXECUTION_REPORT fields: cl_ord_id, order_id, exec_id, symbol, exec_type, side,
    reject_reason, price, last_px, last_qty, cum_qty, leaves_qty."""
    return struct.unpack_from("<QQQIBBBxqqIII", frame, 16)


def session_dir(sessions):
    names = os.listdir(sessions)
    assert len(names) == 1, names
    return os.path.join(sessions, names[0])


def write_recording(path, frames, start_ns):
    """A market-data recording (docs/exchange-sim.md, "Market-data recording format") of one
    symbol: `frames` is [(offset_ns, bids, asks)], each side [(price, qty)] best first."""
    with open(path, "wb") as f:
        f.write(struct.pack("<8sHHI", b"HFTMDREC", 1, 16, 0))
        for seq, (offset, bids, asks) in enumerate(frames, 1):
            entries = b"".join(struct.pack("<qIBBH", p, q, 0, i, 0) for i, (p, q) in
                               enumerate(bids))
            entries += b"".join(struct.pack("<qIBBH", p, q, 1, i, 0) for i, (p, q) in
                                enumerate(asks))
            n = len(bids) + len(asks)
            ts = start_ns + offset
            frame = struct.pack("<HHIQIHH", 24 + 16 * n, MARKET_DATA, seq, ts, 1, n, 1) + entries
            f.write(struct.pack("<Q", ts) + frame)


def random_walk(frames, spacing_ns, seed, lead):
    """`frames` snapshots of a one-symbol random walk, `spacing_ns` apart, five levels a side.
    The first two are the same book `lead` ns apart, then ten more of it: trading is enabled
    after logon (a race with the replay's first frame), so the first book the market maker
    quotes may be frame 0 or frame 1, and either way nothing moves until long after both runs
    quote it."""
    rng = random.Random(seed)
    tick, bid, spread = 100, 9_999, 2
    out, at = [], 0
    for k in range(frames):
        if k >= 12:
            bid += rng.choice((-2, -1, -1, 0, 0, 1, 1, 2))
            spread = rng.choice((1, 2, 3))
        bids = [((bid - i) * tick, rng.randint(1, 300)) for i in range(5)]
        asks = [((bid + spread + i) * tick, rng.randint(1, 300)) for i in range(5)]
        out.append((at, bids, asks))
        at += lead if k == 0 else spacing_ns
    return out


class MarketMakerTest(ProcCase):
    tmp_prefix = "hft-mm-"

    def test_market_maker_trades_its_resting_quotes_and_cancels_and_the_journal_agrees(self):
        # exchange-sim and the market maker at their defaults (only hftd's test command line).
        exchange, port, exchange_stats = start_exchange(self.tmp, tick_rate=None)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session", config=market_maker_conf(self.tmp))
        hftd.wait_line("Strategy: market_maker")
        hftd.wait_line("trading")
        s = wait_for(lambda: (lambda x: x if x["fills"] >= 5 and x["cancels"] >= 5 else None)(
            stats(self.sock)), "five fills and five acknowledged cancels", timeout=60)
        self.assertEqual(s["rejects"], 0)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        final = summary.get("stats", summary)
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(), 0)
        with open(exchange_stats) as f:
            ex = json.load(f)

        # hftd and the exchange saw the same orders, fills and cancels.
        self.assertGreater(final["orders_sent"], 0)
        self.assertEqual(final["orders_sent"], ex["orders"])
        self.assertEqual(final["acks"], final["orders_sent"], "every quote acknowledged")
        self.assertEqual(final["fills"], ex["fills"])
        self.assertEqual(final["cancels"], ex["cancels"])
        self.assertEqual(final["rejects"], 0)
        self.assertEqual(final["risk_rejects"], 0, "the requote interval keeps under the limits")
        # A quote never takes: every fill is of a resting order (the queue-position model).
        self.assertEqual(ex["orders_marketable"], 0)
        self.assertEqual(ex["resting_fills"], ex["fills"])
        self.assertEqual(ex["rejects_by_reason"]["throttled"], 0)

        # The journal holds the same story.
        records = test_engine.read_journal(
            os.path.join(session_dir(self.sessions), "journal.bin"))
        sent = [(t, f) for t, d, f in records if d == 0]
        received = [report(f) for t, d, f in records if d == 1 and
                    frame_type(f) == EXECUTION_REPORT]
        orders = {}
        times = []
        for t, f in sent:
            if frame_type(f) == NEW_ORDER:
                cl, sym, side, tif, price, qty, md_ts = new_order(f)
                self.assertEqual(tif, DAY)
                self.assertGreater(md_ts, 0, "every quote names the market data behind it")
                orders[cl] = (sym, side, price, qty)
                times.append(t)
        cancels = [cancel_order(f) for _, f in sent if frame_type(f) == CANCEL_ORDER]
        self.assertEqual(len(orders), final["orders_sent"])
        self.assertEqual(len(cancels), ex["cancel_requests"])
        for cl, sym in cancels:
            self.assertIn(cl, orders, "a cancel names one of our orders")
            self.assertEqual(sym, orders[cl][0])
        fills = [r for r in received if r[4] in (PARTIAL, FILL)]
        self.assertEqual(len(fills), final["fills"])
        acked = set()
        for r in received:
            if r[4] == NEW:
                acked.add(r[0])
            elif r[4] in (PARTIAL, FILL):
                self.assertIn(r[0], acked, "a fill of an order that rested (acked first)")
                self.assertEqual(r[8], orders[r[0]][2], "a resting order fills at its limit")
        self.assertEqual(sum(1 for r in received if r[4] == CANCELED), final["cancels"])
        # Never more than [risk] max_orders_per_second (50) in any second, by the send times.
        times.sort()
        j = 0
        for i, t in enumerate(times):
            while times[j] <= t - 1_000_000_000:
                j += 1
            self.assertLessEqual(i - j + 1, 50)
        print("market maker: %d orders, %d fills, %d cancels acknowledged, %d cancel rejects"
              % (final["orders_sent"], final["fills"], final["cancels"],
                 final["cancel_rejects"]))

    def replay_run(self, name, recording, conf, frames):
        """One hftd session against `exchange-sim --replay recording --speed 1 --seed 7`:
        (journal records, market_data.rec records) of the session."""
        run = os.path.join(self.tmp, name)
        os.mkdir(run)
        exchange, port, _ = start_exchange(run, tick_rate=None,
                                           extra=("--replay", recording, "--speed", "1"))
        self.procs.append(exchange)
        self.sock = os.path.join(run, "control.sock")
        sessions = os.path.join(run, "sessions")
        hftd = self.start_hftd(port, "--start-session", config=conf, sessions=sessions)
        exchange.wait_line("Replay finished: %d frames" % frames, timeout=60)
        wait_for(lambda: stats(self.sock)["md_messages"] >= frames, "every frame at hftd")
        hftctl(self.sock, "stop-session")
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(), 0)
        sdir = session_dir(sessions)
        journal = test_engine.read_journal(os.path.join(sdir, "journal.bin"))
        return journal, test_md_recording.read_recording(os.path.join(sdir, "market_data.rec"))

    def test_two_replays_of_one_recording_give_the_same_orders_frame_for_frame(self):
        # What makes the two runs match: the market maker decides on the frames alone, not on
        # acks (it replaces a quote whether or not it was acknowledged) nor on this host's
        # clock (its requote interval runs on the frames' timestamps). What stays timing: the
        # exchange stamps each replayed frame with its actual send time, and an order must
        # reach it before the next tick to meet the same ladder. 200 ms between frames and a
        # 500 ms interval leave 100 ms of slack for the first and 200 ms for the second, on a
        # loaded two-CPU machine (a load of 11 has shown 20 ms of lateness).
        # (--speed max would publish the next frames while an order is in flight.)
        frames, spacing = 110, 200_000_000
        walk = random_walk(frames, spacing, 11, 600_000_000)
        recording = os.path.join(self.tmp, "walk.rec")
        write_recording(recording, walk, 1_700_000_000_000_000_000)
        conf = market_maker_conf(self.tmp, "min_requote_ms = 500\n")
        runs = [self.replay_run(name, recording, conf, frames) for name in ("a", "b")]

        def orders_of(journal, md):
            """The sent frames in order, every field the run decides: the header's seq and
            timestamp are the send time (and seq counts heartbeats, which follow the clock),
            and md_timestamp is the exchange's send time of the frame, so it is replaced by
            that frame's index in the run's own recording. Frames 0 and 1 are the same book
            (random_walk): which of them is the first the session may trade is a race with
            the logon, so both count as frame 1."""
            index = {struct.unpack_from("<Q", f, 8)[0]: i for i, (_, f) in enumerate(md)}
            out = []
            for _, d, f in journal:
                if d != 0:
                    continue
                if frame_type(f) == NEW_ORDER:
                    cl, sym, side, tif, price, qty, md_ts = new_order(f)
                    self.assertIn(md_ts, index, "md_timestamp names a frame hftd received")
                    out.append(("new", cl, sym, side, tif, price, qty, max(index[md_ts], 1)))
                elif frame_type(f) == CANCEL_ORDER:
                    out.append(("cancel",) + cancel_order(f))
            return out

        def reports_of(journal):
            """Every field of every execution report but the header (send time and seq):
            order_id and exec_id are the exchange's counters, the same from a fresh start."""
            return [report(f) for _, d, f in journal if d == 1 and
                    frame_type(f) == EXECUTION_REPORT]

        (journal_a, md_a), (journal_b, md_b) = runs
        # The same market reached both sessions (the body past the restamped header).
        self.assertEqual(len(md_a), frames)
        self.assertEqual([f[16:] for _, f in md_a], [f[16:] for _, f in md_b])
        orders_a, orders_b = orders_of(journal_a, md_a), orders_of(journal_b, md_b)
        self.assertGreater(sum(1 for o in orders_a if o[0] == "new"), 20)
        self.assertGreater(sum(1 for o in orders_a if o[0] == "cancel"), 5)

        def lateness(md):
            """How late the exchange published each frame against the recording's pacing
            (frame 1 on): the timing both runs depend on, for a failure's message."""
            ts = [struct.unpack_from("<Q", f, 8)[0] for _, f in md]
            late = [(ts[k] - ts[1]) - (walk[k][0] - walk[1][0]) for k in range(1, len(ts))]
            worst = max(range(len(late)), key=lambda k: abs(late[k]))
            return "max %.1f ms at frame %d" % (late[worst] / 1e6, worst + 1)

        timing = "; exchange publication lateness: run a %s, run b %s" % (lateness(md_a),
                                                                          lateness(md_b))
        for i, (a, b) in enumerate(zip(orders_a, orders_b)):
            self.assertEqual(a, b, "sent frame %d differs%s" % (i, timing))
        self.assertEqual(len(orders_a), len(orders_b))
        reports_a, reports_b = reports_of(journal_a), reports_of(journal_b)
        self.assertGreater(sum(1 for r in reports_a if r[4] in (PARTIAL, FILL)), 3)
        for i, (a, b) in enumerate(zip(reports_a, reports_b)):
            self.assertEqual(a, b, "execution report %d differs%s" % (i, timing))
        self.assertEqual(len(reports_a), len(reports_b))
        print("replay determinism: %d sent frames and %d execution reports identical in both "
              "runs%s" % (len(orders_a), len(reports_a), timing))


if __name__ == "__main__":
    unittest.main()

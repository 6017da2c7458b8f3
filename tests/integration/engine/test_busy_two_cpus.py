#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The quickstart's session in busy poll mode on two CPUs (docs/hftd.md, "Engine layout"):
exchange-sim pinned to one CPU, hftd's run-to-completion thread spinning alone on the other,
its off-path work (records, logs) sharing the exchange's CPU. Correctness, not timing: the
orders, fills and positions hftd reports agree with the exchange's counts and the journal.
The pipeline layout runs the same session as a reference. Every wait is on an event."""
import json
import os
import struct
import unittest

from hftproc import (HFTD, HOST, SOURCE_ROOT, EXCHANGE_SIM, ProcCase, Proc, hftctl, stats,
                     wait_for)
from test_engine import read_journal


class BusyTwoCpusTest(ProcCase):
    tmp_prefix = "hft-busy2-"

    def run_session(self, layout):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            raise unittest.SkipTest("needs two CPUs")
        shared_cpu, hot_cpu = cores[0], cores[1]
        config = os.path.join(self.tmp, "hftd-%s.toml" % layout)
        with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
            text = f.read()
        default = 'layout = "run_to_completion"'
        self.assertIn(default, text)
        with open(config, "w") as f:
            f.write(text.replace(default, 'layout = "%s"' % layout))
        stats_file = os.path.join(self.tmp, "exchange_stats_%s.json" % layout)
        exchange = Proc(["taskset", "-c", str(shared_cpu), EXCHANGE_SIM, "--config",
                         os.path.join(SOURCE_ROOT, "conf", "exchange-sim.toml"), "--bind", HOST,
                         "--port", "0", "--seed", "7", "--stats-file", stats_file],
                        name=EXCHANGE_SIM)
        self.procs.append(exchange)
        _, line = exchange.wait_line("Listening on port")
        port = int(line.rsplit(" ", 1)[1])
        sessions = os.path.join(self.tmp, "sessions-" + layout)
        hftd = Proc([HFTD, "--config", config, "--interface", "lo", "--network-core",
                     str(hot_cpu), "--strategy-core", str(shared_cpu), "--poll-mode", "busy",
                     "--exchange", "%s:%d" % (HOST, port), "--socket", self.sock,
                     "--sessions-dir", sessions, "-v", "--start-session"])
        self.procs.append(hftd)
        hftd.wait_line("Control socket listening")
        hftd.wait_line("Workers running")
        hftd.wait_line("Connected to exchange")
        wait_for(lambda: (lambda x: x if x["fills"] >= 3 else None)(stats(self.sock)),
                 "three fills (layout %s)" % layout, timeout=60)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(), 0)
        final = summary.get("stats", summary)
        with open(stats_file) as f:
            ex = json.load(f)
        self.assertGreater(final["orders_sent"], 0)
        self.assertEqual(final["orders_sent"], ex["orders"], "orders: engine vs exchange")
        self.assertEqual(final["fills"], ex["fills"], "fills: engine vs exchange")
        (sdir,) = [os.path.join(sessions, d) for d in os.listdir(sessions)]
        records = read_journal(os.path.join(sdir, "journal.bin"))
        sent = [r for r in records if r[1] == 0 and struct.unpack_from("<H", r[2], 2)[0] == 3]
        self.assertEqual(len(sent), final["orders_sent"], "orders: engine vs journal")
        position = {}
        for _, direction, frame in records:
            if direction != 1:
                continue
            (_cl, _oid, _eid, sym, etype, side, _rr, _r, _px, _lpx, lqty, _cum, _leaves,
             _r2) = struct.unpack_from("<QQQIBBBBqqIIII", frame, 16)
            if etype in (1, 2):
                position[sym] = position.get(sym, 0) + (lqty if side == 0 else -lqty)
        for sym in final["symbols"]:
            self.assertEqual(sym["position"], position.get(sym["symbol_id"], 0),
                             "symbol %d position vs journal fills" % sym["symbol_id"])
        return hftd.text()

    def test_run_to_completion_busy_counts_agree_with_the_exchange(self):
        log = self.run_session("run_to_completion")
        self.assertIn("runs to completion", log)

    def test_pipeline_busy_counts_agree_with_the_exchange(self):
        log = self.run_session("pipeline")
        self.assertIn("layout pipeline", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)

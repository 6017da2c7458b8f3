#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""60 s of market data as fast as this machine moves it (exchange-sim --tick-rate 0) into a
trading hftd: nothing is lost (the exchange's market_data_frames equals hftd's md_messages),
no sequence gaps, and hftd's memory stays flat. Prints the rate achieved: a figure, not a
threshold (timing targets belong to benchmarks)."""

import json
import os
import signal
import unittest

from hostile_common import HftdCase, rss_kib, stats
from hftproc import start_exchange

DURATION_S = 60


class LoadTest(HftdCase):
    def test_60s_of_market_data_at_full_rate_no_loss_no_gaps_flat_memory(self):
        exchange, port, exchange_stats = start_exchange(self.tmp, extra=["--tick-rate", "0"])
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session", "--duration", str(DURATION_S))
        hftd.wait_line("Connected to exchange")
        # Sample once a second until the session ends by itself (the log says so).
        samples = []  # (md_messages, VmRSS KiB)
        while True:
            try:
                hftd.wait_line("ended (duration reached)", timeout=1)
                break
            except AssertionError:
                if hftd.p.poll() is not None or len(samples) > DURATION_S + 30:
                    raise
            s = stats(self.sock)
            samples.append((s["md_messages"], rss_kib(hftd.p.pid)))
        self.assertEqual(stats(self.sock)["state"], "idle")
        with open(os.path.join(self.sessions, os.listdir(self.sessions)[0], "stats.json")) as f:
            final = json.load(f)
        self.assertEqual(exchange.stop(signal.SIGTERM), 0)
        with open(exchange_stats) as f:
            ex = json.load(f)
        self.assertEqual(hftd.stop(), 0)

        rate = final["md_messages"] / DURATION_S
        per_second = [b[0] - a[0] for a, b in zip(samples, samples[1:])]
        rss_early = samples[min(1, len(samples) - 1)][1]
        rss_end = samples[-1][1]
        print("load: %d MARKET_DATA frames in %d s: %.0f messages/s (per-second min %d, "
              "max %d); exchange sent %d, %d ticks; hftd orders %d, fills %d; "
              "RSS %d KiB after 1 s, %d KiB at the end"
              % (final["md_messages"], DURATION_S, rate, min(per_second), max(per_second),
                 ex["market_data_frames"], ex["ticks"], final["orders_sent"], final["fills"],
                 rss_early, rss_end))
        self.assertEqual(final["md_messages"], ex["market_data_frames"], "frames lost")
        self.assertEqual(final["md_gaps"], 0)
        self.assertEqual(final["malformed_frames"], 0)
        self.assertEqual(final["reconnects"], 0)
        self.assertLessEqual(rss_end, rss_early + max(2048, rss_early // 20), "hftd RSS grew")


if __name__ == "__main__":
    unittest.main(verbosity=2)

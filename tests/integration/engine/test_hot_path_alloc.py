#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The hot path allocates nothing after warm-up: hftd trades against exchange-sim with an
LD_PRELOAD malloc counter, and its two worker threads must make no allocation once the
session is in its steady state."""
import json
import os
import signal
import tempfile
import time
import unittest

from hftproc import SOURCE_ROOT, Proc, hftd_argv, start_exchange, stats, wait_for

SHIM = os.environ["HFT_ALLOC_SHIM"]


class HotPathAllocationTest(unittest.TestCase):
    def test_workers_allocate_nothing_in_the_steady_state(self):
        self.check_steady_state(None)

    def test_the_market_maker_allocates_nothing_in_the_steady_state(self):
        # Its quotes, cancels and replacements take the same hot path: nothing allocates.
        self.check_steady_state("market_maker")

    def check_steady_state(self, kind):
        tmp = tempfile.mkdtemp(prefix="hft-alloc-")
        sock = os.path.join(tmp, "control.sock")
        report = os.path.join(tmp, "alloc.json")
        config = None
        if kind is not None:
            config = os.path.join(tmp, "hftd.toml")
            with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
                text = f.read()
            with open(config, "w") as f:
                f.write(text.replace('kind = "momentum"', 'kind = "%s"' % kind))
        exchange, port, _ = start_exchange(tmp)
        argv = hftd_argv("127.0.0.1:%d" % port, sock, os.path.join(tmp, "s"), "--start-session",
                         "-v", config=config, interface=None)
        env = dict(os.environ, LD_PRELOAD=SHIM, HFT_ALLOC_REPORT=report,
                   HFT_ALLOC_WARMUP_MS="1500")
        hftd = Proc(argv, env=env)
        try:
            hftd.wait_line("Connected to exchange")
            time.sleep(0)  # nothing to wait for: the warm-up is measured by the shim's clock
            # Steady state: keep trading until well past the warm-up, with orders flowing.
            first = wait_for(lambda: (lambda s: s if s["orders_sent"] > 0 else None)(
                stats(sock)), "orders")
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                time.sleep(0.25)
            last = stats(sock)
            self.assertGreater(last["orders_sent"], first["orders_sent"],
                               "orders must flow during the measured window")
            self.assertGreater(last["md_messages"], 100)
            self.assertEqual(hftd.stop(signal.SIGTERM), 0)
        finally:
            hftd.stop(signal.SIGKILL)
            exchange.stop(signal.SIGKILL)
        with open(report) as f:
            counts = json.load(f)
        print("allocations:", counts)
        self.assertGreater(counts["other"], 0, "the counter shim must be active")
        self.assertEqual(counts["worker_after_warmup"], 0,
                         "hft-net/hft-strategy allocated after warm-up")
        os.system("rm -rf " + tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Kernel timestamps (SO_TIMESTAMPING, docs/performance.md "Kernel timestamps"): hftd records
for every order the kernel's receive stamp of the bytes that led to it and the kernel's
transmit stamp of the order, in latency.csv, and the stages built on them in the stats.

On loopback (TCP market data, and the UDP feed), and on a veth pair between two network
namespaces this test creates itself (exchange-sim in one, hftd in the other, addresses
10.77.0.x only inside them; deleted at the end, and checked gone). Per order: present, and
ordered kernel receive <= user receive <= user send <= kernel send. With
[network] kernel_timestamps = false there are none. Every wait is on an event, never a sleep."""
import csv
import json
import os
import subprocess
import sys
import unittest

from hftproc import (SOURCE_ROOT, Proc, ProcCase, hftctl, hftd_argv, start_exchange, stats,
                     unused_udp_port_outside_ephemeral_range, wait_for)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "xdp"))
from xdp_fixture import (ENGINE_IP, EXCHANGE_IP, TCP_PORT, VethPair,  # noqa: E402
                         can_use_namespaces, delete_leftover_namespaces)

KERNEL_STAGES = ("kernel_rx_to_rx", "send_to_kernel_tx", "kernel_rx_to_kernel_tx")


def latency_rows(session_dir):
    with open(os.path.join(session_dir, "latency.csv"), newline="") as f:
        return [{k: int(v) for k, v in row.items()} for row in csv.DictReader(f)]


class KernelStampsCase(ProcCase):
    tmp_prefix = "hft-kts-"

    def config(self, *replacements):
        """conf/hftd.toml with each (old, new) replaced (old must be there)."""
        with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
            text = f.read()
        for old, new in replacements:
            self.assertIn(old, text)
            text = text.replace(old, new)
        path = os.path.join(self.tmp, "hftd.toml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def trade(self, hftd, orders=5):
        """Trades until `orders` orders are out, stops the session: (final stats, rows)."""
        hftd.wait_line("Connected to exchange")
        wait_for(lambda: stats(self.sock)["orders_sent"] >= orders, "%d orders" % orders)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        final = summary.get("stats", summary)
        directory = summary["directory"]
        rows = latency_rows(directory)
        self.assertEqual(len(rows), final["orders_sent"], "one latency row per order")
        return final, rows

    def assert_stamped_and_ordered(self, final, rows):
        self.assertGreater(len(rows), 0)
        for r in rows:
            what = "order %d: %r" % (r["cl_ord_id"], r)
            self.assertGreater(r["kernel_rx_ns"], 0, what)
            self.assertGreater(r["kernel_tx_ns"], 0, what)
            self.assertLessEqual(r["kernel_rx_ns"], r["rx_ns"], what)
            self.assertLessEqual(r["rx_ns"], r["send_ns"], what)
            self.assertLessEqual(r["send_ns"], r["kernel_tx_ns"], what)
            self.assertLessEqual(r["send_ns"], r["sent_ns"], what)
        stages = final["latency"]
        for name in KERNEL_STAGES:
            self.assertEqual(stages[name]["count"], len(rows), name)
        # Per order the kernel's view spans the user-space one: rx_to_sent lies inside it.
        for r in rows:
            self.assertLessEqual(r["sent_ns"] - r["rx_ns"] - (r["sent_ns"] - r["send_ns"]),
                                 r["kernel_tx_ns"] - r["kernel_rx_ns"], r)

    def hftctl_text_shows_kernel_stages(self):
        text = hftctl(self.sock, "stats").stdout
        for name in KERNEL_STAGES:
            self.assertIn(name, text)


class LoopbackTest(KernelStampsCase):
    def test_tcp_orders_have_ordered_kernel_stamps(self):
        exchange, port, _ = start_exchange(self.tmp, tick_rate=50)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session")
        hftd.wait_line("Kernel timestamps: software receive and transmit stamps")
        final, rows = self.trade(hftd)
        self.assert_stamped_and_ordered(final, rows)
        self.hftctl_text_shows_kernel_stages()
        self.assertNotIn("Kernel timestamps unavailable", hftd.text())

    def test_udp_feed_orders_have_ordered_kernel_stamps(self):
        feed = "127.0.0.1:%d" % unused_udp_port_outside_ephemeral_range()
        exchange, port, _ = start_exchange(
            self.tmp, extra=["--udp-feed", feed, "--udp-feed-only"], tick_rate=50)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session", "--md-transport", "udp",
                               "--udp-feed", feed)
        hftd.wait_line("on a kernel socket")
        final, rows = self.trade(hftd)
        self.assert_stamped_and_ordered(final, rows)

    def test_pipeline_layout_finds_the_receive_stamp_across_the_ring_hop(self):
        exchange, port, _ = start_exchange(self.tmp, tick_rate=50)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session", config=self.config(
            ('layout = "run_to_completion"', 'layout = "pipeline"')))
        final, rows = self.trade(hftd)
        self.assert_stamped_and_ordered(final, rows)

    def test_turned_off_there_are_no_kernel_stamps(self):
        exchange, port, _ = start_exchange(self.tmp, tick_rate=50)
        self.procs.append(exchange)
        hftd = self.start_hftd(port, "--start-session", config=self.config(
            ("kernel_timestamps = true", "kernel_timestamps = false")))
        final, rows = self.trade(hftd, orders=2)
        for r in rows:
            self.assertEqual((r["kernel_rx_ns"], r["kernel_tx_ns"]), (0, 0), r)
            self.assertGreater(r["send_ns"], 0)
        stages = final["latency"]
        for name in KERNEL_STAGES:
            self.assertEqual(stages[name]["count"], 0, name)
        self.assertGreater(stages["rx_to_sent"]["count"], 0)
        self.assertNotIn("Kernel timestamps", hftd.text())


NO_NAMESPACES = can_use_namespaces()


@unittest.skipIf(NO_NAMESPACES, NO_NAMESPACES)
class VethTest(KernelStampsCase):
    def setUp(self):
        # The pair first: cleanups run last in first out, so it goes after the processes in it.
        self.veth = VethPair()
        self.addCleanup(self.veth.delete)
        super().setUp()

    def test_orders_over_veth_have_ordered_kernel_stamps_and_nothing_is_left(self):
        x = ["ip", "netns", "exec", self.veth.exchange_ns]
        e = ["ip", "netns", "exec", self.veth.engine_ns]
        exchange = Proc(x + [os.environ["EXCHANGE_SIM"], "--bind", EXCHANGE_IP,
                             "--port", str(TCP_PORT), "--seed", "7", "--tick-rate", "50"],
                        name="exchange-sim")
        self.procs.append(exchange)
        exchange.wait_line("Listening on port")
        hftd = Proc(e + hftd_argv("%s:%d" % (EXCHANGE_IP, TCP_PORT), self.sock, self.sessions,
                                  "--start-session", interface=self.veth.engine_if),
                    name="hftd")
        self.procs.append(hftd)
        hftd.wait_line("Control socket listening")
        _, line = hftd.wait_line("hardware receive stamps on " + self.veth.engine_if)
        final, rows = self.trade(hftd)
        self.assert_stamped_and_ordered(final, rows)
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(), 0)
        namespaces = (self.veth.exchange_ns, self.veth.engine_ns)
        self.veth.delete()
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for ns in namespaces:
            self.assertNotIn(ns, listed.split(), "namespace left behind")
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        self.assertNotIn(self.veth.engine_if, links)
        self.assertNotIn(self.veth.exchange_if, links)
        self.assertNotIn(ENGINE_IP, subprocess.run(["ip", "-o", "addr"], capture_output=True,
                                                   text=True).stdout)


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        delete_leftover_namespaces()

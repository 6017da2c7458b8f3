#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Market data over exchange-sim's UDP feed, received by hftd through a kernel UDP socket
(md_transport "udp") and through AF_XDP ("af_xdp"), while orders go over TCP on the same link.

On loopback, and on a veth pair joining two network namespaces this test creates
(hftxdp-<random>): exchange-sim in one, hftd in the other. Checks that the engine's and the
exchange's counts agree (no loss at the default rate), that malformed and fragmented datagrams
are dropped and counted, that no XDP program is left on the interface after a session or after
hftd exits, that a program left by a killed hftd is replaced, and that missing capabilities
give a clear error (or the configured fallback). Every wait is on an event, never a fixed sleep.
"""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import unittest

EXCHANGE_SIM = os.environ["EXCHANGE_SIM"]
SOURCE_ROOT = os.environ["HFT_SOURCE_ROOT"]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xdp_fixture import (CREATED, ENGINE_IP, EXCHANGE_IP, FEED_PORT, TCP_PORT,  # noqa: E402
                         Proc, ProcCase, VethPair, can_use_namespaces, delete_leftover_namespaces,
                         hftctl, hftd_argv, run, start_exchange, stats, udp_feed_sent, wait_for)
from hftproc import unused_udp_port_outside_ephemeral_range  # noqa: E402 (path set by xdp_fixture)


class TransportTest(ProcCase):
    """Shared set-up: a temporary directory, processes stopped at the end."""

    tmp_prefix = "hft-xdp-"

    def start_exchange_in(self, prefix, bind, feed, *extra):
        proc = Proc(prefix + [EXCHANGE_SIM, "--bind", bind, "--port", str(TCP_PORT),
                              "--seed", "7", "--udp-feed", feed] + list(extra))
        self.procs.append(proc)
        proc.wait_line("Listening on port")
        return proc

    def start_hftd_in(self, prefix, interface, exchange, transport, feed, *extra, config=None,
                      wait=True):
        proc = Proc(prefix + hftd_argv(exchange, self.sock, self.sessions, "--md-transport",
                                       transport, "--udp-feed", feed, *extra, config=config,
                                       interface=interface))
        self.procs.append(proc)
        if wait:
            proc.wait_line("Control socket listening")
        return proc

    def trade_and_compare(self, hftd, exchange, min_md=300):
        """Trades until market data and orders flowed, stops the session, compares counts."""
        hftd.wait_line("Connected to exchange")
        s = wait_for(lambda: (lambda x: x if x["md_messages"] >= min_md and x["orders_sent"] >= 1
                              else None)(stats(self.sock)),
                     "%d market data messages and an order" % min_md)
        self.assertGreater(s["rx_packets"], 0)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        final = summary.get("stats", summary)
        self.assertEqual(exchange.stop(signal.SIGINT), 0)
        frames, datagrams, errors = udp_feed_sent(exchange)
        self.assertEqual(errors, 0, "exchange UDP send errors")
        self.assertGreater(datagrams, 0)
        # Several frames per datagram: the exchange packs a tick's snapshots up to the MTU.
        self.assertGreater(frames, datagrams)
        self.assertEqual(final["md_messages"], frames, "market data: engine vs exchange feed")
        self.assertEqual(final["md_gaps"], 0)
        self.assertEqual(final["malformed_frames"], 0)
        with open(os.path.join(self.tmp, "exchange_stats.json")) as f:
            ex = json.load(f)
        self.assertEqual(final["orders_sent"], ex["orders"], "orders: engine vs exchange")
        self.assertEqual(final["fills"], ex["fills"], "fills: engine vs exchange")
        return final


class LoopbackTest(TransportTest):
    def test_udp_transport_on_loopback_counts_agree(self):
        feed_port = unused_udp_port_outside_ephemeral_range()
        exchange, port, _ = start_exchange(
            self.tmp, extra=["--udp-feed", "127.0.0.1:%d" % feed_port, "--udp-feed-only"],
            tick_rate=None)
        self.procs.append(exchange)
        hftd = self.start_hftd_in([], "lo", "127.0.0.1:%d" % port, "udp",
                                  "127.0.0.1:%d" % feed_port, "--start-session")
        hftd.wait_line("Market data: UDP feed 127.0.0.1:%d on a kernel socket" % feed_port)
        self.trade_and_compare(hftd, exchange)
        self.assertEqual(hftd.stop(), 0)
        hftd.wait_line("Market data over udp:")


NO_NAMESPACES = can_use_namespaces()


@unittest.skipIf(NO_NAMESPACES, NO_NAMESPACES)
class VethTest(TransportTest):
    def setUp(self):
        # The pair first: cleanups run last in first out, so it goes after the processes in it.
        self.veth = VethPair()
        self.addCleanup(self.veth.delete)
        super().setUp()
        self.x = ["ip", "netns", "exec", self.veth.exchange_ns]
        self.e = ["ip", "netns", "exec", self.veth.engine_ns]

    def exchange(self, feed=ENGINE_IP + ":%d" % FEED_PORT, *extra):
        return self.start_exchange_in(self.x, EXCHANGE_IP, feed, "--stats-file",
                                      os.path.join(self.tmp, "exchange_stats.json"), *extra)

    def hftd(self, transport, feed=ENGINE_IP + ":%d" % FEED_PORT, *extra, **kw):
        return self.start_hftd_in(self.e, self.veth.engine_if,
                                  "%s:%d" % (EXCHANGE_IP, TCP_PORT), transport, feed, *extra,
                                  **kw)

    def test_udp_transport_over_veth_counts_agree(self):
        exchange = self.exchange()
        hftd = self.hftd("udp", ENGINE_IP + ":%d" % FEED_PORT, "--start-session")
        hftd.wait_line("on a kernel socket (recvmmsg")
        final = self.trade_and_compare(hftd, exchange)
        self.assertGreater(final["rx_messages"], final["md_messages"])
        self.assertEqual(hftd.stop(), 0)
        self.assertFalse(self.veth.xdp_attached())

    def test_udp_transport_over_veth_multicast(self):
        group = "239.77.0.1:%d" % FEED_PORT
        exchange = self.exchange(group, "--udp-interface", self.veth.exchange_if,
                                 "--udp-feed-only")
        hftd = self.hftd("udp", group, "--start-session")
        hftd.wait_line("UDP feed %s on a kernel socket" % group)
        self.trade_and_compare(hftd, exchange)
        self.assertEqual(hftd.stop(), 0)

    def test_af_xdp_transport_over_veth_counts_agree_and_nothing_is_left_attached(self):
        exchange = self.exchange()
        hftd = self.hftd("af_xdp", ENGINE_IP + ":%d" % FEED_PORT, "--start-session")
        _, line = hftd.wait_line("Market data: AF_XDP on %s queue 0" % self.veth.engine_if)
        self.assertRegex(line, r"\((native|skb) XDP, (copy mode|zero-copy)")
        # The packets bypass the kernel's stack: no kernel receive stamps, said once.
        hftd.wait_line("Kernel timestamps are not available on AF_XDP")
        self.assertTrue(self.veth.xdp_attached(), "the XDP program runs while trading")
        final = self.trade_and_compare(hftd, exchange)
        # stop-session detaches: the interface is the kernel's again while hftd idles.
        wait_for(lambda: not self.veth.xdp_attached(), "the XDP program to be detached")
        hftd.wait_line("XDP program detached from " + self.veth.engine_if)
        _, line = hftd.wait_line("Market data over af_xdp:")
        self.assertIn("%d frames, 0 lost" % final["md_messages"], line)
        _, line = hftd.wait_line("AF_XDP: ")
        self.assertIn("0 dropped by header checks", line)
        self.assertEqual(hftd.text().count("Kernel timestamps are not available on AF_XDP"), 1)
        # Orders still get the transmit stamp of the order session (TCP over the veth).
        sdir = os.path.join(self.sessions, os.listdir(self.sessions)[0])
        with open(os.path.join(sdir, "latency.csv")) as f:
            rows = list(csv.DictReader(f))
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(r["kernel_rx_ns"], "0", r)
            self.assertGreaterEqual(int(r["kernel_tx_ns"]), int(r["send_ns"]), r)
        self.assertEqual(hftd.stop(), 0)
        self.assertFalse(self.veth.xdp_attached())

    def test_af_xdp_drops_and_counts_malformed_and_fragmented_datagrams(self):
        exchange = self.exchange(ENGINE_IP + ":%d" % FEED_PORT, "--udp-feed-only")
        hftd = self.hftd("af_xdp", ENGINE_IP + ":%d" % FEED_PORT, "--start-session")
        hftd.wait_line("Market data: AF_XDP")
        hftd.wait_line("Connected to exchange")
        wait_for(lambda: stats(self.sock)["md_messages"] > 50, "market data over AF_XDP")
        # From the exchange's namespace: a datagram of garbage, a frame cut short, and one too
        # large for the 1500-byte MTU (the kernel sends it as two IPv4 fragments).
        sender = ("import socket,struct\n"
                  "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                  "a=('%s',%d)\n"
                  "s.sendto(b'\\xff'*40,a)\n"
                  "s.sendto(struct.pack('<HHIQ',56,1,1,0)+b'\\0'*8,a)\n"
                  "s.sendto(b'\\0'*2000,a)\n" % (ENGINE_IP, FEED_PORT))
        run(*(self.x + [sys.executable, "-c", sender]))
        s = wait_for(lambda: (lambda x: x if x["malformed_frames"] >= 4 else None)(
            stats(self.sock)), "2 malformed datagrams and 2 fragments counted")
        self.assertEqual(s["malformed_frames"], 4)
        self.assertEqual(s["md_gaps"], 0, "the exchange's own datagrams all arrived")
        self.assertEqual(hftd.p.poll(), None, "hftd runs on")
        hftctl(self.sock, "stop-session")
        _, line = hftd.wait_line("UDP feed: ")
        self.assertIn("2 malformed datagrams", line)
        self.assertIn("0 gaps", line)
        hftd.wait_line("AF_XDP: dropped 2 packets: IPv4 fragment")
        self.assertEqual(hftd.stop(), 0)
        self.assertEqual(exchange.stop(signal.SIGINT), 0)

    def test_af_xdp_program_left_by_a_killed_hftd_is_replaced(self):
        exchange = self.exchange()
        hftd = self.hftd("af_xdp", ENGINE_IP + ":%d" % FEED_PORT, "--start-session")
        hftd.wait_line("Connected to exchange")
        self.assertTrue(self.veth.xdp_attached())
        hftd.stop(signal.SIGKILL)
        self.assertTrue(self.veth.xdp_attached(), "a killed hftd cannot detach its program")
        os.unlink(self.sock)
        again = self.hftd("af_xdp", ENGINE_IP + ":%d" % FEED_PORT, "--idle")
        # At start-up, before any session: the leftover goes.
        again.wait_line("Removed the XDP program an earlier hftd left on " + self.veth.engine_if)
        self.assertFalse(self.veth.xdp_attached())
        hftctl(self.sock, "start-session")
        again.wait_line("Market data: AF_XDP")
        wait_for(lambda: stats(self.sock)["md_messages"] > 100, "market data after the restart")
        self.assertEqual(again.stop(), 0)
        self.assertFalse(self.veth.xdp_attached())
        exchange.stop(signal.SIGINT)

    def test_af_xdp_leaves_a_foreign_xdp_program_alone(self):
        foreign = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o"
        if shutil.which("xdp-loader") is None or not os.path.exists(foreign):
            self.skipTest("xdp-tools (xdp-loader, xdpfilt_alw_all.o) is needed")
        run(*(self.e + ["xdp-loader", "load", "-m", "skb", self.veth.engine_if, foreign]))
        self.assertTrue(self.veth.xdp_attached())
        self.exchange()
        hftd = self.hftd("af_xdp", ENGINE_IP + ":%d" % FEED_PORT, "--start-session", wait=False)
        _, line = hftd.wait_line("Cannot receive market data over AF_XDP")
        self.assertIn("already runs another XDP program", line)
        self.assertIn("xdp-loader unload", line)
        self.assertEqual(hftd.wait_exit(), 1)
        status = run(*(self.e + ["xdp-loader", "status", self.veth.engine_if])).stdout
        self.assertIn("xdpfilt", status, "the other program must stay")

    def hftd_without(self, caps, config=None):
        """hftd over af_xdp with the capabilities `caps` dropped (capsh), trading at once."""
        if shutil.which("capsh") is None:
            self.skipTest("capsh (libcap2-bin) is needed to drop capabilities")
        hftd = Proc(self.e + ["capsh", "--drop=" + caps, "--", "-c", " ".join(hftd_argv(
            "%s:%d" % (EXCHANGE_IP, TCP_PORT), self.sock, self.sessions, "--md-transport",
            "af_xdp", "--udp-feed", "%s:%d" % (ENGINE_IP, FEED_PORT), "--start-session",
            config=config, interface=self.veth.engine_if))])
        self.procs.append(hftd)
        return hftd

    NO_XDP_CAPS = "cap_net_admin,cap_bpf,cap_net_raw,cap_sys_admin,cap_perfmon"

    def test_af_xdp_with_the_units_capabilities_detaches_without_cap_sys_admin(self):
        # What units/af-xdp.conf.example grants: no CAP_SYS_ADMIN, with which libxdp would
        # look the program up by id to detach it.
        exchange = self.exchange()
        hftd = self.hftd_without("cap_sys_admin")
        hftd.wait_line("Market data: AF_XDP on %s" % self.veth.engine_if)
        self.assertTrue(self.veth.xdp_attached())
        self.trade_and_compare(hftd, exchange, min_md=100)
        wait_for(lambda: not self.veth.xdp_attached(), "the XDP program to be detached")
        at, _ = hftd.wait_line("XDP program detached from " + self.veth.engine_if)
        self.exchange()  # trade_and_compare stopped the first one
        hftctl(self.sock, "start-session")  # the interface is free for the next session
        hftd.wait_line("Connected to exchange", start=at)
        wait_for(lambda: stats(self.sock)["md_messages"] > 100, "market data, second session")
        self.assertTrue(self.veth.xdp_attached())
        self.assertEqual(hftd.stop(), 0)
        self.assertFalse(self.veth.xdp_attached())

    def test_af_xdp_leftover_without_cap_sys_admin_gets_a_clear_error(self):
        # A killed hftd's program: without CAP_SYS_ADMIN its name cannot be read, so hftd must
        # not remove it blindly; it says what holds the interface and how to free it.
        exchange = self.exchange()
        hftd = self.hftd("af_xdp", ENGINE_IP + ":%d" % FEED_PORT, "--start-session")
        hftd.wait_line("Connected to exchange")
        hftd.stop(signal.SIGKILL)
        self.assertTrue(self.veth.xdp_attached())
        os.unlink(self.sock)
        again = self.hftd_without("cap_sys_admin")
        _, line = again.wait_line("Cannot receive market data over AF_XDP")
        self.assertIn("already runs an XDP program", line)
        self.assertIn("ip link set dev %s xdp off" % self.veth.engine_if, line)
        self.assertEqual(again.wait_exit(), 1)
        self.assertTrue(self.veth.xdp_attached(), "not hftd's to remove without proof")
        run(*(self.e + ["ip", "link", "set", "dev", self.veth.engine_if, "xdp", "off"]))
        exchange.stop(signal.SIGINT)

    def test_af_xdp_without_capabilities_fails_with_a_clear_error(self):
        self.exchange()
        hftd = self.hftd_without(self.NO_XDP_CAPS)
        _, line = hftd.wait_line("Cannot receive market data over AF_XDP")
        self.assertIn("CAP_NET_ADMIN", line)
        self.assertIn("xdp_fallback_udp", line)
        hftd.wait_line("start-up session failed")
        self.assertEqual(hftd.wait_exit(), 1)
        self.assertFalse(self.veth.xdp_attached())

    def test_af_xdp_without_capabilities_falls_back_to_udp_when_allowed(self):
        exchange = self.exchange()
        config = os.path.join(self.tmp, "hftd.toml")
        with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
            text = f.read().replace("xdp_fallback_udp = false", "xdp_fallback_udp = true")
        with open(config, "w") as f:
            f.write(text)
        hftd = self.hftd_without(self.NO_XDP_CAPS, config)
        _, line = hftd.wait_line("AF_XDP unavailable")
        self.assertIn("falling back to a kernel UDP socket", line)
        hftd.wait_line("on a kernel socket (recvmmsg")
        hftd.wait_line("Control socket listening")
        self.trade_and_compare(hftd, exchange, min_md=100)
        self.assertEqual(hftd.stop(), 0)
        self.assertFalse(self.veth.xdp_attached())


if __name__ == "__main__":
    try:
        result = unittest.main(exit=False, verbosity=2).result
    finally:
        delete_leftover_namespaces()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    ours = [n for n in CREATED if n in listed.split()]
    if ours:
        print("namespaces left behind: %s" % ours, file=sys.stderr)
    sys.exit(0 if result.wasSuccessful() and not ours else 1)

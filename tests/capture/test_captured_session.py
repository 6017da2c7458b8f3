#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A real session captured on loopback: exchange-sim, hftd and hftctl as the integration tests
run them, tcpdump on the exchange's port. Checks that scripts/analyze_results.py pairs every order
the exchange counted with its market data, that wire-to-wire never exceeds the exchange's own
tick-to-trade for the same order (cl_ord_id, from exchange-sim's --samples-file), and that
tools/wireshark/hft.lua decodes every order and report exactly as hftd's journal recorded them.
Needs root (tcpdump on lo) and tcpdump, editcap, tshark; skips without them, except under CI."""

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wire  # noqa: E402
from hftproc import Proc, ProcCase, hftctl, start_exchange, stats, wait_for  # noqa: E402

ORDERS_WANTED = 40  # enough orders to see several frames per segment and many pairs


def analyze_module():
    spec = importlib.util.spec_from_file_location("analyze_results", wire.ANALYZE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fins_seen(ar, pcap, port):
    """How many TCP FIN segments to or from port the capture holds so far."""
    import struct
    count = 0
    try:
        with open(pcap, "rb") as f:
            for link, _, packet in ar.pcapng_packets(f):
                parsed = ar.ip_payload(link, packet)
                if parsed and parsed[0] == 6 and len(parsed[3]) >= 14:
                    sport, dport = struct.unpack("!HH", parsed[3][:4])
                    if port in (sport, dport) and parsed[3][13] & 0x01:
                        count += 1
    except (OSError, ar.CaptureError):
        return 0
    return count


class CapturedSession(ProcCase):
    tmp_prefix = "hft-captured-"

    def setUp(self):
        if os.geteuid() != 0 and not os.environ.get("CI"):
            self.skipTest("tcpdump on lo needs root")
        wire.require_tools("tcpdump", "editcap", "tshark")
        super().setUp()

    def test_wire_to_wire_and_dissector_agree_with_the_exchange_and_the_journal(self):
        ar = analyze_module()
        data = os.path.join(self.tmp, "data")
        for sub in ("capture", "exchange", "session"):
            os.makedirs(os.path.join(data, sub))
        samples = os.path.join(data, "exchange", "tick_to_trade.csv")
        exchange, port, exchange_stats = start_exchange(self.tmp,
                                                        extra=["--samples-file", samples])
        self.procs.append(exchange)
        raw = os.path.join(self.tmp, "exchange.pcap")
        tcpdump = Proc(["tcpdump", "-i", "lo", "-n", "--time-stamp-precision=nano",
                        "--immediate-mode", "-U", "-s", "65535", "-w", raw,
                        "tcp port {}".format(port)])
        self.procs.append(tcpdump)
        tcpdump.wait_line("listening on")
        self.start_hftd(port, "--idle")
        session_id = hftctl(self.sock, "start-session").stdout.strip().split()[-1]
        wait_for(lambda: stats(self.sock)["orders_sent"] >= ORDERS_WANTED,
                 "{} orders".format(ORDERS_WANTED), timeout=120)
        summary = json.loads(hftctl(self.sock, "stop-session", "--json").stdout)
        self.assertEqual(summary["session_id"], session_id)
        session_dir = summary["directory"]
        # hftd and then exchange-sim end: exchange-sim writes its stats and samples on SIGTERM.
        for proc in (self.procs.pop(), exchange):
            self.assertEqual(proc.stop(signal.SIGTERM), 0, proc.text()[-2000:])
        self.procs.remove(exchange)
        # The event that ends the capture: both FINs of the connection are in the file.
        wait_for(lambda: fins_seen(ar, raw, port) >= 2, "both FINs in the capture")
        tcpdump.stop(signal.SIGINT)
        self.procs.remove(tcpdump)
        log = tcpdump.text()
        kernel = [int(line.split()[0]) for line in log.splitlines()
                  if line.endswith("dropped by kernel")]
        self.assertEqual(len(kernel), 1, log)
        pcap = os.path.join(data, "capture", "exchange.pcapng")
        subprocess.run(["editcap", "-F", "pcapng", raw, pcap], check=True, timeout=120)
        with open(os.path.join(data, "capture", "capture.json"), "w") as f:
            json.dump({"captured": True, "packets_dropped_by_kernel": kernel[0],
                       "limit_reached": False, "interface": "lo"}, f)
        shutil.copy(exchange_stats, os.path.join(data, "exchange", "exchange_stats.json"))
        for name in ("journal.bin", "latency.csv", "stats.json", "histograms.json"):
            shutil.copy(os.path.join(session_dir, name), os.path.join(data, "session", name))

        code, report, stderr = wire.analyze(data, os.path.join(data, "analysis"))
        self.assertEqual(code, 0, stderr)
        cap = report["capture"]
        self.assertEqual(cap["drops"]["packets_dropped_by_kernel"], 0, "the capture lost packets")
        self.assertEqual(cap["malformed_frames"], 0, cap["malformed"])
        self.assertEqual(cap["stream_holes"], {})
        with open(exchange_stats) as f:
            exchange_orders = json.load(f)["orders"]
        self.assertGreaterEqual(exchange_orders, ORDERS_WANTED)
        self.assertEqual(cap["orders"], exchange_orders)
        self.assertEqual(cap["paired"], exchange_orders, cap)
        self.assertEqual(cap["unpaired_orders"], 0)
        self.assertEqual(cap["exchange_orders_not_captured"], 0)
        self.assertEqual(report["latency"]["stages"]["wire_to_wire"]["count"], exchange_orders)

        # Per order: the wire sees the market data leave after the exchange stamped it and the
        # order arrive before the exchange read it, so wire-to-wire <= tick-to-trade.
        with open(os.path.join(data, "analysis", "wire_to_wire.csv")) as f:
            w2w = {int(r["cl_ord_id"]): int(r["wire_to_wire_ns"]) for r in csv.DictReader(f)}
        with open(samples) as f:
            t2t = {int(r["cl_ord_id"]): int(r["tick_to_trade_ns"]) for r in csv.DictReader(f)}
        self.assertEqual(len(t2t), exchange_orders)
        self.assertEqual(set(w2w), set(t2t))
        above = {k: (w2w[k], t2t[k]) for k in t2t if w2w[k] > t2t[k] or w2w[k] < 0}
        self.assertEqual(above, {}, "orders whose wire-to-wire exceeds tick-to-trade")

        # The dissector against hftd's journal: every order, cancel and report, field by field.
        journal = wire.read_journal(os.path.join(session_dir, "journal.bin"))
        wanted = [wire.decode(frame) for _, _, frame in journal
                  if int.from_bytes(frame[2:4], "little") in (2, 3, 4)]
        self.assertGreaterEqual(sum(1 for w in wanted if w["hft.msg_type"] == "3"),
                                ORDERS_WANTED)
        dissected = {}
        orders_and_reports = "hft.msg_type == 2 || hft.msg_type == 3 || hft.msg_type == 4"
        for _, pdu in wire.tshark_frames(pcap, port, display_filter=orders_and_reports):
            dissected.setdefault((pdu["hft.msg_type"], pdu["hft.seq"]), []).append(pdu)
        mismatches = []
        for want in wanted:
            got = dissected.get((want["hft.msg_type"], want["hft.seq"]), [])
            if len(got) != 1 or any(got[0].get(k) != v for k, v in want.items()):
                mismatches.append((want, got))
        self.assertEqual(mismatches[:3], [], "{} journal records differ from the dissector's "
                         "fields".format(len(mismatches)))
        orders_on_wire = sum(len(v) for k, v in dissected.items() if k[0] == "3")
        self.assertEqual(orders_on_wire, exchange_orders)


if __name__ == "__main__":
    wire.main()

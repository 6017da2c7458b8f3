#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Crafted pcapng files against scripts/analyze_results.py's capture reader and the Wireshark
dissector tools/wireshark/hft.lua: TCP reassembly (a frame split across segments, several frames
in one segment, a retransmission, segments out of order), if_tsresol, exact wire-to-wire
figures, and malformed frames flagged by both, never a crash."""

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402

T0 = 1_800_000_000_000_000_000  # capture times: ns since the epoch
EXCHANGE_PORT = 9100
FEED_PORT = 9101
PRICE = 1012500


def md_entries():
    return [(1012400, 5, 0, 0), (1012300, 7, 0, 1), (1012600, 4, 1, 0), (1012700, 9, 1, 1)]


def valid_session(packets, client_port=40000, start=T0):
    """A connection where every reassembly case occurs; returns {cl_ord_id: wire_to_wire}."""
    c = wire.TcpConnection(packets, client_port, EXCHANGE_PORT, start)
    c.send("c", start + 10_000, wire.logon(1, start))
    c.send("s", start + 20_000, wire.logon_response(1, start + 15_000, 77))
    md1 = wire.market_data(2, start + 100_000, 1, md_entries())
    # MARKET_DATA 1 split across three segments: it completes with the third.
    c.send("s", start + 101_000, md1[:10])
    c.send("s", start + 102_000, md1[10:50])
    c.send("s", start + 103_000, md1[50:])
    # Two whole frames and the start of a third in one segment.
    md2 = wire.market_data(3, start + 200_000, 2, md_entries())
    md3 = wire.market_data(4, start + 200_500, 3, md_entries())
    md4 = wire.market_data(5, start + 200_700, 4, md_entries()[:2])
    c.send("s", start + 201_000, md2 + md3 + md4[:30])
    c.send("s", start + 202_000, md4[30:])
    # Orders: one per market data frame; order 2 and 3 in one segment.
    o1 = wire.new_order(2, start + 150_000, 1, 1, 0, 1, PRICE, 10, start + 100_000)
    c.send("c", start + 153_000, o1)
    o2 = wire.new_order(3, start + 250_000, 2, 2, 1, 0, PRICE + 100, 3, start + 200_000)
    o3 = wire.new_order(4, start + 250_100, 3, 3, 0, 0, PRICE - 100, 4, start + 200_500)
    c.send("c", start + 260_000, o2 + o3)
    # Order 4 out of order: its second half is captured before its first, then the first
    # half is retransmitted.
    o4 = wire.new_order(5, start + 300_000, 4, 4, 1, 1, PRICE, 1, start + 200_700)
    first = c.seq["c"]
    c.send("c", start + 301_000, o4[20:], seq=first + 20)
    c.send("c", start + 305_000, o4[:20], seq=first)
    c.send("c", start + 306_000, o4[:20], seq=first)  # retransmission: ignored
    c.seq["c"] += len(o4)
    # An order whose market data is not in the capture, and one without market data.
    c.send("c", start + 400_000, wire.new_order(6, start + 400_000, 5, 1, 0, 0, PRICE, 1, 123))
    c.send("c", start + 410_000, wire.new_order(7, start + 410_000, 6, 1, 0, 0, PRICE, 1, 0))
    c.send("s", start + 500_000, wire.execution_report(
        6, start + 499_000, 1, 9, 11, 3, 1, 1, 0, PRICE, PRICE - 100, 3, 7, 3))
    c.send("c", start + 600_000, wire.cancel_order(8, start + 600_000, 2, 2))
    c.send("c", start + 700_000, wire.heartbeat(9, start + 700_000))
    c.send("c", start + 800_000, wire.logout(10, start + 800_000))
    return {1: 153_000 - 103_000, 2: 260_000 - 201_000, 3: 260_000 - 201_000,
            4: 305_000 - 202_000}


MALFORMED = (
    # (name, exchange-side frame bytes, expected reason substring, dissector expert message)
    ("short", wire.header(8, 7, 9, T0)[:16], "< 16", "msg_length 8 < 16"),
    ("long", wire.header(5000, 1, 9, T0), "> 4096", "msg_length 5000 > 4096"),
    ("size", wire.header(60, 2, 9, T0) + b"\0" * 44, "!= 80", "EXECUTION_REPORT msg_length 60"),
    ("entries", wire.header(24 + 16 * 65, 1, 9, T0) + b"\1\0\0\0" + b"\x41\0" + b"\1\0" +
     b"\0" * 16 * 65, "num_entries 65 > 64", "num_entries 65 > 64"),
)


def malformed_capture(packets):
    """One connection per malformed frame (a receiver closes the connection at the first)."""
    for i, (_, frame, _, _) in enumerate(MALFORMED):
        start = T0 + (i + 1) * 10_000_000
        c = wire.TcpConnection(packets, 41000 + i, EXCHANGE_PORT, start)
        c.send("s", start + 1_000, wire.heartbeat(1, start) + frame)
        # After the bad frame: a valid-looking order is not decoded by the analysis.
        c.send("c", start + 2_000, wire.new_order(1, start, 99, 1, 0, 0, PRICE, 1, start))
    start = T0 + 90_000_000
    # UDP: one good datagram of two frames, one that ends inside a frame.
    feed = wire.market_data(1, start, 1, md_entries()) + wire.market_data(2, start, 2,
                                                                          md_entries())
    packets.append((start + 1_000, wire.udp_packet(50000, FEED_PORT, feed)))
    packets.append((start + 2_000, wire.udp_packet(50000, FEED_PORT, feed[:-5])))


class CraftedCapture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hft-capture-test-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def data_dir(self, packets, tsresol=9, drops=0):
        data = os.path.join(self.tmp, "data-{}".format(len(os.listdir(self.tmp))))
        os.makedirs(os.path.join(data, "capture"))
        wire.write_pcapng(os.path.join(data, "capture", "exchange.pcapng"), packets, tsresol)
        with open(os.path.join(data, "capture", "capture.json"), "w") as f:
            json.dump({"captured": True, "packets_captured": len(packets),
                       "packets_dropped_by_kernel": drops, "limit_reached": False}, f)
        return data

    def analyse(self, data):
        code, report, stderr = wire.analyze(data, os.path.join(data, "analysis"))
        self.assertEqual(code, 0, stderr)
        self.assertNotIn("Traceback", stderr)
        return report

    def test_analysis_reassembles_tcp_and_measures_wire_to_wire_exactly(self):
        packets = []
        expected = valid_session(packets)
        report = self.analyse(self.data_dir(packets))
        cap = report["capture"]
        self.assertEqual(cap["malformed_frames"], 0, cap["malformed"])
        self.assertEqual(cap["frames"], {"CANCEL_ORDER": 1, "EXECUTION_REPORT": 1,
                                         "HEARTBEAT": 1, "LOGON": 1, "LOGON_RESPONSE": 1,
                                         "LOGOUT": 1, "MARKET_DATA": 4, "NEW_ORDER": 6})
        self.assertEqual((cap["orders"], cap["paired"], cap["unpaired_orders"],
                          cap["orders_without_md_timestamp"]), (6, 4, 1, 1))
        self.assertEqual(cap["drops"]["packets_dropped_by_kernel"], 0)
        with open(os.path.join(report["data_dir"], "analysis", "wire_to_wire.csv")) as f:
            rows = [line.strip().split(",") for line in f][1:]
        self.assertEqual({int(r[0]): int(r[4]) for r in rows}, expected)
        w2w = report["latency"]["stages"]["wire_to_wire"]
        self.assertEqual((w2w["count"], w2w["min"], w2w["max"], w2w["unpaired_orders"]),
                         (4, min(expected.values()), max(expected.values()), 1))

    def test_a_capture_begun_inside_a_frame_finds_the_next_frame(self):
        packets = []
        start = T0
        md_a = wire.market_data(7, start, 1, md_entries())
        md_b = wire.market_data(8, start + 1_000, 2, md_entries())
        # No SYN: the first captured segment starts 20 bytes into md_a.
        packets.append((start + 2_000, wire.tcp_packet(EXCHANGE_PORT, 40500, 7000,
                                                       wire.PSH | wire.ACK, md_a[20:] + md_b)))
        order = wire.new_order(30, start + 5_000, 42, 2, 0, 0, PRICE, 1, start + 1_000)
        packets.append((start + 6_000, wire.tcp_packet(40500, EXCHANGE_PORT, 3000,
                                                       wire.PSH | wire.ACK, order)))
        report = self.analyse(self.data_dir(packets))
        cap = report["capture"]
        self.assertEqual(cap["malformed_frames"], 0, cap["malformed"])
        self.assertEqual(cap["paired"], 1)
        self.assertEqual(report["latency"]["stages"]["wire_to_wire"]["min"], 4_000)
        self.assertEqual(list(cap["joined_mid_stream"].values()), [len(md_a) - 20])
        self.assertTrue(any("began inside" in w for w in report["warnings"]))

    def test_if_tsresol_micro_and_binary_give_the_same_times(self):
        packets = []
        valid_session(packets)
        nano = self.analyse(self.data_dir(packets, 9))["latency"]["stages"]["wire_to_wire"]
        micro = self.analyse(self.data_dir(packets, None))["latency"]["stages"]["wire_to_wire"]
        binary = self.analyse(self.data_dir(packets, 0x80 | 30))["latency"]["stages"]
        for other in (micro, binary["wire_to_wire"]):
            self.assertEqual(other["count"], nano["count"])
            self.assertLessEqual(abs(other["p50"] - nano["p50"]), 2)  # rounding of the ticks

    def test_capture_drops_are_reported_not_hidden(self):
        packets = []
        valid_session(packets)
        report = self.analyse(self.data_dir(packets, drops=7))
        self.assertEqual(report["capture"]["drops"]["packets_dropped_by_kernel"], 7)
        self.assertEqual(report["latency"]["stages"]["wire_to_wire"]["capture_drops"], 7)
        self.assertTrue(any("lost 7 packets" in w for w in report["warnings"]),
                        report["warnings"])

    def test_analysis_flags_malformed_frames_without_crashing(self):
        packets = []
        valid_session(packets)
        malformed_capture(packets)
        report = self.analyse(self.data_dir(packets))
        cap = report["capture"]
        self.assertEqual(cap["malformed_frames"], len(MALFORMED) + 1, cap["malformed"])
        reasons = " | ".join(m["reason"] for m in cap["malformed"])
        for name, _, reason, _ in MALFORMED:
            self.assertIn(reason, reasons, name)
        self.assertIn("datagram ends inside a frame", reasons)
        self.assertTrue(any("malformed protocol frame" in w for w in report["warnings"]))
        # The orders after a malformed frame are not counted; the valid session still is.
        self.assertEqual(cap["paired"], 4)
        # 4 on TCP, 2 in the good datagram, the first of the datagram cut short.
        self.assertEqual(cap["frames"]["MARKET_DATA"], 4 + 2 + 1)

    def test_an_unreadable_capture_is_reported_unusable(self):
        data = os.path.join(self.tmp, "junk")
        os.makedirs(os.path.join(data, "capture"))
        with open(os.path.join(data, "capture", "exchange.pcapng"), "wb") as f:
            f.write(b"this is not a capture at all")
        with open(os.path.join(data, "capture", "capture.json"), "w") as f:
            json.dump({"captured": True, "packets_dropped_by_kernel": 0}, f)
        os.makedirs(os.path.join(data, "exchange"))
        with open(os.path.join(data, "exchange", "exchange_stats.json"), "w") as f:
            json.dump({"orders": 0, "fills": 0}, f)  # a capture alone is not "usable data"
        report = self.analyse(data)
        self.assertIn("neither pcapng nor pcap",
                      report["inputs"]["capture/exchange.pcapng"]["unusable"])


class Dissector(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        wire.require_tools("tshark")
        cls.tmp = tempfile.mkdtemp(prefix="hft-dissector-test-")
        packets = []
        valid_session(packets)
        malformed_capture(packets)
        cls.pcap = os.path.join(cls.tmp, "crafted.pcapng")
        wire.write_pcapng(cls.pcap, packets)
        cls.pdus = wire.tshark_frames(cls.pcap, EXCHANGE_PORT, FEED_PORT)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def of_type(self, msg_type):
        """The whole frames of that type (a malformed one shows only its length and type)."""
        return [p for _, p in self.pdus
                if p.get("hft.msg_type") == str(msg_type) and "hft.timestamp" in p]

    def test_split_and_batched_frames_are_reassembled(self):
        # 4 MARKET_DATA frames on TCP (one split in three, one split across two segments) and
        # 2 in the good UDP datagram, 2 before the end of the bad one.
        stamps = sorted(p["hft.timestamp"] for p in self.of_type(1))
        self.assertIn(str(T0 + 100_000), stamps)
        self.assertIn(str(T0 + 200_700), stamps)
        tcp_md = [s for s in stamps if int(s) < T0 + 1_000_000]
        self.assertEqual(len(tcp_md), 4, stamps)
        orders = {p["hft.cl_ord_id"]: p for p in self.of_type(3)}
        # 4 came out of order (tcp.reassemble_out_of_order), 99s follow malformed frames.
        self.assertEqual({"1", "2", "3", "4", "5", "6", "99"}, set(orders))
        self.assertEqual(orders["2"]["hft.price"], str(PRICE + 100))
        self.assertEqual(orders["2"]["hft.side"], "1")
        self.assertEqual(orders["3"]["hft.qty"], "4")
        self.assertEqual(orders["1"]["hft.md_timestamp"], str(T0 + 100_000))

    def test_every_type_and_field_is_decoded(self):
        report = self.of_type(2)[0]
        # Every value differs from its neighbours': a field read at the wrong offset shows.
        for field, value in (("hft.cl_ord_id", "1"), ("hft.order_id", "9"),
                             ("hft.exec_id", "11"), ("hft.symbol_id", "3"),
                             ("hft.exec_type", "1"), ("hft.side", "1"),
                             ("hft.reject_reason", "0"), ("hft.price", str(PRICE)),
                             ("hft.last_px", str(PRICE - 100)), ("hft.last_qty", "3"),
                             ("hft.cum_qty", "7"), ("hft.leaves_qty", "3")):
            self.assertEqual(report[field], value, field)
        self.assertEqual(self.of_type(5)[0]["hft.account"], "test")
        self.assertEqual(self.of_type(5)[0]["hft.protocol_version"], "1")
        self.assertEqual(self.of_type(6)[0]["hft.session_id"], "77")
        self.assertEqual(self.of_type(4)[0]["hft.cl_ord_id"], "2")
        self.assertEqual(self.of_type(8)[0]["hft.logout.reason"], "0")
        md = self.of_type(1)[0]
        self.assertEqual(md["hft.md.num_entries"], "4")
        self.assertIn("hft.md.entry", md)

    def test_malformed_frames_have_expert_info(self):
        messages = [m for _, p in self.pdus for m in wire.expert_messages(p)]
        joined = " | ".join(messages)
        for name, _, _, expert in MALFORMED:
            self.assertIn(expert, joined, name)
        self.assertTrue(any("frame of" in m or "datagram" in m.lower() for m in messages),
                        joined)

    def test_display_filter_on_expert_fields(self):
        flagged = wire.tshark_frames(self.pcap, EXCHANGE_PORT, FEED_PORT,
                                     "hft.malformed.short || hft.malformed.long || "
                                     "hft.malformed.size || hft.malformed.entries || "
                                     "hft.malformed.datagram")
        self.assertEqual(len({number for number, _ in flagged}), len(MALFORMED) + 1)


if __name__ == "__main__":
    wire.main()

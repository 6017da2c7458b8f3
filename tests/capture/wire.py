# SPDX-License-Identifier: MIT
"""Helpers of the capture tests: protocol frames (docs/protocol.md), crafted pcapng files of
TCP and UDP on loopback, the session journal reader (docs/session-data.md) and tshark run with
tools/wireshark/hft.lua. Everything little-endian as on the wire."""

import json
import sys
import os
import struct
import subprocess
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("HFT_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
DISSECTOR = os.path.join(SOURCE_ROOT, "tools", "wireshark", "hft.lua")
ANALYZE = os.path.join(SOURCE_ROOT, "scripts", "analyze_results.py")
PYTHON = "/usr/bin/python3"


def require_tools(*tools):
    """Skips (exit 77 under meson) when a tool is missing, except in CI where it must be."""
    import shutil
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = "{} not installed (scripts/install-deps.sh installs them)".format(
            ", ".join(missing))
        if os.environ.get("CI"):
            raise AssertionError("CI: " + message)
        raise unittest.SkipTest(message)


# ------------------------------------------------------------------------------- frames
def header(length, msg_type, seq, ts):
    return struct.pack("<HHIQ", length, msg_type, seq, ts)


def market_data(seq, ts, symbol, entries):
    """entries: [(price, qty, side, level)]."""
    body = struct.pack("<IHH", symbol, len(entries), 1)
    for price, qty, side, level in entries:
        body += struct.pack("<qIBBH", price, qty, side, level, 0)
    return header(24 + 16 * len(entries), 1, seq, ts) + body


def new_order(seq, ts, cl_ord_id, symbol, side, tif, price, qty, md_ts):
    return header(56, 3, seq, ts) + struct.pack("<QIBBHqIIQ", cl_ord_id, symbol, side, tif, 0,
                                                price, qty, 0, md_ts)


def cancel_order(seq, ts, cl_ord_id, symbol):
    return header(32, 4, seq, ts) + struct.pack("<QII", cl_ord_id, symbol, 0)


def execution_report(seq, ts, cl_ord_id, order_id, exec_id, symbol, exec_type, side, reason,
                     price, last_px, last_qty, cum_qty, leaves_qty):
    return header(80, 2, seq, ts) + struct.pack(
        "<QQQIBBBBqqIIII", cl_ord_id, order_id, exec_id, symbol, exec_type, side, reason, 0,
        price, last_px, last_qty, cum_qty, leaves_qty, 0)


def logon(seq, ts, account=b"test"):
    return header(48, 5, seq, ts) + struct.pack("<II16s8s", 1, 0, account, b"")


def logon_response(seq, ts, session_id):
    return header(32, 6, seq, ts) + struct.pack("<BBHIQ", 0, 0, 0, 1000, session_id)


def heartbeat(seq, ts):
    return header(16, 7, seq, ts)


def logout(seq, ts, reason=0):
    return header(24, 8, seq, ts) + struct.pack("<B7s", reason, b"")


# ------------------------------------------------------------------------------- pcapng
def _ipv4(proto, src, dst, payload):
    total = 20 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, proto, 0,
                     bytes(src), bytes(dst))
    return ip + payload


def _ether(ip):
    return b"\0" * 12 + b"\x08\x00" + ip


LOCAL = (127, 0, 0, 1)
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def tcp_packet(sport, dport, seq, flags, payload=b"", ack=0):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack, 5 << 4, flags, 65535,
                      0, 0)
    return _ether(_ipv4(6, LOCAL, LOCAL, tcp + payload))


def udp_packet(sport, dport, payload):
    return _ether(_ipv4(17, LOCAL, LOCAL, struct.pack("!HHHH", sport, dport, 8 + len(payload),
                                                      0) + payload))


def _block(block_type, body):
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def write_pcapng(path, packets, tsresol=9):
    """packets: [(time in ns, Ethernet frame)]. tsresol is if_tsresol's byte (None: no option,
    the default microseconds; 0x80 | n: 2^-n seconds)."""
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    options = b""
    if tsresol is not None:
        options = struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    idb = _block(1, struct.pack("<HHI", 1, 0, 262144) + options)
    out = [shb, idb]
    for ns, frame in packets:
        if tsresol is None:
            ticks = ns // 1000
        elif tsresol & 0x80:
            ticks = ns * (1 << (tsresol & 0x7F)) // 10 ** 9
        else:
            ticks = ns * 10 ** tsresol // 10 ** 9
        out.append(_block(6, struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF,
                                         len(frame), len(frame)) + frame))
    with open(path, "wb") as f:
        f.write(b"".join(out))


class TcpConnection:
    """Client (engine) and server (exchange) sides of one TCP connection in a crafted capture:
    packets are appended to `packets` as (ns, frame)."""

    def __init__(self, packets, client_port, server_port, ns):
        self.packets = packets
        self.ports = {"c": (client_port, server_port), "s": (server_port, client_port)}
        self.seq = {"c": 1000, "s": 500000}
        packets.append((ns, tcp_packet(client_port, server_port, self.seq["c"], SYN)))
        packets.append((ns + 1000, tcp_packet(server_port, client_port, self.seq["s"],
                                              SYN | ACK)))
        self.seq["c"] += 1
        self.seq["s"] += 1

    def send(self, side, ns, payload, seq=None):
        """One segment from side 'c' or 's'; seq=None: the next bytes of the stream."""
        sport, dport = self.ports[side]
        start = self.seq[side] if seq is None else seq
        self.packets.append((ns, tcp_packet(sport, dport, start, PSH | ACK, payload)))
        if seq is None:
            self.seq[side] += len(payload)
        return start


# ------------------------------------------------------------------------------- journal
def read_journal(path):
    """[(local ns, direction 0 sent / 1 received, frame bytes)] of a session's journal.bin."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"HFTJRNL1", "journal.bin: no HFTJRNL1 header"
    pos, records = 8, []
    while pos + 8 <= len(data):
        length, crc = struct.unpack_from("<II", data, pos)
        payload = data[pos + 8:pos + 8 + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        ns, direction, _, flen = struct.unpack_from("<QBBH", payload, 0)
        records.append((ns, direction, payload[12:12 + flen]))
        pos += 8 + length
    return records


def decode(frame):
    """The fields of a NEW_ORDER, CANCEL_ORDER or EXECUTION_REPORT as the dissector names them
    (values as strings like tshark prints them), with the header's."""
    length, msg_type, seq, ts = struct.unpack_from("<HHIQ", frame)
    out = {"hft.msg_length": length, "hft.msg_type": msg_type, "hft.seq": seq,
           "hft.timestamp": ts}
    if msg_type == 3:
        cl, sym, side, tif, _, price, qty, _, md = struct.unpack_from("<QIBBHqIIQ", frame, 16)
        out.update({"hft.cl_ord_id": cl, "hft.symbol_id": sym, "hft.side": side, "hft.tif": tif,
                    "hft.price": price, "hft.qty": qty, "hft.md_timestamp": md})
    elif msg_type == 4:
        cl, sym, _ = struct.unpack_from("<QII", frame, 16)
        out.update({"hft.cl_ord_id": cl, "hft.symbol_id": sym})
    elif msg_type == 2:
        (cl, oid, eid, sym, et, side, reason, _, price, last_px, last_qty, cum, leaves,
         _) = struct.unpack_from("<QQQIBBBBqqIIII", frame, 16)
        out.update({"hft.cl_ord_id": cl, "hft.order_id": oid, "hft.exec_id": eid,
                    "hft.symbol_id": sym, "hft.exec_type": et, "hft.side": side,
                    "hft.reject_reason": reason, "hft.price": price, "hft.last_px": last_px,
                    "hft.last_qty": last_qty, "hft.cum_qty": cum, "hft.leaves_qty": leaves})
    return {k: str(v) for k, v in out.items()}


# ------------------------------------------------------------------------------- tshark
def tshark_frames(pcap, tcp_port, udp_port=9001, display_filter="hft"):
    """[(frame number, {field: value})] for every HFT PDU the dissector finds, in capture
    order (several per packet when a segment holds several frames)."""
    argv = ["tshark", "-n", "-r", pcap, "-X", "lua_script:" + DISSECTOR,
            "-o", "hft.tcp_port:{}".format(tcp_port), "-o", "hft.udp_port:{}".format(udp_port),
            # Wireshark 4.0 leaves segments that arrive out of order unreassembled by default.
            "-o", "tcp.reassemble_out_of_order:TRUE",
            "-Y", display_filter, "-T", "json", "--no-duplicate-keys", "-J", "frame hft"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError("tshark failed ({}): {}".format(
            result.returncode, result.stderr[-2000:]))
    lua_errors = [line for line in result.stderr.splitlines() if "Lua" in line
                  or "lua" in line]
    if lua_errors:
        raise AssertionError("tshark reported Lua errors: " + "\n".join(lua_errors[:10]))
    out = []
    for packet in json.loads(result.stdout or "[]"):
        layers = packet["_source"]["layers"]
        number = int(layers["frame"]["frame.number"])
        pdus = layers.get("hft", [])
        for pdu in pdus if isinstance(pdus, list) else [pdus]:
            out.append((number, pdu))
    return out


def expert_messages(pdu):
    """The expert info messages in one PDU's JSON tree."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "_ws.expert.message":
                    found.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(pdu)
    return found


def analyze(data_dir, out_dir):
    """Runs scripts/analyze_results.py --json-only; (exit code, report or None, stderr)."""
    result = subprocess.run([PYTHON, ANALYZE, data_dir, "--out", out_dir, "--json-only",
                             "--no-verify"], capture_output=True, text=True, timeout=600)
    report = None
    if os.path.isfile(os.path.join(out_dir, "report.json")):
        with open(os.path.join(out_dir, "report.json")) as f:
            report = json.load(f)
    return result.returncode, report, result.stderr


def main():
    """unittest's main, but exit 77 (meson's skip) when every test was skipped."""
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() else 1)

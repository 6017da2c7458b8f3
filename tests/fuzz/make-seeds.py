#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seed inputs of tests/fuzz/corpus (docs/fuzzing.md).

Run from anywhere: python3 tests/fuzz/make-seeds.py. It rewrites only the files it names
(seed-*), so inputs a fuzzer added with --grow stay.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- protocol v1 frames (docs/protocol.md) ---------------------------------------------------
def header(length, mtype, seq=1, ts=1_700_000_000_000_000_000):
    return struct.pack("<HHIQ", length, mtype, seq, ts)


def entry(price, qty, side, level):
    return struct.pack("<qIBBH", price, qty, side, level, 0)


def market_data(entries, symbol=1, flags=1, seq=1, n=None, length=None):
    body = b"".join(entry(*e) for e in entries)
    n = len(entries) if n is None else n
    length = 24 + len(body) if length is None else length
    return header(length, 1, seq) + struct.pack("<IHH", symbol, n, flags) + body


def ladder(depth, mid=1_000_000, tick=100):
    bids = [(mid - tick * (i + 1), 10 + i, 0, i) for i in range(depth)]
    asks = [(mid + tick * (i + 1), 20 + i, 1, i) for i in range(depth)]
    return bids + asks


def execution_report(seq=2):
    return header(80, 2, seq) + struct.pack("<QQQIBBBBqqIIII", 7, 1001, 1, 1, 2, 0, 0, 0,
                                            1_000_100, 1_000_100, 10, 10, 0, 0)


def new_order(seq=3):
    return header(56, 3, seq) + struct.pack("<QIBBHqIIQ", 7, 1, 0, 1, 0, 1_000_100, 10, 0,
                                            1_700_000_000_000_000_000)


def cancel_order(seq=4):
    return header(32, 4, seq) + struct.pack("<QII", 7, 1, 0)


def logon(seq=5):
    return header(48, 5, seq) + struct.pack("<II16sQ", 1, 1000, b"hft", 0)


def logon_response(seq=6):
    return header(32, 6, seq) + struct.pack("<BBHIQ", 0, 0, 0, 1000, 42)


def heartbeat(seq=7):
    return header(16, 7, seq)


def logout(seq=8):
    return header(24, 8, seq) + struct.pack("<B7s", 0, b"")


VALID = {
    "md-2x2": market_data(ladder(2)),
    "md-empty": market_data([]),
    "md-bids-only": market_data(ladder(3)[:3]),
    "md-64": market_data(ladder(32)),
    "md-interleaved": market_data([(999_900, 5, 0, 0), (1_000_100, 6, 1, 0),
                                   (999_800, 7, 0, 1), (1_000_200, 8, 1, 1)]),
    "exec-report": execution_report(),
    "new-order": new_order(),
    "cancel-order": cancel_order(),
    "logon": logon(),
    "logon-response": logon_response(),
    "heartbeat": heartbeat(),
    "logout": logout(),
    "unknown-type": header(40, 200) + bytes(24),
}
MALFORMED = {
    "too-short": header(15, 7),
    "too-long": header(4097, 1) + bytes(4081),
    "wrong-length-heartbeat": header(24, 7) + bytes(8),
    "wrong-length-md": market_data(ladder(2), length=56)[:56],
    "md-too-many-entries": market_data(ladder(32) + [(1, 1, 0, 32)], n=65),
    "md-bad-flags": market_data(ladder(2), flags=3),
    "md-no-snapshot-flag": market_data(ladder(2), flags=0),
    "md-bad-side": market_data([(1_000_000, 1, 2, 0)]),
    "md-zero-qty": market_data([(1_000_000, 0, 0, 0)]),
    "md-level-gap": market_data([(1_000_000, 1, 0, 0), (999_800, 1, 0, 2)]),
    "md-bids-rising": market_data([(1_000_000, 1, 0, 0), (1_000_100, 1, 0, 1)]),
    "md-crossed": market_data([(1_000_300, 1, 0, 0), (1_000_200, 1, 1, 0)]),
    "md-locked": market_data([(1_000_200, 1, 0, 0), (1_000_200, 1, 1, 0)]),
    "md-huge-prices": market_data([(2**62, 1, 0, 0), (2**62 + 2, 1, 1, 0)]),
    "md-negative-prices": market_data([(-2**62, 1, 0, 0), (2**62, 1, 1, 0)]),
    "truncated": market_data(ladder(2))[:40],
}

for name, frame in {**VALID, **MALFORMED}.items():
    write("frame", name, frame)

# Reassembler: mode byte (bit 0 recv-style, bit 1 small buffer, bits 2..5 chunk-size count),
# chunk sizes, then the stream.
stream = b"".join([logon_response(1), market_data(ladder(2), seq=2), heartbeat(3),
                   execution_report(4), market_data(ladder(32), seq=5), logout(6)])
write("reassembler", "one-chunk", bytes([0]) + stream)
write("reassembler", "byte-by-byte", bytes([1 << 2, 0]) + stream)
write("reassembler", "recv-mixed-chunks", bytes([1 | (3 << 2), 6, 0x81, 30]) + stream)
write("reassembler", "small-buffer", bytes([2 | (2 << 2), 0x90, 0x85]) + stream * 4)
write("reassembler", "recv-small-buffer", bytes([3 | (1 << 2), 0xff]) + stream * 4)
write("reassembler", "malformed-mid-stream",
      bytes([2 << 2, 16, 3]) + stream[:100] + header(9, 7) + stream)
write("reassembler", "too-long-after-frames",
      bytes([1 | (1 << 2), 10]) + heartbeat() + heartbeat(2) + header(5000, 1) + bytes(64))
write("reassembler", "wrong-length-after-frames",
      bytes([0]) + heartbeat() + header(24, 7, 2) + bytes(8) + heartbeat(3))
write("reassembler", "unknown-type", bytes([1 << 2, 7]) + header(40, 200) + bytes(24) + heartbeat())
write("reassembler", "partial-tail", bytes([0]) + stream + market_data(ladder(5))[:50])


# Order book: byte 0 = the book's symbol (0: takes the first snapshot's); records: c < 0x80 =
# MARKET_DATA of (c % 65) entries: symbol u32, flags u16, entries; c >= 0x80 = raw frame:
# length u16 + bytes.
def book_record(entries, symbol=1, flags=1):
    return bytes([len(entries)]) + struct.pack("<IH", symbol, flags) + b"".join(
        entry(*e) for e in entries)


def raw_record(frame):
    return bytes([0x80]) + struct.pack("<H", len(frame)) + frame


write("order_book", "two-by-two", bytes([1]) + book_record(ladder(2)))
write("order_book", "full-ladder", bytes([1]) + book_record(ladder(32)))
write("order_book", "then-crossed", bytes([1]) + book_record(ladder(2)) + book_record(
    [(1_000_300, 1, 0, 0), (1_000_200, 1, 1, 0)]))
write("order_book", "other-symbol", bytes([3]) + book_record(ladder(2), symbol=3)
      + book_record(ladder(3), symbol=4) + book_record(ladder(1), symbol=3))
write("order_book", "takes-first-symbol", bytes([0]) + book_record(ladder(2), symbol=9)
      + book_record(ladder(2), symbol=10))
write("order_book", "no-snapshot-flag", bytes([1]) + book_record(ladder(2), flags=0))
write("order_book", "bad-flags", bytes([1]) + book_record(ladder(2), flags=3))
write("order_book", "one-side", bytes([1]) + book_record(ladder(4)[:4]) + book_record(
    ladder(4)[4:]))
write("order_book", "level-gap", bytes([1]) + book_record([(1_000_000, 1, 0, 0),
                                                           (999_800, 1, 0, 2)]))
write("order_book", "zero-qty", bytes([1]) + book_record([(1_000_000, 0, 1, 0)]))
write("order_book", "heartbeat-raw", bytes([1]) + book_record(ladder(2)) + raw_record(heartbeat()))
write("order_book", "raw-md", bytes([1]) + raw_record(market_data(ladder(3))))
write("order_book", "huge-prices", bytes([1]) + book_record(
    [(2**62, 1, 0, 0), (2**62 + 2, 1, 1, 0)]))
write("order_book", "wide-spread", bytes([1]) + book_record(
    [(-2**62, 1, 0, 0), (2**62, 1, 1, 0)]))

# --- configuration files ------------------------------------------------------------------
with open(os.path.join(ROOT, "conf", "hftd.toml"), "rb") as f:
    write("hftd_config", "shipped-hftd.toml", f.read())
write("hftd_config", "empty.toml", "")
write("hftd_config", "minimal.toml", "[cpu]\nnetwork_core = 0\nstrategy_core = 1\n")
write("hftd_config", "syntax-error.toml", "[exchange\nport = 9000\n")
write("hftd_config", "unknown-key.toml", "[exchange]\nprot = 9000\n")
write("hftd_config", "unknown-section.toml", "[network]\ncore = 1\n")
write("hftd_config", "wrong-type.toml", "[exchange]\nport = \"9000\"\n")
write("hftd_config", "out-of-range.toml", "[exchange]\nport = 70000\n")
write("hftd_config", "same-cores.toml", "[cpu]\nnetwork_core = 3\nstrategy_core = 3\n")
write("hftd_config", "section-not-table.toml", "exchange = 1\n")
write("hftd_config", "bad-choice.toml", "[cpu]\npoll_mode = \"spin\"\n[log]\nlevel = 3\n")
write("hftd_config", "relative-paths.toml",
      "[session]\ndirectory = \"sessions\"\n[control]\nsocket = \"c.sock\"\n")
write("hftd_config", "order-qty-over-risk.toml",
      "[risk]\nmax_order_qty = 5\n[strategy]\norder_qty = 10\n")
write("hftd_config", "extremes.toml",
      "[exchange]\nreconnect_initial_ms = 60000\nreconnect_max_ms = 600000\n"
      "[risk]\nmax_position = 9223372036854775807\nmax_order_qty = 4294967295\n"
      "[strategy]\ntick_size = 9223372036854775807\naggress_ticks = 1000\n"
      "cooldown_ms = 3600000\nmax_position = 9223372036854775807\n")
write("hftd_config", "extremes-accepted.toml",
      "[risk]\nmax_position = 9223372036854775807\nmax_order_qty = 4294967295\n"
      "[strategy]\ntick_size = 1000000000000\nthreshold_ticks = 1000000\naggress_ticks = 1000\n"
      "order_qty = 4294967295\nmax_position = 9223372036854775807\nlookback = 2\n")
write("hftd_config", "inline-tables.toml",
      "exchange = { host = \"::1\", port = 1 }\ncpu = { network_core = 0, strategy_core = 4095 }\n")
write("hftd_config", "dotted-keys.toml", "risk.max_order_qty = 1\nstrategy.order_qty = 1\n")
write("hftd_config", "array-of-tables.toml", "[[exchange]]\nport = 1\n")

with open(os.path.join(ROOT, "conf", "exchange-sim.toml"), "rb") as f:
    write("xsim_config", "shipped-exchange-sim.toml", f.read())
write("xsim_config", "empty.toml", "")
write("xsim_config", "market.toml",
      "[market]\nsymbols = 2\ndepth = 32\ntick_size = 1\nstart_price = 1\n"
      "volatility_ticks = 1000.0\nmin_spread_ticks = 1\nmax_spread_ticks = 1000000\n"
      "min_level_qty = 1\nmax_level_qty = 4294967295\nseed = 18446744073709551615\n")
write("xsim_config", "extreme-prices.toml",
      "[market]\ntick_size = 1000000000000\nstart_price = 1000000000000000\n"
      "max_spread_ticks = 1000000\nmin_spread_ticks = 1000000\n")
write("xsim_config", "server.toml",
      "[server]\nbind = \"::1\"\nport = 0\naccounts = [\"hft\", \"b\"]\nmin_heartbeat_ms = 10\n"
      "max_heartbeat_ms = 5\n")
write("xsim_config", "negative.toml", "[orders]\nmax_order_qty = -1\n")
write("xsim_config", "nan.toml", "[orders]\nfill_prob = nan\n[market]\nvolatility_ticks = inf\n")
write("xsim_config", "bad-address.toml", "[server]\nbind = \"localhost\"\n")
write("xsim_config", "small-buffer.toml",
      "[server]\noutput_buffer_bytes = 16384\n[market]\nsymbols = 10000\ndepth = 32\n")
write("xsim_config", "unknown.toml", "[server]\nbnid = \"::1\"\n[nope]\n")
write("xsim_config", "syntax-error.toml", "[market]\nsymbols = = 2\n")


# --- command lines: arguments separated by NUL ----------------------------------------------
def argv(*args):
    return "\0".join(args)


CTL = {
    "status": argv("status"),
    "status-json-socket": argv("--json", "status", "--socket", "/tmp/x.sock"),
    "stats-watch": argv("stats", "--watch=0.5"),
    "stats-watch-bad": argv("stats", "--watch", "1e3"),
    "start-duration": argv("start-session", "--duration", "30"),
    "start-duration-overflow": argv("start-session", "--duration=4294967296"),
    "kill-switch-on": argv("kill-switch", "on"),
    "kill-switch-bad": argv("kill-switch", "maybe"),
    "help-command": argv("reload", "--help"),
    "version": argv("--version"),
    "no-command": argv("--json"),
    "unknown": argv("frobnicate", "-x"),
    "socket-empty": argv("--socket=", "status"),
    "missing-value": argv("status", "--socket"),
    "duration-wrong-command": argv("status", "--duration", "1"),
    "empty-args": argv("", "", "status"),
}
for name, a in CTL.items():
    write("ctl_args", name, a)

HFTD = {
    "config": argv("--config", "/etc/hft/hftd.toml"),
    "cores": argv("--network-core", "2", "--strategy-core=3", "--poll-mode", "yield"),
    "exchange": argv("--exchange", "[::1]:9000", "--start-session", "--duration", "60"),
    "exchange-bad": argv("--exchange=:9000"),
    "exchange-port-range": argv("--exchange", "host:65536"),
    "idle-verbose": argv("--idle", "-v", "--socket", "/run/x.sock", "--sessions-dir", "/tmp/s"),
    "check-config": argv("--check-config", "conf/hftd.toml"),
    "missing-value": argv("--network-core"),
    "negative-core": argv("--network-core", "-1"),
    "unknown": argv("--frobnicate"),
    "help": argv("-h", "--version"),
}
for name, a in HFTD.items():
    write("hftd_args", name, a)

XSIM = {
    "defaults": argv(),
    "flags": argv("--port", "0", "--symbols", "3", "--depth=32", "--tick-rate", "0", "--seed",
                  "18446744073709551615", "--fill-prob", "37.5", "-v"),
    "bind": argv("--bind", "::1", "--stats-file", "/tmp/s.json", "--samples-file=/tmp/s.csv"),
    "bad-bind": argv("--bind=localhost"),
    "bad-number": argv("--fill-prob", "nan"),
    "too-deep": argv("--depth", "33"),
    "too-many-symbols": argv("--symbols", "10000", "--depth", "32"),
    "positional": argv("extra"),
    "missing-value": argv("--port"),
    "help": argv("--help"),
    "version": argv("--version"),
}
for name, a in XSIM.items():
    write("xsim_args", name, a)


# --- control socket: byte 0 mode (0 raw, 1 authenticated raw, 2 sd-bus calls), byte 1 the
# engine's behaviour, then per mode -------------------------------------------------------------
def pad(buf, n):
    return buf + bytes((-len(buf)) % n)


def dbus_method_call(member, serial=1, path="/io/hft/Engine", interface="io.hft.Engine1",
                     signature="", body=b""):
    fields = b""

    def field(code, sig, value):
        nonlocal fields
        fields = pad(fields, 8)
        fields += bytes([code, 1]) + sig.encode() + b"\0"
        if sig in ("o", "s"):
            # strings are 4-aligned: the fields array starts at offset 16 of the message
            fields += bytes((-(16 + len(fields))) % 4)
            fields += struct.pack("<I", len(value)) + value.encode() + b"\0"
        elif sig == "g":
            fields += bytes([len(value)]) + value.encode() + b"\0"

    field(1, "o", path)
    if interface:
        field(2, "s", interface)
    field(3, "s", member)
    if signature:
        field(8, "g", signature)
    head = struct.pack("<cBBBII", b"l", 1, 0, 1, len(body), serial) + struct.pack("<I", len(fields))
    return pad(head + fields, 8) + body


write("control_server", "raw-garbage", bytes([0, 0]) + b"GET / HTTP/1.0\r\n\r\n")
write("control_server", "raw-auth-anonymous", bytes([0, 0]) + b"\0AUTH ANONYMOUS\r\nBEGIN\r\n")
write("control_server", "raw-auth-external-root",
      bytes([0, 0]) + b"\0AUTH EXTERNAL 30\r\nBEGIN\r\n" + dbus_method_call("Version"))
write("control_server", "raw-no-nul", bytes([0, 0]) + b"AUTH EXTERNAL 30\r\n")
write("control_server", "auth-version", bytes([1, 0]) + dbus_method_call("Version"))
write("control_server", "auth-status-stats",
      bytes([1, 0]) + dbus_method_call("Status", 1) + dbus_method_call("GetStats", 2))
write("control_server", "auth-start-session",
      bytes([1, 0]) + dbus_method_call("StartSession", 1, signature="u",
                                       body=struct.pack("<I", 30))
      + dbus_method_call("StopSession", 2))
write("control_server", "auth-start-session-no-args",
      bytes([1, 0]) + dbus_method_call("StartSession", 1))
write("control_server", "auth-kill-switch-wrong-type",
      bytes([1, 4]) + dbus_method_call("SetKillSwitch", 1, signature="s",
                                       body=struct.pack("<I", 2) + b"on\0"))
write("control_server", "auth-truncated", bytes([1, 0]) + dbus_method_call("Reload")[:20])
write("control_server", "auth-huge-length",
      bytes([1, 0]) + struct.pack("<cBBBII", b"l", 1, 0, 1, 0x7fffffff, 1) + bytes(8))
# Mode 2: text length + text, then calls: method byte (bit 7: do not wait), arg count, args.
calls = bytes([0, 0, 1, 0, 2, 0, 3, 1, 0, 0, 0, 0, 30, 4, 0, 6, 0, 5, 1, 1, 1])
write("control_server", "calls-every-method", bytes([2, 0, 0]) + calls)
write("control_server", "calls-engine-refuses",
      bytes([2, 0x05, 8]) + b"No.Such!" + bytes([1, 0, 3, 1, 0, 0, 0, 0, 0, 6, 0, 5, 0]))
write("control_server", "calls-engine-throws",
      bytes([2, 0x0a, 4]) + b"boom" + bytes([1, 0, 2, 0, 3, 1, 0, 1, 2, 3, 4, 6, 0]))
write("control_server", "calls-engine-throws-int", bytes([2, 0x0f, 0]) + bytes([1, 0, 4, 0, 6, 0]))
write("control_server", "calls-not-utf8",
      bytes([2, 0x10, 4]) + b"\xff\xfe\x80x" + bytes([1, 0, 2, 0, 3, 0, 4, 0, 6, 0]))
write("control_server", "calls-wrong-args",
      bytes([2, 0, 0]) + bytes([3, 2, 2, 3]) + b"abc" + bytes([1, 5, 3, 6, 5, 2]))
write("control_server", "calls-no-wait",
      bytes([2, 0, 0]) + bytes([0x80, 0, 0x81, 0, 0x82, 0, 0x86, 0]))
write("control_server", "calls-other-objects",
      bytes([2, 0, 0]) + bytes([7, 0, 8, 0, 9, 0, 10, 0, 11, 1, 2, 0, 12, 0, 13, 0, 14, 0, 15, 0]))


# --- AF_XDP feed packets: byte 0 filter mode (bit 0 any address, bit 1 port 9001), then an
# Ethernet frame ---------------------------------------------------------------------------------
def ip_checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return (~total) & 0xffff


def udp_packet(payload, dport=9001, proto=17, flags_frag=0x4000, options=b"", ethertype=0x0800,
               udp_len=None, total_len=None, bad_checksum=False):
    ihl = (20 + len(options)) // 4
    total = 20 + len(options) + 8 + len(payload) if total_len is None else total_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 0, flags_frag, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([239, 1, 1, 1])) + options
    csum = ip_checksum(ip) ^ (0x5555 if bad_checksum else 0)
    ip = ip[:10] + struct.pack("!H", csum) + ip[12:]
    ulen = 8 + len(payload) if udp_len is None else udp_len
    udp = struct.pack("!HHHH", 40000, dport, ulen, 0)
    eth = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]) + struct.pack("!H", ethertype)
    return eth + ip + udp + payload


feed = market_data(ladder(2), seq=1) + market_data(ladder(3), symbol=2, seq=2) + heartbeat(3)
PACKETS = {
    "md-datagram": bytes([0]) + udp_packet(feed),
    "md-datagram-any-address": bytes([1]) + udp_packet(feed),
    "empty-payload": bytes([0]) + udp_packet(b""),
    "ip-options": bytes([0]) + udp_packet(feed, options=b"\x01\x01\x01\x00"),
    "bad-checksum": bytes([0]) + udp_packet(feed, bad_checksum=True),
    "fragment": bytes([0]) + udp_packet(feed, flags_frag=0x2000),
    "tcp": bytes([0]) + udp_packet(feed, proto=6),
    "vlan": bytes([0]) + udp_packet(feed, ethertype=0x8100),
    "wrong-port": bytes([2]) + udp_packet(feed, dport=9002),
    "udp-length-lies": bytes([0]) + udp_packet(feed, udp_len=9),
    "ip-length-lies": bytes([0]) + udp_packet(feed, total_len=2000),
    "truncated": bytes([0]) + udp_packet(feed)[:40],
}
for name, p in PACKETS.items():
    write("packet", name, p)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted exchange for null_engine_test.sh: accepts one connection on 127.0.0.1, answers the
LOGON, sends MARKET_DATA frames with known timestamps, checks that every NEW_ORDER echoes the
timestamp of a frame it sent, then ends the connection the way the mode says:

  logout     waits for the engine's LOGOUT and answers it (a clean end)
  malformed  sends a frame with msg_length 15
  badtype    sends a well-sized NEW_ORDER, a type the exchange never sends
  close      closes the socket

Prints "listening PORT" once it accepts, and at the end "orders N matched M"; exits 1 when an
order's md_timestamp matched no frame sent, or the engine broke the protocol."""
import socket
import struct
import sys

HDR = struct.Struct("<HHIQ")
MD_HEAD = struct.Struct("<HHIQIHH")
ENTRY = struct.Struct("<qIBBH")


def frame_md(seq, ts, symbol, bid, ask):
    body = ENTRY.pack(bid, 10, 0, 0, 0) + ENTRY.pack(ask, 10, 1, 0, 0)
    return MD_HEAD.pack(24 + len(body), 1, seq, ts, symbol, 2, 1) + body


def read_frame(conn, buf):
    while True:
        if len(buf) >= 16:
            length, mtype, seq, ts = HDR.unpack_from(buf)
            if len(buf) >= length:
                f = bytes(buf[:length])
                del buf[:length]
                return mtype, f
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buf.extend(chunk)


def main():
    mode, count = sys.argv[1], int(sys.argv[2])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print("listening", srv.getsockname()[1], flush=True)
    srv.settimeout(20)
    conn, _ = srv.accept()
    conn.settimeout(20)
    buf = bytearray()
    mtype, f = read_frame(conn, buf)
    if mtype != 5 or len(f) != 48:
        print("first frame is not a LOGON:", mtype, len(f), flush=True)
        return 1
    version = struct.unpack_from("<I", f, 16)[0]
    seq = 1
    conn.sendall(HDR.pack(32, 6, seq, 1) + struct.pack("<BBHIQ", 0 if version == 1 else 1, 0, 0,
                                                       1000, 42))
    sent = {}  # timestamp -> symbol
    answered = 0  # frames of symbol 1, which the engine answers by default
    for i in range(count):
        for symbol in (1, 2):
            seq += 1
            ts = 1_700_000_000_000_000_000 + i * 1000 + symbol
            sent[ts] = symbol
            answered += symbol == 1
            conn.sendall(frame_md(seq, ts, symbol, 1_000_000 + i * 100, 1_000_100 + i * 100))
    orders = matched = 0
    ok = True
    while orders < answered:
        mtype, f = read_frame(conn, buf)
        if mtype is None:
            print("the engine closed the connection after", orders, "orders", flush=True)
            ok = False
            break
        if mtype == 7:
            continue
        if mtype != 3 or len(f) != 56:
            print("not a NEW_ORDER:", mtype, len(f), flush=True)
            ok = False
            break
        orders += 1
        cl, sym, side, tif, _, price, qty, _, md_ts = struct.unpack_from("<QIBBHqIIQ", f, 16)
        if sent.get(md_ts) == sym == 1 and qty > 0 and price > 0 and cl == orders:
            matched += 1
        else:
            print("order", cl, "md_timestamp", md_ts, "symbol", sym, "matches no frame sent",
                  flush=True)
    print("orders", orders, "matched", matched, flush=True)
    if mode == "logout":
        while True:
            mtype, f = read_frame(conn, buf)
            if mtype in (None, 8):
                break
        if mtype == 8:
            seq += 1
            conn.sendall(HDR.pack(24, 8, seq, 1) + bytes(8))
        else:
            print("no LOGOUT from the engine", flush=True)
            ok = False
    elif mode == "malformed":
        seq += 1
        conn.sendall(HDR.pack(15, 1, seq, 1)[:15])
        conn.recv(1)  # the engine closes
    elif mode == "badtype":
        seq += 1
        conn.sendall(HDR.pack(56, 3, seq, 1) + bytes(40))
        conn.recv(1)
    conn.close()
    return 0 if ok and matched == orders == answered else 1


if __name__ == "__main__":
    sys.exit(main())

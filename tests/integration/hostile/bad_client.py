#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One misbehaving exchange client, in its own process so that its CPU and its GIL stay away
from the well-behaved client the test measures. Usage: bad_client.py MODE HOST PORT

Prints "port N" (its local port, to find it in the exchange's log) once connected, then:
  garbage    sends 512 random bytes
  truncated  logs on, sends the first 20 bytes of a NEW_ORDER, half-closes
  huge       sends a header with msg_length 65535
  slow       logs on with a 4 KiB receive buffer and never reads
  silent     sends nothing at all, not even a LOGON
  flood      logs on and sends NEW_ORDERs as fast as it can, draining the reports unread
and then waits until its stdin closes (the test is done with it) before it exits."""

import random
import socket
import struct
import sys
import threading

import hftproto as hp


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sock = socket.socket()
    if mode == "slow":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print("port %d" % sock.getsockname()[1], flush=True)
    stop = threading.Event()

    if mode == "garbage":
        sock.sendall(random.Random(8).randbytes(512))
    elif mode == "huge":
        sock.sendall(struct.pack(hp.HEADER_FMT, 65535, hp.MsgType.NEW_ORDER, 1, hp.realtime_ns())
                     + b"\x00" * 100)
    elif mode == "truncated":
        sock.sendall(hp.encode(hp.Logon(1, 60000, "torn"), 1))
        sock.sendall(hp.encode(hp.NewOrder(1, 1, hp.Side.BUY, hp.Tif.IOC, 500_000, 1), 2)[:20])
        sock.shutdown(socket.SHUT_WR)
    elif mode == "slow":
        sock.sendall(hp.encode(hp.Logon(1, 60000, "slow"), 1))
    elif mode == "flood":
        sock.sendall(hp.encode(hp.Logon(1, 60000, "flood"), 1))

        def drain():
            try:
                while sock.recv(1 << 20):
                    pass
            except OSError:
                pass
            stop.set()

        threading.Thread(target=drain, daemon=True).start()

        def flood():
            seq = 2
            template = hp.encode(hp.NewOrder(0, 1, hp.Side.BUY, hp.Tif.IOC, 500_000, 1), 0)
            block = bytearray(template * 100)
            try:
                while not stop.is_set():
                    for i in range(100):
                        struct.pack_into("<I", block, i * len(template) + 4, seq + i)
                        struct.pack_into("<Q", block, i * len(template) + 16, seq + i)
                    seq += 100
                    sock.sendall(block)
            except OSError:
                pass

        threading.Thread(target=flood, daemon=True).start()
    elif mode != "silent":
        sys.exit("unknown mode " + mode)

    sys.stdin.read()  # until the test closes our stdin
    stop.set()
    sock.close()


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""What the hostile-peer and fault tests share: a configuration writer, a base test case that
starts hftd and ends every process it started, and a hand-played exchange (FakeExchange) built
on hftproto. The process helpers come from tests/integration/hftproc.py."""

import os
import re
import select
import socket
import struct
import threading
import time

import hftproto as hp
from hftproc import HOST, SOURCE_ROOT, ProcCase, hftctl, stats, wait_for  # noqa: F401 (re-exported)


def write_config(path, changes):
    """Writes conf/hftd.toml to `path` with changes = {section: {key: toml_value_text}}."""
    with open(os.path.join(SOURCE_ROOT, "conf", "hftd.toml")) as f:
        lines = f.read().split("\n")
    pending = {section: dict(keys) for section, keys in changes.items()}
    section = None
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[(\w+)\]", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"\s*(\w+)\s*=", line)
        if m and m.group(1) in pending.get(section, {}):
            lines[i] = "%s = %s" % (m.group(1), pending[section].pop(m.group(1)))
    left = {s: k for s, k in pending.items() if k}
    if left:
        raise ValueError("keys not in conf/hftd.toml: %r" % left)
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def rss_kib(pid):
    """VmRSS of a process in KiB, from /proc/<pid>/status."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def stat_at_least(sock, key, value):
    """A predicate for wait_for: the stats once stats[key] >= value."""
    def check():
        s = stats(sock)
        return s if s[key] >= value else None
    return check


class HftdCase(ProcCase):
    """Starts hftd (and whatever else a test adds to self.procs) and ends them all."""

    tmp_prefix = "hft-hostile-"

    def config(self, changes):
        return write_config(os.path.join(self.tmp, "hftd-%d.toml" % len(os.listdir(self.tmp))),
                            changes)

    def assert_up(self, proc):
        """The process lives and its control socket answers `hftctl status` with exit 0."""
        self.assertIsNone(proc.p.poll(), "hftd exited:\n" + proc.text()[-3000:])
        self.assertEqual(hftctl(self.sock, "status", check=False).returncode, 0)

    def session_dir(self, session_id, sessions=None):
        return os.path.join(sessions or self.sessions, session_id)


class FakeSession:
    """One accepted connection from hftd. A thread reads and decodes whatever hftd sends (so
    hftd never blocks on us) and records each message with its arrival time; sends are
    numbered under a lock so that heartbeats and test traffic never interleave."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.received = []  # (monotonic s, message)
        self.closed_at = None
        self.error = None
        self.next_seq = 1
        self.stop = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.heartbeater = None

    def _read(self):
        frames = hp.FrameReader()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                frames.feed(data)
                while True:
                    frame = frames.next_frame()
                    if frame is None:
                        break
                    with self.cond:
                        self.received.append((time.monotonic(), hp.decode(frame)))
                        self.cond.notify_all()
        except (OSError, hp.MalformedFrame) as e:
            self.error = e
        with self.cond:
            self.closed_at = time.monotonic()
            self.cond.notify_all()

    def wait_msg(self, predicate, timeout=20, start=0):
        """(index, arrival time, message) of the first received message from index `start`
        that satisfies predicate."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.received)):
                    t, msg = self.received[i]
                    if predicate(msg):
                        return i, t, msg
                left = deadline - time.monotonic()
                if left <= 0 or self.closed_at is not None:
                    raise AssertionError("no such message from hftd (%s); got %s" % (
                        "connection closed" if self.closed_at else "timed out",
                        [type(m).__name__ for _, m in self.received[-10:]]))
                self.cond.wait(min(left, 0.2))

    def wait_closed(self, timeout=20):
        """The monotonic time at which hftd closed the connection."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.closed_at is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("hftd did not close the connection")
                self.cond.wait(min(left, 0.2))
            return self.closed_at

    def messages(self, kind):
        with self.cond:
            return [(t, m) for t, m in self.received if isinstance(m, kind)]

    def send(self, msg):
        with self.lock:
            frame = hp.encode(msg, self.next_seq)
            self.next_seq += 1
            self.sock.sendall(frame)
            return time.monotonic()

    def send_raw(self, data):
        with self.lock:
            self.sock.sendall(data)

    def logon(self, heartbeat_ms=1000, session_id=77, timeout=20):
        """Waits for hftd's LOGON and accepts it; returns the monotonic time of the answer."""
        _, _, logon = self.wait_msg(lambda m: isinstance(m, hp.Logon), timeout)
        assert logon.protocol_version == hp.PROTOCOL_VERSION, logon
        return self.send(hp.LogonResponse(hp.LogonStatus.ACCEPTED, hp.LogonReason.NONE,
                                          heartbeat_ms, session_id))

    def start_heartbeats(self, interval_s):
        def beat():
            while not self.stop.wait(interval_s):
                try:
                    self.send(hp.Heartbeat())
                except OSError:
                    return
        self.heartbeater = threading.Thread(target=beat, daemon=True)
        self.heartbeater.start()

    def stop_heartbeats(self):
        self.stop.set()
        if self.heartbeater:
            self.heartbeater.join(5)

    def close(self):
        self.stop_heartbeats()
        try:
            self.sock.close()
        except OSError:
            pass
        self.reader.join(5)


class FakeExchange:
    """A loopback listener that plays the exchange by hand, one accepted connection at a time."""

    def __init__(self):
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.sessions = []

    def accept(self, timeout=20):
        r, _, _ = select.select([self.listener], [], [], timeout)
        if not r:
            raise AssertionError("hftd did not connect within %ss" % timeout)
        sock, _ = self.listener.accept()
        session = FakeSession(sock)
        self.sessions.append(session)
        return session

    def close(self):
        for s in self.sessions:
            s.close()
        self.listener.close()


# A MARKET_DATA snapshot that satisfies every ladder rule: `levels` bids below `levels` asks.
def valid_market_data(symbol_id=1, levels=10, mid=1_000_000, tick=100):
    entries = []
    for i in range(levels):
        entries.append(hp.MdEntry(mid - tick * (i + 1), 10 + i, hp.MdSide.BID, i))
        entries.append(hp.MdEntry(mid + tick * (i + 1), 10 + i, hp.MdSide.ASK, i))
    return hp.MarketData(symbol_id, entries)


def numbered_block(session, template, count):
    """`count` copies of the frame `template`, numbered from the session's next seq (the
    caller holds session.lock and sends the block before releasing it)."""
    block = bytearray(template * count)
    length = len(template)
    seq = session.next_seq
    for i in range(count):
        struct.pack_into("<I", block, i * length + 4, seq + i)
    session.next_seq += count
    return block

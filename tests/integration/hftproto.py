# SPDX-License-Identifier: MIT
"""HFT wire protocol v1 client for tests: encode and decode every frame type, and read frames
from a TCP socket with deadlines. Python 3 standard library only; written from the protocol
page (docs/protocol.md) alone, so that it checks the C++ side rather than mirrors it."""

import dataclasses
import enum
import socket
import struct
import time

PROTOCOL_VERSION = 1
HEADER_SIZE = 16
MAX_FRAME_SIZE = 4096
MAX_MD_ENTRIES = 64
DEFAULT_HEARTBEAT_MS = 1000
PRICE_SCALE = 10000  # prices are i64 in units of 1e-4


class MsgType(enum.IntEnum):
    MARKET_DATA = 1
    EXECUTION_REPORT = 2
    NEW_ORDER = 3
    CANCEL_ORDER = 4
    LOGON = 5
    LOGON_RESPONSE = 6
    HEARTBEAT = 7
    LOGOUT = 8


class Side(enum.IntEnum):
    BUY = 0
    SELL = 1


class MdSide(enum.IntEnum):
    BID = 0
    ASK = 1


class Tif(enum.IntEnum):
    DAY = 0
    IOC = 1


class ExecType(enum.IntEnum):
    NEW = 0
    PARTIAL_FILL = 1
    FILL = 2
    CANCELED = 3
    REJECTED = 4
    CANCEL_REJECTED = 5
    EXPIRED = 6


class RejectReason(enum.IntEnum):
    NONE = 0
    UNKNOWN_SYMBOL = 1
    INVALID_PRICE = 2
    INVALID_QUANTITY = 3
    DUPLICATE_CL_ORD_ID = 4
    UNKNOWN_ORDER = 5
    NOT_LOGGED_ON = 6
    INVALID_SIDE_OR_TIF = 7
    THROTTLED = 8
    OTHER = 99


class LogonStatus(enum.IntEnum):
    ACCEPTED = 0
    REJECTED = 1


class LogonReason(enum.IntEnum):
    NONE = 0
    UNSUPPORTED_VERSION = 1
    ALREADY_LOGGED_ON = 2
    NOT_AUTHORISED = 3


class LogoutReason(enum.IntEnum):
    NORMAL = 0
    PROTOCOL_ERROR = 1
    HEARTBEAT_TIMEOUT = 2
    EXCHANGE_CLOSING = 3


MD_FLAG_SNAPSHOT = 1

# struct formats: little-endian, packed (no padding), offsets as in the spec.
HEADER_FMT = "<HHIQ"            # msg_length, msg_type, seq, timestamp
MD_HEAD_FMT = "<IHH"            # symbol_id, num_entries, flags
MD_ENTRY_FMT = "<qIBBH"         # price, qty, side, level, reserved
EXEC_REPORT_FMT = "<QQQIBBBBqqIIII"  # ... reserved0 at 47, reserved1 at 76
NEW_ORDER_FMT = "<QIBBHqIIQ"    # cl_ord_id, symbol, side, tif, rsv, price, qty, rsv, md_timestamp
CANCEL_ORDER_FMT = "<QII"       # cl_ord_id, symbol_id, reserved
LOGON_FMT = "<II16s8x"          # version, heartbeat_interval_ms, account, reserved
LOGON_RESPONSE_FMT = "<BBHIQ"   # status, reason, reserved, heartbeat_interval_ms, session_id
LOGOUT_FMT = "<B7x"             # reason, reserved

FIXED_SIZES = {
    MsgType.EXECUTION_REPORT: 80,
    MsgType.NEW_ORDER: 56,
    MsgType.CANCEL_ORDER: 32,
    MsgType.LOGON: 48,
    MsgType.LOGON_RESPONSE: 32,
    MsgType.HEARTBEAT: 16,
    MsgType.LOGOUT: 24,
}

assert struct.calcsize(HEADER_FMT) == 16
assert struct.calcsize(MD_ENTRY_FMT) == 16
assert HEADER_SIZE + struct.calcsize(MD_HEAD_FMT) == 24
assert HEADER_SIZE + struct.calcsize(EXEC_REPORT_FMT) == 80
assert HEADER_SIZE + struct.calcsize(NEW_ORDER_FMT) == 56
assert HEADER_SIZE + struct.calcsize(CANCEL_ORDER_FMT) == 32
assert HEADER_SIZE + struct.calcsize(LOGON_FMT) == 48
assert HEADER_SIZE + struct.calcsize(LOGON_RESPONSE_FMT) == 32
assert HEADER_SIZE + struct.calcsize(LOGOUT_FMT) == 24


def market_data_size(num_entries):
    return 24 + 16 * num_entries


def realtime_ns():
    return time.clock_gettime_ns(time.CLOCK_REALTIME)


class MalformedFrame(Exception):
    """The stream broke the framing rules; a receiver closes the connection."""


class ConnectionClosed(Exception):
    """The peer closed the connection (EOF or reset)."""


@dataclasses.dataclass
class Header:
    msg_length: int = 0
    msg_type: int = 0
    seq: int = 0
    timestamp: int = 0


@dataclasses.dataclass
class MdEntry:
    price: int
    qty: int
    side: int
    level: int


@dataclasses.dataclass
class MarketData:
    symbol_id: int = 0
    entries: list = dataclasses.field(default_factory=list)
    flags: int = MD_FLAG_SNAPSHOT
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.MARKET_DATA

    def side(self, side):
        """Entries of one side, best first."""
        return sorted((e for e in self.entries if e.side == side), key=lambda e: e.level)

    def best_bid(self):
        bids = self.side(MdSide.BID)
        return bids[0].price if bids else None

    def best_ask(self):
        asks = self.side(MdSide.ASK)
        return asks[0].price if asks else None


@dataclasses.dataclass
class ExecutionReport:
    cl_ord_id: int = 0
    order_id: int = 0
    exec_id: int = 0
    symbol_id: int = 0
    exec_type: int = 0
    side: int = 0
    reject_reason: int = 0
    price: int = 0
    last_px: int = 0
    last_qty: int = 0
    cum_qty: int = 0
    leaves_qty: int = 0
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.EXECUTION_REPORT


@dataclasses.dataclass
class NewOrder:
    cl_ord_id: int = 0
    symbol_id: int = 0
    side: int = Side.BUY
    tif: int = Tif.DAY
    price: int = 0
    qty: int = 0
    md_timestamp: int = 0
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.NEW_ORDER


@dataclasses.dataclass
class CancelOrder:
    cl_ord_id: int = 0
    symbol_id: int = 0
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.CANCEL_ORDER


@dataclasses.dataclass
class Logon:
    protocol_version: int = PROTOCOL_VERSION
    heartbeat_interval_ms: int = 0
    account: str = ""
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.LOGON


@dataclasses.dataclass
class LogonResponse:
    status: int = LogonStatus.ACCEPTED
    reason: int = LogonReason.NONE
    heartbeat_interval_ms: int = 0
    session_id: int = 0
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.LOGON_RESPONSE


@dataclasses.dataclass
class Heartbeat:
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.HEARTBEAT


@dataclasses.dataclass
class Logout:
    reason: int = LogoutReason.NORMAL
    header: Header = dataclasses.field(default_factory=Header)
    TYPE = MsgType.LOGOUT


@dataclasses.dataclass
class UnknownFrame:
    """A frame of a type this version does not define: counted and skipped."""
    body: bytes = b""
    header: Header = dataclasses.field(default_factory=Header)


def _body(msg):
    t = type(msg)
    if t is MarketData:
        out = struct.pack(MD_HEAD_FMT, msg.symbol_id, len(msg.entries), msg.flags)
        for e in msg.entries:
            out += struct.pack(MD_ENTRY_FMT, e.price, e.qty, e.side, e.level, 0)
        return out
    if t is ExecutionReport:
        return struct.pack(EXEC_REPORT_FMT, msg.cl_ord_id, msg.order_id, msg.exec_id,
                           msg.symbol_id, msg.exec_type, msg.side, msg.reject_reason, 0,
                           msg.price, msg.last_px, msg.last_qty, msg.cum_qty, msg.leaves_qty, 0)
    if t is NewOrder:
        return struct.pack(NEW_ORDER_FMT, msg.cl_ord_id, msg.symbol_id, msg.side, msg.tif, 0,
                           msg.price, msg.qty, 0, msg.md_timestamp)
    if t is CancelOrder:
        return struct.pack(CANCEL_ORDER_FMT, msg.cl_ord_id, msg.symbol_id, 0)
    if t is Logon:
        account = msg.account.encode("ascii") if isinstance(msg.account, str) else msg.account
        if len(account) > 16:
            raise ValueError("account is at most 16 ASCII characters")
        return struct.pack(LOGON_FMT, msg.protocol_version, msg.heartbeat_interval_ms, account)
    if t is LogonResponse:
        return struct.pack(LOGON_RESPONSE_FMT, msg.status, msg.reason, 0,
                           msg.heartbeat_interval_ms, msg.session_id)
    if t is Heartbeat:
        return b""
    if t is Logout:
        return struct.pack(LOGOUT_FMT, msg.reason)
    if t is UnknownFrame:
        return msg.body
    raise TypeError(f"cannot encode {t.__name__}")


def encode(msg, seq, timestamp=None):
    """The frame's bytes, header included; `timestamp` defaults to CLOCK_REALTIME now."""
    body = _body(msg)
    msg_type = msg.header.msg_type if isinstance(msg, UnknownFrame) else int(msg.TYPE)
    ts = realtime_ns() if timestamp is None else timestamp
    return struct.pack(HEADER_FMT, HEADER_SIZE + len(body), msg_type, seq, ts) + body


def check_length(msg_length):
    """The framing error of a msg_length alone, or None."""
    if msg_length < HEADER_SIZE:
        return "msg_length below the 16-byte header"
    if msg_length > MAX_FRAME_SIZE:
        return "msg_length above 4096"
    return None


def check_frame(frame):
    """The framing error of one whole frame (msg_length bytes), or None."""
    if len(frame) < HEADER_SIZE:
        return "shorter than a header"
    msg_length, msg_type, _, _ = struct.unpack_from(HEADER_FMT, frame)
    error = check_length(msg_length)
    if error:
        return error
    if msg_length != len(frame):
        return "msg_length differs from the bytes given"
    if msg_type == MsgType.MARKET_DATA:
        if msg_length < 24:
            return "MARKET_DATA shorter than its fixed part"
        (num_entries,) = struct.unpack_from("<H", frame, 20)
        if num_entries > MAX_MD_ENTRIES:
            return "num_entries above 64"
        if msg_length != market_data_size(num_entries):
            return "msg_length differs from 24 + 16 * num_entries"
        return None
    size = FIXED_SIZES.get(msg_type)
    if size is not None and msg_length != size:
        return f"msg_length {msg_length} differs from {size} for type {msg_type}"
    return None


def decode(frame):
    """Decodes one whole frame; raises MalformedFrame."""
    error = check_frame(frame)
    if error:
        raise MalformedFrame(error)
    header = Header(*struct.unpack_from(HEADER_FMT, frame))
    t = header.msg_type
    if t == MsgType.MARKET_DATA:
        symbol_id, num_entries, flags = struct.unpack_from(MD_HEAD_FMT, frame, 16)
        entries = [MdEntry(*struct.unpack_from(MD_ENTRY_FMT, frame, 24 + 16 * i)[:4])
                   for i in range(num_entries)]
        return MarketData(symbol_id, entries, flags, header)
    if t == MsgType.EXECUTION_REPORT:
        f = struct.unpack_from(EXEC_REPORT_FMT, frame, 16)
        return ExecutionReport(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[8], f[9], f[10],
                               f[11], f[12], header)
    if t == MsgType.NEW_ORDER:
        f = struct.unpack_from(NEW_ORDER_FMT, frame, 16)
        return NewOrder(f[0], f[1], f[2], f[3], f[5], f[6], f[8], header)
    if t == MsgType.CANCEL_ORDER:
        f = struct.unpack_from(CANCEL_ORDER_FMT, frame, 16)
        return CancelOrder(f[0], f[1], header)
    if t == MsgType.LOGON:
        version, hb, account = struct.unpack_from(LOGON_FMT, frame, 16)
        return Logon(version, hb, account.rstrip(b"\0").decode("ascii", "replace"), header)
    if t == MsgType.LOGON_RESPONSE:
        status, reason, _, hb, session_id = struct.unpack_from(LOGON_RESPONSE_FMT, frame, 16)
        return LogonResponse(status, reason, hb, session_id, header)
    if t == MsgType.HEARTBEAT:
        return Heartbeat(header)
    if t == MsgType.LOGOUT:
        (reason,) = struct.unpack_from(LOGOUT_FMT, frame, 16)
        return Logout(reason, header)
    return UnknownFrame(bytes(frame[HEADER_SIZE:]), header)


def check_ladder(md):
    """What breaks the spec's ladder rules in a MARKET_DATA, or None."""
    if md.flags != MD_FLAG_SNAPSHOT:
        return f"flags {md.flags:#x}: version 1 sets only the snapshot bit"
    for side in (MdSide.BID, MdSide.ASK):
        entries = [e for e in md.entries if e.side == side]
        for i, e in enumerate(entries):
            if e.level != i:
                return f"side {side} levels are not 0,1,2... in order"
            if e.qty <= 0:
                return f"side {side} level {i} has quantity 0"
            if e.price <= 0:
                return f"side {side} level {i} has price {e.price}"
            if i > 0:
                prev = entries[i - 1].price
                if side == MdSide.BID and not e.price < prev:
                    return f"bids not strictly falling at level {i}"
                if side == MdSide.ASK and not e.price > prev:
                    return f"asks not strictly rising at level {i}"
    if any(e.side not in (0, 1) for e in md.entries):
        return "entry side neither 0 nor 1"
    bid, ask = md.best_bid(), md.best_ask()
    if bid is not None and ask is not None and not bid < ask:
        return f"crossed or locked book: best bid {bid} >= best ask {ask}"
    return None


class FrameReader:
    """Cuts whole frames out of a byte stream; never reads past the bytes it has."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data):
        self.buffer += data

    def next_frame(self):
        """The next whole frame's bytes, None if more bytes are needed; raises MalformedFrame."""
        if len(self.buffer) < 2:
            return None
        (msg_length,) = struct.unpack_from("<H", self.buffer, 0)
        error = check_length(msg_length)
        if error:
            raise MalformedFrame(error)
        if len(self.buffer) < msg_length:
            return None
        frame = bytes(self.buffer[:msg_length])
        del self.buffer[:msg_length]
        error = check_frame(frame)
        if error:
            raise MalformedFrame(error)
        return frame


class Client:
    """One TCP session to the exchange: numbers what it sends, decodes what it receives."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = FrameReader()
        self.next_seq = 1
        self.expected_seq = 1
        self.gaps = 0
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, msg, timestamp=None):
        """Encodes, numbers and sends a message; returns the bytes sent."""
        frame = encode(msg, self.next_seq, timestamp)
        self.next_seq += 1
        self.sock.sendall(frame)
        return frame

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self, timeout=5.0):
        """The next decoded message; raises TimeoutError, ConnectionClosed or MalformedFrame."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.reader.next_frame()
            if frame is not None:
                msg = decode(frame)
                if msg.header.seq > self.expected_seq:
                    self.gaps += msg.header.seq - self.expected_seq
                self.expected_seq = msg.header.seq + 1
                return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no whole frame before the deadline")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout as e:
                raise TimeoutError("no whole frame before the deadline") from e
            except (ConnectionResetError, BrokenPipeError) as e:
                raise ConnectionClosed(str(e)) from e
            if not data:
                raise ConnectionClosed("EOF")
            self.reader.feed(data)

    def wait_for(self, predicate, timeout=5.0, keep=None):
        """Reads until predicate(msg) holds and returns that message; other messages go to
        keep (a list) when given. Raises TimeoutError or ConnectionClosed."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met before the deadline")
            msg = self.recv(remaining)
            if predicate(msg):
                return msg
            if keep is not None:
                keep.append(msg)

    def logon(self, account="test", heartbeat_ms=0, version=PROTOCOL_VERSION, timeout=5.0):
        """Sends LOGON and returns the LOGON_RESPONSE."""
        self.send(Logon(version, heartbeat_ms, account))
        return self.wait_for(lambda m: isinstance(m, LogonResponse), timeout)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Reads a session journal (journal.bin, format in daemon/engine/journal.h) back and says
# whether it is intact: the HFTJRNL1 header, then records whose lengths and CRC-32s check.
#
#   check_session_journal.py FILE [--clean] [--min-records N]
#
# --clean: the session was stopped cleanly, so no torn tail is allowed (after a SIGKILL the
# last record may be cut short: the records before it must still read back).
# Prints "records=N valid_bytes=N trailing_bytes=N"; exit 0 when intact, 1 otherwise.
import argparse
import struct
import sys
import zlib

MAGIC = b"HFTJRNL1"
RECORD_HEAD = 8    # u32 payload length, u32 CRC-32 of the payload
PAYLOAD_HEAD = 12  # u64 local ns, u8 direction, u8 reserved, u16 frame length


def read_journal(data):
    """Returns (records, valid_bytes, error) for the bytes of a journal file."""
    if data[:len(MAGIC)] != MAGIC:
        return 0, 0, "header is %r, not %r" % (data[:len(MAGIC)], MAGIC)
    offset = len(MAGIC)
    records = 0
    while offset + RECORD_HEAD <= len(data):
        length, crc = struct.unpack_from("<II", data, offset)
        payload = data[offset + RECORD_HEAD:offset + RECORD_HEAD + length]
        if length < PAYLOAD_HEAD or len(payload) < length:
            break
        if zlib.crc32(payload) != crc:
            break
        direction = payload[8]
        frame_length = struct.unpack_from("<H", payload, 10)[0]
        if direction > 1 or PAYLOAD_HEAD + frame_length != length:
            break
        records += 1
        offset += RECORD_HEAD + length
    return records, offset, ""


def main():
    parser = argparse.ArgumentParser(description="Check that a session journal reads back.")
    parser.add_argument("file")
    parser.add_argument("--clean", action="store_true")
    parser.add_argument("--min-records", type=int, default=1)
    args = parser.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()
    records, valid, error = read_journal(data)
    trailing = len(data) - valid if not error else len(data)
    print("records=%d valid_bytes=%d trailing_bytes=%d" % (records, valid, trailing))
    if error:
        print("%s: %s" % (args.file, error), file=sys.stderr)
        return 1
    if records < args.min_records:
        print("%s: %d records, expected at least %d" % (args.file, records, args.min_records),
              file=sys.stderr)
        return 1
    if args.clean and trailing:
        print("%s: %d bytes after the last good record of a cleanly stopped session"
              % (args.file, trailing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

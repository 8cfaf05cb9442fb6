#!/usr/bin/python3
"""Abusive HTTP/2 clients for the native transport's abuse tests.

  h2_abuse.py CASE PORT [ARGS...]

Uses h2_probe.py's raw connection (beside this file): each case attacks one
connection (rapid reset, CONTINUATION and control-frame floods, an HPACK
header bomb, a stalled preface, a client that never reads, many idle
connections) and prints ONE JSON line with what the server did: its GOAWAY,
resets, whether and when it closed the connection, and how far the attack
got (frames or bytes sent before the server stopped it). Cases the test
must act during print {"ready": true} first. Sends that the server stops
reading give up after a few seconds; every read has a timeout.
"""

import struct
import sys
import time

sys.dont_write_bytecode = True  # importing h2_probe must not leave __pycache__ in the tree

from h2_probe import (  # noqa: E402
    CANCEL, CONTINUATION, ECHO, PREFACE, Conn, block, data, emit, frame, grpc_message, headers,
    literal, pb_bytes, pb_int, ping, request_fields, rst_stream, settings,
)


def stopped(conn):
    """True once the server sent GOAWAY, closed, or stopped reading."""
    out = conn.out
    return out["goaway"] is not None or out["closed"] or out.get("send_blocked") or bool(
        out["errors"])


def flood(conn, chunk, count, per_send, read_between=True):
    """Sends `chunk` `count` times, `per_send` at a time; returns how many went out."""
    sent = 0
    batch = chunk * per_send
    while sent < count and not stopped(conn):
        n = min(per_send, count - sent)
        if not conn.send(batch if n == per_send else chunk * n):
            break
        sent += n
        if read_between:
            conn.poll()
    return sent


def finish(conn, **extra):
    """After an attack: wait (bounded) for the GOAWAY and the close, then report."""
    conn.wait_goaway(3)
    conn.wait_closed(2)
    conn.out.pop("streams", None)
    return conn.result(**extra)


def case_rapid_reset(conn, args):
    """HEADERS for an Echo call then RST_STREAM(CANCEL), N times (CVE-2023-44487)."""
    n = int(args[0])
    conn.handshake()
    fields = block(request_fields())
    sent, per_batch = 0, 25
    while sent < n and not stopped(conn):
        batch = b"".join(
            headers(2 * i + 1, fields) + rst_stream(2 * i + 1, CANCEL)
            for i in range(sent, min(sent + per_batch, n))
        )
        if not conn.send(batch):
            break
        sent = min(sent + per_batch, n)
        conn.poll()
    return finish(conn, streams_sent=sent, last_stream_sent=2 * sent - 1)


def case_reset_running(conn, args):
    """N Sleep calls whose handlers ignore cancellation, reset at once; then Echo calls at once
    and again after the handlers returned: what did each get?"""
    n, ms = int(args[0]), int(args[1])
    conn.handshake()
    deaf = pb_int(1, ms) + pb_bytes(2, b"deaf")  # e2e.SleepRequest { ms, tag: "deaf" }
    for i in range(n):
        conn.start_call(2 * i + 1, "Sleep", deaf)
    conn.settle(0.2)
    conn.send(b"".join(rst_stream(2 * i + 1, CANCEL) for i in range(n)))
    conn.settle(0.2)
    during = []
    for i in range(n, n + 3):
        during.append(conn.unary(2 * i + 1, timeout=3))
    conn.settle(ms / 1000 + 0.5)
    after = conn.unary(2 * (n + 3) + 1, timeout=3)
    conn.out.pop("streams", None)
    return conn.result(during=during, after=after)


def case_continuation_flood(conn, args):
    """HEADERS without END_HEADERS, then 16 KB CONTINUATIONs of valid literals, up to N bytes."""
    limit = int(args[0])
    conn.handshake()
    conn.send(headers(1, block(request_fields()), end_headers=False))
    field = literal("x-flood", "f" * 1000)
    payload = field * (16384 // len(field))
    frames = limit // len(payload)
    sent = flood(conn, frame(CONTINUATION, 0, 1, payload), frames, 16)
    return finish(conn, bytes_sent=sent * len(payload))


def case_empty_continuation_flood(conn, args):
    """HEADERS without END_HEADERS, then N zero-length CONTINUATIONs."""
    conn.handshake()
    conn.send(headers(1, block(request_fields()), end_headers=False))
    sent = flood(conn, frame(CONTINUATION, 0, 1), int(args[0]), 1000)
    return finish(conn, frames_sent=sent)


def case_ping_flood(conn, args):
    """N PINGs without reading a byte of the answers."""
    conn.handshake()
    sent = flood(conn, ping(), int(args[0]), 1000, read_between=False)
    return finish(conn, frames_sent=sent)


def case_settings_flood(conn, args):
    """N empty SETTINGS without reading the ACKs."""
    conn.handshake()
    sent = flood(conn, settings(), int(args[0]), 1000, read_between=False)
    return finish(conn, frames_sent=sent)


def case_big_settings(conn, args):
    """N SETTINGS frames of M entries each (HEADER_TABLE_SIZE over and over), unread."""
    n, m = int(args[0]), int(args[1])
    conn.handshake()
    entry = struct.pack(">HI", 0x1, 4096)
    sent = flood(conn, frame(0x4, 0, 0, entry * m), n, 10, read_between=False)
    return finish(conn, frames_sent=sent)


def case_empty_data_flood(conn, args):
    """N zero-length DATA frames on an open Chat stream."""
    conn.handshake()
    conn.start_call(1, "Chat", None, end_stream=False)
    sent = flood(conn, data(1, b""), int(args[0]), 1000)
    return finish(conn, frames_sent=sent)


def case_header_bomb(conn, args):
    """One ~4 KB header into the HPACK table, then STREAMS blocks of REFS references to it."""
    streams, refs = int(args[0]), int(args[1])
    conn.handshake()
    table = min(conn.out["server_settings"].get("HEADER_TABLE_SIZE", 4096), 4096)
    size = table - 32 - len("x-bomb")
    if size < 100:
        return conn.result(skipped=f"server HEADER_TABLE_SIZE is {table}")
    base = block(request_fields())
    first = base + literal("x-bomb", "b" * size, indexing=True)
    conn.send(headers(1, first) + data(1, grpc_message(ECHO), end_stream=True))
    # Indexed field 62 is the newest dynamic entry: x-bomb. One frame per block.
    bomb = base + b"\xbe" * min(refs, 16000 - len(base))
    for i in range(streams):
        sid = 2 * i + 3
        if not conn.send(headers(sid, bomb) + data(sid, grpc_message(ECHO), end_stream=True)):
            break
        conn.poll()
    last = 2 * streams + 1
    conn.wait(lambda: conn.ended(last), 5)
    outcomes = {str(2 * i + 3): conn.summary(2 * i + 3) for i in range(streams)}
    conn.out.pop("streams", None)
    refs = len(bomb) - len(base)
    return conn.result(decoded_bytes_per_block=refs * (size + 6), bomb_calls=outcomes)


def case_slow_preface(conn, args):
    """Connect and send nothing ("none") or half the preface ("half"), then wait."""
    conn.auto_ack = False  # a SETTINGS ACK would be bytes of a (bad) preface
    if args[0] == "half":
        conn.send(PREFACE[:12])
    conn.wait_closed(6)
    return conn.result()


def case_unary_flood(conn, args):
    """N Echo calls on one connection whose responses are never read; hold SECONDS."""
    n, hold = int(args[0]), float(args[1])
    conn.send_timeout = 2.0
    conn.handshake()
    message = grpc_message(b"\x0a\x82\x08" + b"u" * 1026)  # EchoRequest, a 1 KiB message
    fields = block(request_fields())
    sent, per_batch = 0, 100
    while sent < n and not stopped(conn):
        batch = b"".join(
            headers(2 * i + 1, fields) + data(2 * i + 1, message, end_stream=True)
            for i in range(sent, min(sent + per_batch, n))
        )
        if not conn.send(batch):
            break
        sent = min(sent + per_batch, n)
    emit({"ready": True, "calls_sent": sent})
    time.sleep(hold)
    conn.settle(0.3)  # now read: did the server end the connection meanwhile?
    return conn.result(calls_sent=sent, streams=None)


def case_many_connections(conn, args):
    """N more connections that finish the handshake and then idle for SECONDS."""
    n, hold = int(args[0]), float(args[1])
    conns = [conn] + [Conn(conn.port) for _ in range(n - 1)]
    for c in conns:
        c.send(PREFACE + settings())
    handshaken = sum(
        1 for c in conns
        if c.wait(lambda c=c: c.out["server_settings"] is not None, 3)
    )
    emit({"ready": True, "handshaken": handshaken})
    time.sleep(hold)
    for c in conns:
        c.poll()
    closed = sum(1 for c in conns if c.out["closed"])
    for c in conns:
        c.sock.close()
    return {"connections": n, "handshaken": handshaken, "closed_by_server": closed}


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
SMALL_RCVBUF = {"ping_flood", "settings_flood", "unary_flood"}


def main():
    """h2_abuse.py CASE PORT [ARGS...]."""
    name, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    conn = Conn(port, rcvbuf=4096 if name in SMALL_RCVBUF else None, send_timeout=3.0)
    emit(CASES[name](conn, args))


if __name__ == "__main__":
    main()

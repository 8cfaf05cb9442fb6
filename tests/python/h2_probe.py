#!/usr/bin/python3
"""Raw HTTP/2 frame probe for the native transport's conformance and abuse tests.

  h2_probe.py CASE PORT [ARGS...]

Connects to 127.0.0.1:PORT over plain TCP (h2c with prior knowledge), sends
the frames that CASE describes, well-formed ones built with hyperframe and
broken ones byte by byte, and reads what the server answers with a bounded
socket timeout. Frames are parsed with hyperframe, header blocks decoded
with hpack. It prints ONE JSON line with what it saw, for example

  {"goaway": {"code": 1, "last_stream_id": 1, "debug": ""}, "rst": {"3": 7},
   "closed": true, "streams": {"1": {"headers": [[":status", "200"], ...],
   "trailers": [...], "messages": 1, "end_stream": true, ...}},
   "pings_acked": 5, "settings_acked": 1, ...}

Cases that need the test to act mid-way (graceful shutdown, holding many
connections, a stalled client) also print {"ready": true} first, then the
final line. Request header blocks use only literal fields without indexing
(except the header bomb), so no case depends on the HPACK dynamic table.
Every wait is bounded: the whole probe gives up within about 20 seconds.
"""

import json
import select
import socket
import struct
import sys
import time

import hpack
from hpack.hpack import encode_integer
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 §6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS = 0x0, 0x1, 0x2, 0x3, 0x4
PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0x5, 0x6, 0x7, 0x8, 0x9
# Flags.
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
# Error codes.
NO_ERROR, PROTOCOL_ERROR, CANCEL = 0x0, 0x1, 0x8
# Settings ids.
ENABLE_PUSH, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE = 0x2, 0x4, 0x5
SETTING_NAMES = {
    1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
    4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE",
}
TYPE_NAMES = {
    0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS",
    5: "PUSH_PROMISE", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION",
}
MAX_WINDOW = 2**31 - 1

# --- frame and message building ----------------------------------------------


def frame(ftype, flags, stream_id, payload=b""):
    """Any frame, byte by byte: for the malformed ones hyperframe refuses to build."""
    header = struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, stream_id)
    return header + payload


def settings(values=None, ack=False):
    """A SETTINGS frame with {id: value}."""
    f = SettingsFrame(0, settings=values or {})
    if ack:
        f.flags.add("ACK")
    return f.serialize()


def ping(payload=b"probe!!!", ack=False):
    """A PING frame with 8 bytes of opaque data."""
    return PingFrame(0, opaque_data=payload, flags=["ACK"] if ack else []).serialize()


def window_update(stream_id, increment):
    """A WINDOW_UPDATE frame (hyperframe masks the increment to 31 bits)."""
    return WindowUpdateFrame(stream_id, window_increment=increment).serialize()


def rst_stream(stream_id, code):
    """A RST_STREAM frame."""
    return RstStreamFrame(stream_id, error_code=code).serialize()


def data(stream_id, payload, end_stream=False):
    """A DATA frame."""
    return DataFrame(stream_id, data=payload, flags=["END_STREAM"] if end_stream else []).serialize()


def headers(stream_id, block, end_stream=False, end_headers=True):
    """A HEADERS frame carrying a header block fragment."""
    flags = (["END_STREAM"] if end_stream else []) + (["END_HEADERS"] if end_headers else [])
    return HeadersFrame(stream_id, data=block, flags=flags).serialize()


def continuation(stream_id, block, end_headers=False):
    """A CONTINUATION frame."""
    return ContinuationFrame(stream_id, data=block, flags=["END_HEADERS"] if end_headers else []).serialize()


def literal(name, value, indexing=False):
    """One HPACK literal field with a literal name (RFC 7541 §6.2.1, §6.2.2)."""
    n, v = name.encode(), value.encode()
    prefix = b"\x40" if indexing else b"\x00"
    return prefix + bytes(encode_integer(len(n), 7)) + n + bytes(encode_integer(len(v), 7)) + v


def block(fields):
    """A header block of literal fields without indexing: no dynamic-table state."""
    return b"".join(literal(n, v) for n, v in fields)


def request_fields(method="Echo", extra=(), path=None, content_type="application/grpc"):
    """The header list of a gRPC call to /e2e.Test/METHOD."""
    return [
        (":method", "POST"), (":scheme", "http"), (":path", path or f"/e2e.Test/{method}"),
        (":authority", "localhost"), ("content-type", content_type), ("te", "trailers"),
        *extra,
    ]


def varint(n):
    """A protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_int(field, n):
    """A protobuf varint field."""
    return varint(field << 3) + varint(n)


def pb_bytes(field, b):
    """A protobuf length-delimited field."""
    return varint(field << 3 | 2) + varint(len(b)) + b


def grpc_message(pb):
    """A gRPC length-prefixed message (uncompressed)."""
    return b"\x00" + struct.pack(">I", len(pb)) + pb


ECHO = pb_bytes(1, b"probe")  # e2e.EchoRequest { message: "probe" }
CHAT = pb_bytes(1, b"hello")  # e2e.EchoRequest { message: "hello" }


def sleep_request(ms):
    """e2e.SleepRequest { ms }."""
    return pb_int(1, ms)


# --- the connection ----------------------------------------------------------


class Conn:
    """A socket speaking raw HTTP/2 that records everything the server sends."""

    def __init__(self, port, rcvbuf=None, send_timeout=5.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5.0)
        self.sock.connect(("127.0.0.1", port))
        self.port = port
        self.send_timeout = send_timeout
        self.t0 = time.monotonic()
        self.buf = bytearray()
        self.decoder = hpack.Decoder(max_header_list_size=2**31)
        self.pending = None  # (stream_id, end_stream, fragments) of an unfinished header block
        self.auto_ack = True
        self.out = {
            "first_frame": None, "server_settings": None, "settings_acked": 0,
            "goaway": None, "goaways": [], "rst": {}, "streams": {}, "pings_acked": 0,
            "ping_payloads": [], "window_updates": {}, "frames": 0, "closed": False,
            "closed_ms": None, "errors": [],
        }

    # Sending.

    def send(self, payload):
        """Sends everything; False (and noted) if the server closed or stopped reading."""
        if self.out["closed"]:
            return False
        try:
            self.sock.settimeout(self.send_timeout)
            self.sock.sendall(payload)
            return True
        except socket.timeout:
            self.note("send blocked: the server stopped reading")
            self.out["send_blocked"] = True
        except OSError as error:
            self.note(f"send failed: {error.__class__.__name__}")
        return False

    def note(self, message):
        """Keeps a short list of what went wrong on our side."""
        if len(self.out["errors"]) < 5 and message not in self.out["errors"]:
            self.out["errors"].append(message)

    # Receiving.

    def mark_closed(self):
        """Records that the server closed the connection, and when."""
        if not self.out["closed"]:
            self.out["closed"] = True
            self.out["closed_ms"] = round((time.monotonic() - self.t0) * 1000)

    def read_once(self, timeout):
        """One recv with a bound; parses what arrived. False once closed."""
        if self.out["closed"]:
            return False
        try:
            self.sock.settimeout(max(timeout, 0.001))
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            return True
        except OSError:
            self.mark_closed()
            return False
        if not chunk:
            self.mark_closed()
            return False
        self.buf += chunk
        self.parse()
        return True

    def poll(self):
        """Reads whatever is already waiting, without blocking."""
        while not self.out["closed"]:
            ready, _, _ = select.select([self.sock], [], [], 0)
            if not ready:
                return
            self.read_once(0.001)

    def wait(self, predicate, timeout):
        """Reads until predicate() holds, the server closes, or timeout seconds pass."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0 or not self.read_once(min(left, 0.25)):
                break
        return predicate()

    def settle(self, seconds):
        """Reads for `seconds` (or until closed): to see that nothing more comes."""
        self.wait(lambda: False, seconds)

    def wait_closed(self, timeout):
        """Reads until the server closes the connection."""
        return self.wait(lambda: self.out["closed"], timeout)

    def wait_goaway(self, timeout):
        """Reads until a GOAWAY arrives or the connection closes."""
        return self.wait(lambda: self.out["goaway"] is not None or self.out["closed"], timeout)

    # Parsing.

    def parse(self):
        """Parses every complete frame in the buffer."""
        while len(self.buf) >= 9:
            view = memoryview(self.buf)
            f, length = Frame.parse_frame_header(view[:9])
            if len(self.buf) < 9 + length:
                view.release()
                return
            body = bytes(view[9:9 + length])
            view.release()
            del self.buf[:9 + length]
            try:
                f.parse_body(memoryview(body))
            except Exception as error:  # noqa: BLE001 - a bad server frame is a finding
                self.note(f"bad {f.type} frame from the server: {error}")
                continue
            self.on_frame(f, body)

    def stream(self, stream_id):
        """The record of one response stream."""
        return self.out["streams"].setdefault(str(stream_id), {
            "headers": None, "trailers": None, "trailers_only": False, "data_bytes": 0,
            "messages": 0, "end_stream": False,
        })

    def on_frame(self, f, body):
        """Records one frame from the server."""
        out = self.out
        out["frames"] += 1
        kind = TYPE_NAMES.get(f.type, hex(f.type))
        out["first_frame"] = out["first_frame"] or kind
        handler = getattr(self, f"on_{kind.lower()}", None)
        if handler:
            handler(f, body)

    def on_settings(self, f, _body):
        if "ACK" in f.flags:
            self.out["settings_acked"] += 1
            return
        if self.out["server_settings"] is None:
            self.out["server_settings"] = {
                SETTING_NAMES.get(k, str(k)): v for k, v in f.settings.items()
            }
        if self.auto_ack:
            self.send(settings(ack=True))

    def on_ping(self, f, _body):
        if "ACK" in f.flags:
            self.out["pings_acked"] += 1
            if len(self.out["ping_payloads"]) < 5:
                self.out["ping_payloads"].append(f.opaque_data.hex())
        elif self.auto_ack:
            self.send(ping(f.opaque_data, ack=True))

    def on_goaway(self, f, _body):
        record = {
            "code": f.error_code, "last_stream_id": f.last_stream_id,
            "debug": f.additional_data.decode("utf-8", "replace")[:200],
        }
        self.out["goaway"] = record
        if len(self.out["goaways"]) < 5:
            self.out["goaways"].append(record)

    def on_rst_stream(self, f, _body):
        self.out["rst"][str(f.stream_id)] = f.error_code

    def on_window_update(self, f, _body):
        key = str(f.stream_id)
        self.out["window_updates"][key] = self.out["window_updates"].get(key, 0) + f.window_increment

    def on_data(self, f, _body):
        s = self.stream(f.stream_id)
        s["data_bytes"] += len(f.data)
        s["messages"] += count_messages(f.data)
        s["end_stream"] = s["end_stream"] or "END_STREAM" in f.flags

    def on_headers(self, f, _body):
        self.pending = (f.stream_id, "END_STREAM" in f.flags, [f.data])
        if "END_HEADERS" in f.flags:
            self.finish_block()

    def on_continuation(self, f, _body):
        if self.pending is None or self.pending[0] != f.stream_id:
            self.note("CONTINUATION from the server without HEADERS")
            return
        self.pending[2].append(f.data)
        if "END_HEADERS" in f.flags:
            self.finish_block()

    def finish_block(self):
        """Decodes a complete header block from the server."""
        stream_id, end_stream, fragments = self.pending
        self.pending = None
        try:
            fields = [[n, v] for n, v in self.decoder.decode(b"".join(fragments))]
        except Exception as error:  # noqa: BLE001
            self.note(f"undecodable header block from the server: {error}")
            return
        s = self.stream(stream_id)
        if s["headers"] is None:
            s["headers"] = fields
            s["trailers_only"] = end_stream
        else:
            s["trailers"] = fields
        s["end_stream"] = s["end_stream"] or end_stream

    # Calls.

    def handshake(self, values=None, connection_window=0):
        """Preface + SETTINGS; waits for the server's SETTINGS and its ACK of ours."""
        payload = PREFACE + settings(values if values is not None else {ENABLE_PUSH: 0})
        if connection_window:
            payload += window_update(0, connection_window)
        self.send(payload)
        return self.wait(
            lambda: self.out["server_settings"] is not None and self.out["settings_acked"] > 0, 5,
        )

    def start_call(self, stream_id, method="Echo", message=ECHO, end_stream=True, fields=None):
        """HEADERS (+ a DATA message) for a call; END_STREAM on the last frame if asked."""
        fields = fields or request_fields(method)
        if message is None:
            return self.send(headers(stream_id, block(fields), end_stream=end_stream))
        return self.send(
            headers(stream_id, block(fields)) + data(stream_id, grpc_message(message), end_stream)
        )

    def ended(self, stream_id):
        """True once the stream ended (END_STREAM, RST_STREAM) or the connection did."""
        s = self.out["streams"].get(str(stream_id))
        return (
            (s is not None and s["end_stream"]) or str(stream_id) in self.out["rst"]
            or self.out["closed"] or self.out["goaway"] is not None
        )

    def wait_stream(self, stream_id, timeout=5):
        """Reads until the stream ends."""
        return self.wait(lambda: self.ended(stream_id), timeout)

    def unary(self, stream_id, timeout=5):
        """A whole Echo call; returns a summary of its outcome."""
        self.start_call(stream_id)
        self.wait_stream(stream_id, timeout)
        return self.summary(stream_id)

    def summary(self, stream_id):
        """:status, grpc-status and reset code of one stream."""
        s = self.out["streams"].get(str(stream_id)) or {}
        fields = (s.get("trailers") or []) + (s.get("headers") or [])
        return {
            "stream": stream_id,
            "status": lookup(s.get("headers"), ":status"),
            "grpc_status": lookup(fields, "grpc-status"),
            "rst": self.out["rst"].get(str(stream_id)),
        }

    def result(self, **extra):
        """The JSON line."""
        self.out.update(extra)
        self.out["elapsed_ms"] = round((time.monotonic() - self.t0) * 1000)
        return self.out


def lookup(fields, name):
    """The first value of a header, or None."""
    for n, v in fields or []:
        if n == name:
            return v
    return None


def count_messages(payload):
    """gRPC messages starting in a DATA payload (exact for the small replies here)."""
    count, i = 0, 0
    while i + 5 <= len(payload):
        count += 1
        i += 5 + struct.unpack(">I", payload[i + 1:i + 5])[0]
    return count


def emit(obj):
    """Prints one JSON line."""
    print(json.dumps(obj, sort_keys=True), flush=True)


# --- conformance cases -------------------------------------------------------


def expect_connection_error(conn, timeout=3):
    """Reads until GOAWAY, then until the server closes (bounded)."""
    conn.wait_goaway(timeout)
    conn.wait_closed(2)


def case_handshake_unary(conn, _args):
    """SETTINGS first, our SETTINGS ACKed, one unary Echo on stream 1."""
    conn.handshake({ENABLE_PUSH: 0, INITIAL_WINDOW_SIZE: 1 << 20, MAX_FRAME_SIZE: 16384})
    return {"call": conn.unary(1)}


def case_bad_preface(conn, args):
    """An HTTP/1.1 request or random bytes instead of the preface."""
    conn.auto_ack = False
    if args and args[0] == "random":
        conn.send(bytes(range(7, 250, 3)) * 2)
    else:
        conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.wait_closed(4)


def case_no_settings_first(conn, _args):
    """The preface followed by PING instead of SETTINGS."""
    conn.send(PREFACE + ping())
    expect_connection_error(conn)


def case_even_stream(conn, _args):
    """HEADERS on a server-initiated (even) stream id."""
    conn.handshake()
    conn.start_call(2)
    expect_connection_error(conn)


def case_decreasing_stream(conn, _args):
    """A whole call on stream 5, then HEADERS on stream 3."""
    conn.handshake()
    first = conn.unary(5)
    conn.start_call(3)
    expect_connection_error(conn)
    return {"call": first}


def case_continuation_without_headers(conn, _args):
    """CONTINUATION on stream 1 with no HEADERS before it."""
    conn.handshake()
    conn.send(continuation(1, block(request_fields()), end_headers=True))
    expect_connection_error(conn)


def case_headers_then_ping(conn, _args):
    """HEADERS without END_HEADERS, then a PING where a CONTINUATION must be."""
    conn.handshake()
    fields = block(request_fields())
    conn.send(headers(1, fields[:20], end_headers=False) + ping())
    expect_connection_error(conn)


def case_oversized_frame(conn, _args):
    """A HEADERS frame of 16385 bytes, one over the server's SETTINGS_MAX_FRAME_SIZE."""
    conn.handshake()
    fields = block(request_fields())
    filler = literal("x-pad", "p" * (16385 - len(fields) - 8))
    payload = (fields + filler)[:16385].ljust(16385, b"\x00")
    conn.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, payload))
    expect_connection_error(conn)
    return {"sent_length": len(payload)}


def case_ping(conn, _args):
    """PING with 8 bytes: the ACK echoes them."""
    conn.handshake()
    conn.send(ping(b"\x01\x02\x03\x04\x05\x06\x07\x08"))
    conn.wait(lambda: conn.out["pings_acked"] > 0, 3)


def case_ping_len7(conn, _args):
    """PING with a 7-byte payload."""
    conn.handshake()
    conn.send(frame(PING, 0, 0, b"1234567"))
    expect_connection_error(conn)


def case_ping_stream1(conn, _args):
    """PING on stream 1."""
    conn.handshake()
    conn.send(frame(PING, 0, 1, b"12345678"))
    expect_connection_error(conn)


def setting(ident, value):
    """One SETTINGS entry, for values hyperframe would refuse."""
    return struct.pack(">HI", ident, value)


SETTINGS_CASES = {
    "enable_push_2": lambda: frame(SETTINGS, 0, 0, setting(ENABLE_PUSH, 2)),
    "window_2_31": lambda: frame(SETTINGS, 0, 0, setting(INITIAL_WINDOW_SIZE, 2**31)),
    "max_frame_100": lambda: frame(SETTINGS, 0, 0, setting(MAX_FRAME_SIZE, 100)),
    "len5": lambda: frame(SETTINGS, 0, 0, b"\x00\x02\x00\x00\x00"),
    "ack_payload": lambda: frame(SETTINGS, ACK, 0, setting(ENABLE_PUSH, 0)),
    "unknown_id": lambda: frame(SETTINGS, 0, 0, setting(0x99, 7)),
}


def case_settings(conn, args):
    """One bad (or unknown) SETTINGS after a good handshake: args[0] names it."""
    conn.handshake()
    acked = conn.out["settings_acked"]
    conn.send(SETTINGS_CASES[args[0]]())
    if args[0] == "unknown_id":
        conn.wait(lambda: conn.out["settings_acked"] > acked, 3)
        return {"acked_after": conn.out["settings_acked"] - acked, "call": conn.unary(1)}
    expect_connection_error(conn)
    return None


def open_chat(conn, stream_id):
    """A bidi Chat call with one message and no END_STREAM: it stays open."""
    conn.start_call(stream_id, "Chat", CHAT, end_stream=False)
    conn.wait(lambda: conn.stream(stream_id)["messages"] > 0 or conn.ended(stream_id), 3)


def case_window_update(conn, args):
    """WINDOW_UPDATE: zero/overflow, on the connection (conn) or an open stream."""
    kind, where = args[0], args[1]
    conn.handshake()
    increment = 0 if kind == "zero" else MAX_WINDOW
    if where == "conn":
        conn.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", increment)))
        expect_connection_error(conn)
        return None
    open_chat(conn, 1)
    conn.send(frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", increment)))
    conn.wait(lambda: "1" in conn.out["rst"] or conn.out["goaway"] is not None, 3)
    return {"call": conn.unary(3)}


def case_data_stream0(conn, _args):
    """DATA on stream 0."""
    conn.handshake()
    conn.send(frame(DATA, 0, 0, grpc_message(ECHO)))
    expect_connection_error(conn)


def case_data_idle(conn, _args):
    """DATA on stream 99, never opened."""
    conn.handshake()
    conn.send(data(99, grpc_message(ECHO)))
    expect_connection_error(conn)


def case_data_half_closed(conn, _args):
    """A Sleep(2s) call ends its request; more DATA on that still-open stream."""
    conn.handshake()
    conn.start_call(1, "Sleep", sleep_request(2000), end_stream=True)
    conn.settle(0.2)
    conn.send(data(1, grpc_message(sleep_request(1))))
    conn.wait(lambda: "1" in conn.out["rst"] or conn.out["goaway"] is not None, 3)
    return {"call": conn.unary(3)}


def case_data_closed(conn, _args):
    """A whole Echo call on stream 1, then DATA on the closed stream 1."""
    conn.handshake()
    first = conn.unary(1)
    conn.send(data(1, grpc_message(ECHO)))
    conn.settle(0.5)
    return {"call": first}


def case_flow_control(conn, _args):
    """Ten 16 KiB messages at once to Drip (reads one per 20 ms) against a 64 KiB window."""
    conn.handshake()
    conn.start_call(1, "Drip", None, end_stream=False)
    message = grpc_message(pb_bytes(1, b"\x07" * 16376))  # e2e.BigReply, 16384 bytes framed
    conn.send(data(1, message) * 10)
    conn.wait(lambda: "1" in conn.out["rst"] or conn.out["goaway"] is not None, 3)
    return {"sent_bytes": 10 * len(message)}


def case_push_promise(conn, _args):
    """PUSH_PROMISE from the client on an open stream."""
    conn.handshake()
    open_chat(conn, 1)
    promised = struct.pack(">I", 2) + block([(":method", "GET"), (":path", "/")])
    conn.send(frame(PUSH_PROMISE, END_HEADERS, 1, promised))
    expect_connection_error(conn)


MALFORMED = {
    "missing_path": [f for f in request_fields() if f[0] != ":path"],
    "unknown_pseudo": request_fields()[:4] + [(":foo", "bar")] + request_fields()[4:],
    "pseudo_after_regular": request_fields()[:2] + request_fields()[3:] + [request_fields()[2]],
    "uppercase": request_fields(extra=[("X-Upper", "1")]),
    "connection": request_fields(extra=[("connection", "keep-alive")]),
    "te_gzip": [f for f in request_fields() if f[0] != "te"] + [("te", "gzip")],
    "duplicate_path": request_fields(extra=[(":path", "/e2e.Test/Echo")]),
}


def case_malformed(conn, args):
    """A malformed request on stream 1, then a valid call on stream 3."""
    conn.handshake()
    conn.send(headers(1, block(MALFORMED[args[0]]), end_stream=True))
    conn.wait_stream(1, 3)
    return {"call": conn.unary(3)}


def case_content_type(conn, _args):
    """content-type text/plain."""
    conn.handshake()
    conn.start_call(1, fields=request_fields(content_type="text/plain"))
    conn.wait_stream(1, 3)


def case_method_get(conn, _args):
    """:method GET on a gRPC path."""
    conn.handshake()
    fields = [(":method", "GET")] + request_fields()[1:]
    conn.send(headers(1, block(fields), end_stream=True))
    conn.wait_stream(1, 3)


def case_unknown_path(conn, _args):
    """A call to a method that does not exist."""
    conn.handshake()
    conn.start_call(1, fields=request_fields(path="/e2e.Test/Nope"))
    conn.wait_stream(1, 3)


def case_big_headers(conn, _args):
    """A 20 KB metadata value in HEADERS + CONTINUATION, then a valid call."""
    conn.handshake()
    whole = block(request_fields(extra=[("x-big", "b" * 20_000)]))
    frames = headers(1, whole[:16000], end_stream=False, end_headers=False)
    frames += continuation(1, whole[16000:], end_headers=True)
    frames += data(1, grpc_message(ECHO), end_stream=True)
    conn.send(frames)
    conn.wait_stream(1, 3)
    return {"call": conn.unary(3)}


def case_priority(conn, args):
    """PRIORITY on idle stream 1 (then a call on it), or PRIORITY of length 4."""
    conn.handshake()
    if args[0] == "len4":
        conn.send(frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00"))
        conn.wait(lambda: "1" in conn.out["rst"] or conn.out["goaway"] is not None, 3)
        conn.wait_closed(0.5)
        return None
    conn.send(frame(PRIORITY, 0, 1, b"\x00\x00\x00\x00\x10"))
    return {"call": conn.unary(1)}


def case_unknown_frame(conn, _args):
    """A frame of unknown type 0xfa, then a call."""
    conn.handshake()
    conn.send(frame(0xFA, 0x3, 0, b"whatever"))
    return {"call": conn.unary(1)}


def case_max_streams(conn, args):
    """N open Chat streams, then one more; then free them and call again."""
    n = int(args[0])
    conn.handshake()
    for i in range(n):
        open_chat(conn, 2 * i + 1)
    extra = 2 * n + 1
    conn.start_call(extra, "Chat", CHAT, end_stream=False)
    conn.wait(lambda: conn.ended(extra), 3)
    open_before = [s for s in range(1, extra, 2) if str(s) not in conn.out["rst"]]
    conn.send(b"".join(rst_stream(s, CANCEL) for s in range(1, extra, 2)))
    conn.settle(0.2)
    return {"refused": conn.out["rst"].get(str(extra)), "open_before": open_before,
            "call": conn.unary(extra + 2)}


def case_shutdown(conn, _args):
    """An open Chat stream; print ready; wait for GOAWAY; then try a new stream."""
    conn.handshake()
    open_chat(conn, 1)
    emit({"ready": True, "chat_messages": conn.stream(1)["messages"]})
    conn.wait_goaway(10)
    # A graceful GOAWAY may be a pair (2^31-1 first); give the second one time.
    conn.wait(lambda: conn.out["closed"] or (conn.out["goaway"] or {}).get(
        "last_stream_id") != MAX_WINDOW, 1)
    goaways = list(conn.out["goaways"])
    conn.start_call(3)
    conn.wait(lambda: "3" in conn.out["rst"] or conn.stream(3)["end_stream"] or conn.out["closed"], 2)
    return {"goaways_before_new_stream": goaways, "new_stream": conn.summary(3)}


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    """h2_probe.py CASE PORT [ARGS...]."""
    name, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    conn = Conn(port)
    extra = CASES[name](conn, args) or {}
    emit(conn.result(**extra))


if __name__ == "__main__":
    main()

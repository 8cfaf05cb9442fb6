#!/usr/bin/python3
"""Runs a fixed list of calls against the e2e.Test fixture and prints what grpcio saw.

  parity_client.py PORT

Uses grpcio's generic API (channel.unary_unary & co.) with raw bytes: requests
are encoded by hand below and responses are not decoded, so the output is what
went over the wire, not what a generated stub made of it. Prints ONE JSON
object, {case: {code, details, initial_metadata, trailing_metadata, messages}}:
metadata as [key, value] pairs in arrival order (`-bin` values base64),
messages as hex ("sha256:<hex>:<length>" above 256 bytes).

Two things vary between runs and are normalised, not dropped:
  * e2e.EchoReply.peer ends in the client's ephemeral port: it becomes ":PORT";
    deadline_in_ms becomes 1.0 when it lies in (0, timeout * 1.02], else stays;
    map entries (EchoReply.metadata) are sorted, as map order means nothing.
  * deadline_exceeded: grpcio's own timer and the server's race, so its details
    are lower-cased ("Deadline Exceeded" vs "Deadline exceeded") and its
    metadata (empty when the client's timer wins) is left out.
"""

import base64
import hashlib
import json
import re
import struct
import sys

import grpc

TIMEOUT_S = 10.0
MAX_HEX = 256


# --- a minimal protobuf encoder/decoder -------------------------------------

def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def f_varint(num, value):
    return varint(num << 3) + varint(value)


def f_bytes(num, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return varint((num << 3) | 2) + varint(len(value)) + value


def read_varint(buf, pos):
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """[(number, wire_type, raw_bytes_of_the_whole_field, value)]."""
    out, pos = [], 0
    while pos < len(buf):
        start = pos
        key, pos = read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        out.append((num, wire, buf[start:pos], value))
    return out


def normalize_echo(buf, timeout_ms):
    """An e2e.EchoReply with its per-connection and per-run parts made stable."""
    out = []
    for num, wire, raw, value in fields(buf):
        if num == 4 and wire == 2:  # peer
            raw = f_bytes(4, re.sub(r":\d+$", ":PORT", value.decode("utf-8")))
        elif num == 5 and wire == 1:  # deadline_in_ms
            ms = struct.unpack("<d", value)[0]
            # grpcio rounds grpc-timeout up to 3 significant digits: up to 1% over.
            if timeout_ms is not None and 0 < ms <= timeout_ms * 1.02:
                raw = varint((5 << 3) | 1) + struct.pack("<d", 1.0)
        out.append((num, raw))
    # Stable sort by field number; map entries (field 3) also by their bytes.
    out.sort(key=lambda f: (f[0], f[1] if f[0] == 3 else b""))
    return b"".join(raw for _, raw in out)


# --- cases --------------------------------------------------------------------

def echo(message="", id_=0):
    return f_bytes(1, message) + (f_varint(2, id_) if id_ else b"")


def fail(kind, code=0, message=""):
    return f_bytes(1, kind) + (f_varint(2, code) if code else b"") + (
        f_bytes(3, message) if message else b"")


def count(n, size=0, fail_after=0):
    out = f_varint(1, n) if n else b""
    out += f_varint(2, size) if size else b""
    return out + (f_varint(3, fail_after) if fail_after else b"")


def number(n):
    return f_varint(1, n)


ECHO = "/e2e.Test/Echo"
ERROR_MESSAGE = "naïve 100% sure: ✓ 50%2F done\ttab"

# (name, kind, path, request(s), options). Kinds: uu, us, su, ss.
CASES = [
    ("unary_ok", "uu", ECHO, echo("hi", 9007199254740993), {}),
    ("unary_no_deadline", "uu", ECHO, echo("no deadline"), {"timeout": None}),
    ("unary_metadata", "uu", ECHO, echo("md"), {"metadata": [
        ("x-request-tag", "abc"),
        ("x-request-bin", b"\x00\x01\xfe\xff"),
    ]}),
    ("unary_repeated_metadata_key", "uu", ECHO, echo("md"), {"metadata": [
        ("x-multi", "one"),
        ("x-multi", "two"),
    ]}),
    ("unary_empty_request", "uu", ECHO, b"", {}),
    ("rpc_error", "uu", "/e2e.Test/Fail", fail("rpc", 9, ERROR_MESSAGE), {}),
    ("rpc_error_empty_message", "uu", "/e2e.Test/Fail", fail("rpc", 16, ""), {}),
    ("rpc_error_code_out_of_range", "uu", "/e2e.Test/Fail", fail("rpc", 42, "odd code"), {}),
    ("plain_error", "uu", "/e2e.Test/Fail", fail("plain"), {}),
    ("bad_return", "uu", "/e2e.Test/BadReturn", b"", {}),
    ("malformed_request", "uu", ECHO, b"\x0a\xff", {}),
    ("proto_method_without_handler", "uu", "/e2e.Test/NotImplemented", b"", {}),
    ("unknown_method", "uu", "/e2e.Test/Nope", b"", {}),
    ("unknown_service", "uu", "/nope.Nope/Nope", b"", {}),
    ("deadline_exceeded", "uu", "/e2e.Test/Sleep", f_varint(1, 10_000) + f_bytes(2, "py"),
     {"timeout": 0.3}),
    ("deadline_met", "uu", "/e2e.Test/Sleep", f_varint(1, 10), {}),
    ("server_stream", "us", "/e2e.Test/Count", count(5, size=3), {}),
    ("server_stream_empty", "us", "/e2e.Test/Count", count(0), {}),
    ("server_stream_error_midway", "us", "/e2e.Test/Count", count(10, fail_after=3), {}),
    ("client_stream", "su", "/e2e.Test/Sum", [number(i) for i in range(1, 101)], {}),
    ("client_stream_empty", "su", "/e2e.Test/Sum", [], {}),
    ("client_stream_too_large", "su", "/e2e.Test/Drip", [f_bytes(1, b"\x07" * 70_000)], {}),
    ("bidi", "ss", "/e2e.Test/Chat", [echo(w, i + 1) for i, w in enumerate("abc")], {}),
    ("bidi_empty", "ss", "/e2e.Test/Chat", [], {}),
    ("request_too_large", "uu", ECHO, echo("x" * 70_000), {}),
    ("response_too_large", "uu", "/e2e.Test/Big", f_varint(1, 70_000), {}),
    ("response_near_limit", "uu", "/e2e.Test/Big", f_varint(1, 60_000), {}),
    ("gzip_request", "uu", ECHO, echo("zipped " * 50), {"compression": grpc.Compression.Gzip}),
    ("deflate_request", "uu", ECHO, echo("deflated " * 50),
     {"compression": grpc.Compression.Deflate}),
    ("gzip_request_inflates_too_large", "uu", ECHO, echo("x" * 70_000),
     {"compression": grpc.Compression.Gzip}),
    ("gzip_client_stream", "su", "/e2e.Test/Sum", [number(i) for i in range(1, 11)],
     {"compression": grpc.Compression.Gzip}),
]


def md_pairs(md):
    out = []
    for key, value in md or ():
        if isinstance(value, bytes):
            value = base64.b64encode(value).decode("ascii")
        out.append([key, value])
    return out


def show(message):
    if len(message) <= MAX_HEX:
        return message.hex()
    return f"sha256:{hashlib.sha256(message).hexdigest()}:{len(message)}"


def run_case(channel, kind, path, request, options):
    timeout = options.get("timeout", TIMEOUT_S)
    kwargs = {"timeout": timeout, "metadata": options.get("metadata")}
    if "compression" in options:
        kwargs["compression"] = options["compression"]
    make = {"uu": channel.unary_unary, "us": channel.unary_stream,
            "su": channel.stream_unary, "ss": channel.stream_stream}[kind]
    # No serializers: requests and responses stay bytes.
    method = make(path)
    messages, call = [], None
    try:
        if kind in ("uu", "su"):
            arg = request if kind == "uu" else iter(request)
            response, call = method.with_call(arg, **kwargs)
            messages.append(response)
        else:
            call = method(request if kind == "us" else iter(request), **kwargs)
            for response in call:
                messages.append(response)
    except grpc.RpcError as error:
        call = error
    timeout_ms = None if timeout is None else timeout * 1000
    if path == ECHO:
        messages = [normalize_echo(m, timeout_ms) for m in messages]
    return {
        "code": call.code().name,
        "details": call.details(),
        "initial_metadata": md_pairs(call.initial_metadata()),
        "trailing_metadata": md_pairs(call.trailing_metadata()),
        "messages": [show(m) for m in messages],
    }


def main():
    port = sys.argv[1]
    results = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
        for name, kind, path, request, options in CASES:
            result = run_case(channel, kind, path, request, options)
            if name == "deadline_exceeded":
                result["details"] = (result["details"] or "").lower()
                del result["initial_metadata"], result["trailing_metadata"]
            results[name] = result
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()

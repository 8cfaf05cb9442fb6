#!/usr/bin/python3
"""A real OTLP/HTTP trace receiver for the tracing tests (http/protobuf).

  otlp_receiver.py [PORT] --out FILE [--mode ok|slow|refuse|error400] [--delay-ms N]

Listens on 127.0.0.1:PORT (0, the default, lets the kernel choose) and prints
one line {"port": N} once it accepts connections. Request bodies are decoded
with PyPI's opentelemetry-proto (the official generated classes), so what a
test sees is what a real collector would see; run it with PYTHONPATH set to
where that package is installed.

  POST /v1/traces   Content-Type: application/x-protobuf, optionally
                    Content-Encoding: gzip. The body must parse as an
                    ExportTraceServiceRequest (else 400). Every span is
                    appended to FILE as one JSON line, flattened with its
                    resource, scope and the request's headers, and flushed
                    BEFORE the reply is sent: a client that saw 200 can read
                    its spans at once. The reply is an empty serialized
                    ExportTraceServiceResponse.
  GET /stats        {"requests": N, "spans": N}: POSTs to /v1/traces received
                    (in any mode, counted on arrival), spans recorded.

Modes: ok (default); slow: sleep --delay-ms before answering (a collector
slower than the exporter's timeout; the spans are recorded when the reply is
sent); refuse: 503 and record nothing; error400: 400 and record nothing.

A span line has trace_id, span_id, parent_span_id ("" for a root; ids are
lowercase hex), trace_state, flags, name, kind (enum name, SPAN_KIND_SERVER),
start_ns, end_ns, attributes, attribute_types (key -> which AnyValue field was
set, e.g. "int_value" vs "double_value", which JSON alone cannot tell apart),
events [{name, time_ns, attributes}], links [{trace_id, span_id, attributes}],
status {code (STATUS_CODE_ERROR), message}, resource (its attributes), scope
{name, version} and headers {lower-cased name: value}. Attribute values become
str, int, float, bool, list, dict (kvlist) or, for bytes, base64 text as in
OTLP/JSON.

SIGTERM (or SIGINT) stops it with exit code 0.
"""

import argparse
import base64
import gzip
import json
import signal
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

PROTOBUF = "application/x-protobuf"
# Generous, so a test's body is never cut, and still bounded.
MAX_BODY = 64 * 1024 * 1024


def any_value(value):
    """An AnyValue as a plain Python value."""
    field = value.WhichOneof("value")
    if field is None:
        return None
    if field == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if field == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if field == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, field)


def attributes(key_values):
    return {kv.key: any_value(kv.value) for kv in key_values}


def enum_name(enum, number):
    try:
        return enum.Name(number)
    except ValueError:
        # A value newer than these definitions: keep the number, as text.
        return str(number)


def flatten(request, headers):
    """One dict per span in `request`, each carrying its resource and scope."""
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = {"name": scope_spans.scope.name, "version": scope_spans.scope.version}
            for span in scope_spans.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "trace_state": span.trace_state,
                    "flags": span.flags,
                    "name": span.name,
                    "kind": enum_name(trace_pb2.Span.SpanKind, span.kind),
                    "start_ns": span.start_time_unix_nano,
                    "end_ns": span.end_time_unix_nano,
                    "attributes": attributes(span.attributes),
                    "attribute_types": {
                        kv.key: kv.value.WhichOneof("value") or "" for kv in span.attributes
                    },
                    "events": [
                        {
                            "name": e.name,
                            "time_ns": e.time_unix_nano,
                            "attributes": attributes(e.attributes),
                        }
                        for e in span.events
                    ],
                    "links": [
                        {
                            "trace_id": link.trace_id.hex(),
                            "span_id": link.span_id.hex(),
                            "attributes": attributes(link.attributes),
                        }
                        for link in span.links
                    ],
                    "status": {
                        "code": enum_name(trace_pb2.Status.StatusCode, span.status.code),
                        "message": span.status.message,
                    },
                    "resource": resource,
                    "scope": scope,
                    "headers": headers,
                }


class Receiver(ThreadingHTTPServer):
    # Handler threads must not keep the process alive past SIGTERM (a slow
    # reply may still be sleeping).
    daemon_threads = True

    def __init__(self, port, out, mode, delay_ms):
        super().__init__(("127.0.0.1", port), Handler)
        self.out = out
        self.mode = mode
        self.delay = delay_ms / 1000
        self.lock = threading.Lock()
        self.requests = 0
        self.spans = 0

    def record(self, spans):
        # One write and a flush per request, under the lock, so a reader
        # polling the file sees whole lines from whole requests.
        text = "".join(json.dumps(s, separators=(",", ":")) + "\n" for s in spans)
        with self.lock:
            if text:
                with open(self.out, "a", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
            self.spans += len(spans)


class Handler(BaseHTTPRequestHandler):
    # Keep-alive, as OTLP exporters reuse their connections.
    protocol_version = "HTTP/1.1"
    server_version = "otlp-receiver"

    def log_message(self, format, *args):
        pass  # One stderr line per request would only bury real errors.

    def reply(self, status, body=b"", content_type="text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer section, up to its blank line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def do_GET(self):
        if self.path != "/stats":
            self.reply(404, b"not found\n")
            return
        with self.server.lock:
            stats = {"requests": self.server.requests, "spans": self.server.spans}
        self.reply(200, json.dumps(stats).encode(), "application/json")

    def do_POST(self):
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            self.reply(400, f"cannot read the body: {e}\n".encode())
            return
        if self.path != "/v1/traces":
            self.reply(404, b"not found\n")
            return
        with self.server.lock:
            self.server.requests += 1
        mode = self.server.mode
        if mode == "refuse":
            self.reply(503, b"refused: this receiver runs in --mode refuse\n")
            return
        if mode == "error400":
            self.reply(400, b"rejected: this receiver runs in --mode error400\n")
            return
        if mode == "slow":
            time.sleep(self.server.delay)
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != PROTOBUF:
            self.reply(415, f"expected Content-Type {PROTOBUF}, got {content_type!r}\n".encode())
            return
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding != "identity":
                raise ValueError(f"unsupported Content-Encoding {encoding!r}")
            request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        except (DecodeError, OSError, EOFError, zlib.error, ValueError) as e:
            self.reply(400, f"not an ExportTraceServiceRequest: {e}\n".encode())
            return
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self.server.record(list(flatten(request, headers)))
        response = trace_service_pb2.ExportTraceServiceResponse()
        self.reply(200, response.SerializeToString(), PROTOBUF)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--out", required=True, help="file the span lines are appended to")
    parser.add_argument("--mode", choices=["ok", "slow", "refuse", "error400"], default="ok")
    parser.add_argument("--delay-ms", type=int, default=0, help="reply delay in --mode slow")
    args = parser.parse_args()

    server = Receiver(args.port, args.out, args.mode, args.delay_ms)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, which runs on this
        # (the main) thread: call it from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Builds an OTLP ExportTraceServiceRequest with PyPI's opentelemetry-proto
(the official generated classes) and POSTs it, or prints its bytes: the
client side of tests/otlp_receiver_test.ts.

  otlp_send.py --endpoint URL [--gzip] [--header NAME=VALUE]... [--timeout S]
      POSTs to URL (the full traces URL, .../v1/traces) with Content-Type
      application/x-protobuf and prints ONE JSON line:
      {"status": 200, "content_type": ..., "body_hex": ..., "sent": SENT}
  otlp_send.py --print-body
      prints {"body_hex": ..., "sent": SENT} without sending anything, for
      tests that POST the bytes themselves

SENT describes what the request holds, so a test compares the receiver's
view with it: {"trace_id", "server_span_id", "client_span_id",
"link_trace_id", "link_span_id", "start_ns", "end_ns"} (ids lowercase hex).
The ids are random, the spans otherwise fixed: resource service.name
"otlp-send"; scope "otlp_send" 1.2.3; a SERVER span "GET /items" with
attributes of every AnyValue kind, an event and an error status; and its
CLIENT child "SELECT items" with trace_state, flags and a link.

The PyPI exporter (opentelemetry-exporter-otlp-proto-http) would be the
natural client, but its SDK needs opentelemetry-semantic-conventions, which
this machine's package index does not have; these message classes are the
same official definitions the exporter encodes with.
"""

import argparse
import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.request

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


def kv(key, value):
    """A KeyValue, the AnyValue field chosen from the Python type."""
    out = common_pb2.KeyValue(key=key)
    if isinstance(value, bool):  # Before int: bool is an int in Python.
        out.value.bool_value = value
    elif isinstance(value, int):
        out.value.int_value = value
    elif isinstance(value, float):
        out.value.double_value = value
    elif isinstance(value, bytes):
        out.value.bytes_value = value
    elif isinstance(value, list):
        out.value.array_value.values.extend(kv("", v).value for v in value)
    elif isinstance(value, dict):
        out.value.kvlist_value.values.extend(kv(k, v) for k, v in value.items())
    else:
        out.value.string_value = value
    return out


def build():
    trace_id, server_id, client_id = os.urandom(16), os.urandom(8), os.urandom(8)
    link_trace, link_span = os.urandom(16), os.urandom(8)
    start = time.time_ns()
    end = start + 5_000_000
    server = trace_pb2.Span(
        trace_id=trace_id,
        span_id=server_id,
        name="GET /items",
        kind=trace_pb2.Span.SPAN_KIND_SERVER,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        attributes=[
            kv("http.request.method", "GET"),
            kv("http.response.status_code", 500),
            kv("ratio", 0.25),
            kv("cached", False),
            kv("tags", ["a", "b"]),
            kv("ports", [1, 2]),
            kv("nested", {"k": "v", "n": 1}),
            kv("raw", b"\x00\x01\xff"),
        ],
        events=[
            trace_pb2.Span.Event(
                name="exception",
                time_unix_nano=start + 1_000,
                attributes=[kv("exception.type", "Boom"), kv("exception.message", "it broke")],
            )
        ],
        status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_ERROR, message="it broke"),
    )
    client = trace_pb2.Span(
        trace_id=trace_id,
        span_id=client_id,
        parent_span_id=server_id,
        trace_state="vendor=abc",
        flags=0x101,  # Sampled, and the "has is_remote" bit.
        name="SELECT items",
        kind=trace_pb2.Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start + 1_000_000,
        end_time_unix_nano=start + 4_000_000,
        attributes=[kv("db.system", "postgresql")],
        links=[
            trace_pb2.Span.Link(
                trace_id=link_trace, span_id=link_span, attributes=[kv("link.reason", "retry")]
            )
        ],
        status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK),
    )
    request = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        [kv("service.name", "otlp-send"), kv("service.instance.id", "i-1")]
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "otlp_send"
    scope_spans.scope.version = "1.2.3"
    scope_spans.spans.extend([server, client])
    sent = {
        "trace_id": trace_id.hex(),
        "server_span_id": server_id.hex(),
        "client_span_id": client_id.hex(),
        "link_trace_id": link_trace.hex(),
        "link_span_id": link_span.hex(),
        "start_ns": start,
        "end_ns": end,
    }
    return request.SerializeToString(), sent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", help="the traces URL, e.g. http://127.0.0.1:4318/v1/traces")
    parser.add_argument("--print-body", action="store_true")
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--header", action="append", default=[], help="NAME=VALUE, repeatable")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    body, sent = build()
    if args.print_body or not args.endpoint:
        print(json.dumps({"body_hex": body.hex(), "sent": sent}), flush=True)
        return
    headers = {"Content-Type": "application/x-protobuf", "User-Agent": "otlp_send.py"}
    if args.gzip:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    for header in args.header:
        name, _, value = header.partition("=")
        headers[name] = value
    request = urllib.request.Request(args.endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, content_type = response.status, response.headers["Content-Type"]
            reply = response.read()
    except urllib.error.HTTPError as e:
        status, content_type, reply = e.code, e.headers["Content-Type"], e.read()
    print(
        json.dumps(
            {"status": status, "content_type": content_type, "body_hex": reply.hex(), "sent": sent}
        ),
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Calls chain.Frontend/Hello (tests/fixtures/tracing) from Python grpcio as
an instrumented caller would: with a W3C `traceparent` naming a span of its
own, a `tracestate` and a `baggage` header.

  trace_client.py --port N [--name NAME] [--flags 01|00] [--tracestate S]
                  [--baggage B] [--no-traceparent]

Makes a new trace id and span id (random, as OpenTelemetry's id generator
does) and prints ONE JSON line:
  {"sent": {"trace_id", "span_id", "traceparent", "tracestate", "baggage"},
   "reply": {"message", "baggage", "traceparent", "tracestate"}}
or, when the call fails, "error": {"code", "details"} instead of "reply".

Message classes are generated at start-up from the fixture's chain.proto
with protoc, so they stay in step with it.
"""

import argparse
import importlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

import grpc

PROTO_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tracing", "proto"
)


def load_messages():
    out = tempfile.mkdtemp(prefix="svc-trace-stubs-")
    subprocess.run(
        ["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", "chain.proto"],
        check=True, capture_output=True, timeout=60,
    )
    sys.path.insert(0, out)
    try:
        return out, importlib.import_module("chain_pb2")
    finally:
        sys.path.remove(out)


def new_id(nbytes):
    """A random non-zero id in lowercase hex."""
    while True:
        value = secrets.token_hex(nbytes)
        if value.strip("0"):
            return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="ada")
    parser.add_argument("--flags", default="01", choices=["00", "01"])
    parser.add_argument("--tracestate", default="")
    parser.add_argument("--baggage", default="")
    parser.add_argument("--no-traceparent", action="store_true")
    args = parser.parse_args()

    out, pb2 = load_messages()
    try:
        sent = {"trace_id": "", "span_id": "", "traceparent": "",
                "tracestate": args.tracestate, "baggage": args.baggage}
        metadata = []
        if not args.no_traceparent:
            sent["trace_id"] = new_id(16)
            sent["span_id"] = new_id(8)
            sent["traceparent"] = f"00-{sent['trace_id']}-{sent['span_id']}-{args.flags}"
            metadata.append(("traceparent", sent["traceparent"]))
            if args.tracestate:
                metadata.append(("tracestate", args.tracestate))
        if args.baggage:
            metadata.append(("baggage", args.baggage))

        with grpc.insecure_channel(f"127.0.0.1:{args.port}") as channel:
            hello = channel.unary_unary(
                "/chain.Frontend/Hello",
                request_serializer=pb2.HelloRequest.SerializeToString,
                response_deserializer=pb2.HelloReply.FromString,
            )
            result = {"sent": sent}
            try:
                reply = hello(pb2.HelloRequest(name=args.name), metadata=metadata, timeout=10)
                result["reply"] = {
                    "message": reply.message,
                    "baggage": reply.baggage,
                    "traceparent": reply.traceparent,
                    "tracestate": reply.tracestate,
                }
            except grpc.RpcError as e:
                result["error"] = {"code": e.code().name, "details": e.details()}
            print(json.dumps(result), flush=True)
        return 0
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

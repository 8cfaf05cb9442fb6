#!/usr/bin/python3
"""Decodes an OTLP ExportTraceServiceRequest with the official definitions.

  otlp_decode.py < request.bin
      prints the message as one JSON line: MessageToDict with
      preserving_proto_field_name=True (bytes as base64, 64-bit ints as
      strings, enums by name)
  otlp_decode.py --canonical < request.bin
      the same, and exits 2 unless the bytes are exactly what protobuf's own
      serializer writes for the parsed message: no unknown fields (a wrong
      field number), no out-of-order or default-valued fields, minimal
      varints

Needs PyPI's opentelemetry-proto on PYTHONPATH (tests/_otlp.ts has the path).
Exits 1 with the parser's error on stderr when the bytes do not parse.
"""

import argparse
import json
import sys

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--canonical", action="store_true")
    args = parser.parse_args()
    data = sys.stdin.buffer.read()
    msg = trace_service_pb2.ExportTraceServiceRequest()
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        print(f"cannot parse {len(data)} bytes: {e}", file=sys.stderr)
        return 1
    if args.canonical:
        check = trace_service_pb2.ExportTraceServiceRequest()
        check.CopyFrom(msg)
        check.DiscardUnknownFields()
        again = check.SerializeToString(deterministic=True)
        if again != data:
            at = next(
                (i for i, (a, b) in enumerate(zip(data, again)) if a != b),
                min(len(data), len(again)),
            )
            print(
                f"not canonical: {len(data)} bytes in, {len(again)} out, "
                f"first difference at byte {at}: "
                f"{data[at:at + 16].hex()} vs {again[at:at + 16].hex()}",
                file=sys.stderr,
            )
            return 2
    out = json_format.MessageToDict(msg, preserving_proto_field_name=True)
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

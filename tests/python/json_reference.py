#!/usr/bin/python3
"""Reference answers for protobuf's canonical JSON mapping from Python's
google.protobuf.json_format (Debian's python3-protobuf).

  json_reference.py DESCRIPTOR_SET CASES_FILE

DESCRIPTOR_SET is a FileDescriptorSet (protoc --include_imports
--descriptor_set_out). Its files are added to a fresh DescriptorPool and
message classes are built with message_factory (no generated code).
CASES_FILE holds one JSON object per line; for each it prints one line:

  {"op": "parse", "type": T, "json": TEXT, "ignore": BOOL}
      -> {"ok": true, "binary": BASE64, "json": MessageToJson(...)}
       | {"ok": false, "error": MESSAGE}
  {"op": "print", "type": T, "binary": BASE64}
      -> {"ok": true, "json": MessageToJson(...)} | {"ok": false, "error": ...}
  {"op": "equal", "type": T, "a": BASE64, "b": BASE64}
      -> {"equal": BOOL, "a": JSON_OF_A, "b": JSON_OF_B}

JSON output uses lowerCamel names (preserving_proto_field_name=False) and
leaves defaults out, as the canonical mapping asks.
"""

import base64
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load_pool(path):
    with open(path, "rb") as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:  # protoc writes dependencies first
        pool.Add(file)
    return pool


def main():
    pool = load_pool(sys.argv[1])
    factory = message_factory.MessageFactory(pool)

    def new(name):
        return factory.GetPrototype(pool.FindMessageTypeByName(name))()

    def to_json(message):
        return json_format.MessageToJson(
            message, preserving_proto_field_name=False, descriptor_pool=pool, indent=None)

    with open(sys.argv[2]) as f:
        cases = [json.loads(line) for line in f if line.strip()]
    for case in cases:
        op = case["op"]
        try:
            if op == "parse":
                message = new(case["type"])
                json_format.Parse(case["json"], message,
                                  ignore_unknown_fields=case.get("ignore", False),
                                  descriptor_pool=pool)
                out = {"ok": True, "json": to_json(message),
                       "binary": base64.b64encode(message.SerializeToString()).decode()}
            elif op == "print":
                message = new(case["type"])
                message.ParseFromString(base64.b64decode(case["binary"]))
                out = {"ok": True, "json": to_json(message)}
            elif op == "equal":
                a = new(case["type"])
                a.ParseFromString(base64.b64decode(case["a"]))
                b = new(case["type"])
                b.ParseFromString(base64.b64decode(case["b"]))
                out = {"equal": a == b, "a": to_json(a), "b": to_json(b)}
            else:
                raise ValueError("unknown op " + op)
        except Exception as error:  # every failure is an answer, not a crash
            out = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

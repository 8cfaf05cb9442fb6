#!/usr/bin/python3
"""Calls e2e.Test/Count with fail_after and reports what arrived before the error.

  stream_error_client.py PORT RUNS

Prints {"runs": N, "bad": [...]} where bad lists runs that did not get exactly
3 messages followed by ABORTED "stopped after 3". Stubs are generated from
tests/fixtures/e2e/proto with protoc (google/protobuf/*.proto from /usr/include).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import grpc


def main():
    port, runs = sys.argv[1], int(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    proto_dir = os.path.join(here, "..", "fixtures", "e2e", "proto")
    out = tempfile.mkdtemp(prefix="svc-e2e-stubs-")
    try:
        plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
        subprocess.run(
            ["protoc", f"-I{proto_dir}", "-I/usr/include", f"--python_out={out}",
             f"--grpc_python_out={out}", f"--plugin=protoc-gen-grpc_python={plugin}", "e2e.proto"],
            check=True, capture_output=True, timeout=60,
        )
        sys.path.insert(0, out)
        import e2e_pb2
        import e2e_pb2_grpc

        bad = []
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = e2e_pb2_grpc.TestStub(channel)
            for i in range(runs):
                got = []
                try:
                    for message in stub.Count(e2e_pb2.CountRequest(count=10, fail_after=3), timeout=10):
                        got.append(message.id)
                    bad.append({"run": i, "error": "none", "got": len(got)})
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.ABORTED or e.details() != "stopped after 3" or len(got) != 3:
                        bad.append({"run": i, "error": e.code().name, "got": len(got)})
        print(json.dumps({"runs": runs, "bad": bad}))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()

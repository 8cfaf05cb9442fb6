#!/usr/bin/python3
"""grpc.health.v1 client on Python grpcio (a client svc did not write).

  health_client.py --port N check [SERVICE]
      prints {"status": "SERVING"} or {"code": "NOT_FOUND", "details": ...}
  health_client.py --port N watch [SERVICE] [--seconds S]
      prints one JSON line per update, {"status": ..., "t": epoch seconds},
      then {"end": CODE, "t": ...} when the stream ends (or "timeout")

Stubs are generated at start-up from GRPC_PROTO_DIR (default
/usr/share/grpc-proto) with protoc and grpc_python_plugin.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import grpc


def load_stubs():
    proto_dir = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
    out = tempfile.mkdtemp(prefix="svc-health-stubs-")
    plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
    subprocess.run(
        ["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}",
         f"--plugin=protoc-gen-grpc_python={plugin}", "grpc/health/v1/health.proto"],
        check=True, capture_output=True, timeout=60,
    )
    # The generated modules live under grpc/health/v1, inside the grpc package.
    grpc.__path__.append(os.path.join(out, "grpc"))
    from grpc.health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
    return out, health_pb2, health_pb2_grpc


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("command", choices=["check", "watch"])
    parser.add_argument("service", nargs="?", default="")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()

    out, pb2, pb2_grpc = load_stubs()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{args.port}") as channel:
            stub = pb2_grpc.HealthStub(channel)
            request = pb2.HealthCheckRequest(service=args.service)
            if args.command == "check":
                try:
                    reply = stub.Check(request, timeout=5)
                    emit({"status": pb2.HealthCheckResponse.ServingStatus.Name(reply.status)})
                except grpc.RpcError as e:
                    emit({"code": e.code().name, "details": e.details()})
                return 0
            stream = stub.Watch(request, timeout=args.seconds)
            try:
                for reply in stream:
                    emit({"status": pb2.HealthCheckResponse.ServingStatus.Name(reply.status),
                          "t": time.time()})
                emit({"end": "OK", "t": time.time()})
            except grpc.RpcError as e:
                emit({"end": e.code().name, "details": e.details(), "t": time.time()})
            return 0
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""gRPC server reflection client on Python grpcio (a client svc did not write).

  reflection_client.py --port N [--version v1|v1alpha] --symbol SYMBOL
                       [--call /pkg.Service/Method --request JSON]

Over one ServerReflectionInfo stream it
  1. lists the services                         -> {"services": [...]}
  2. asks file_containing_symbol for SYMBOL, fetches any dependency the
     server did not send (file_by_filename), adds every FileDescriptorProto
     to a fresh descriptor_pool.DescriptorPool, dependencies first, and looks
     the symbol up                                -> {"symbol": ..., "files": [...],
                                                      "methods": {name: [input, output]}}
  3. asks for an unknown symbol                  -> {"not_found": {"code": 5, "message": ...}}
Then, with --call, it builds the request message from the pool with
message_factory (no generated code, no .proto) and calls the method through
a generic channel.unary_unary              -> {"call": ..., "response": {...}}

Prints one JSON object per line; exits non-zero on any failure. Stubs for the
reflection service itself are generated at start-up from GRPC_PROTO_DIR
(default /usr/share/grpc-proto) with protoc and grpc_python_plugin.
"""

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def load_stubs(version):
    proto_dir = os.environ.get("GRPC_PROTO_DIR", "/usr/share/grpc-proto")
    out = tempfile.mkdtemp(prefix="svc-reflection-stubs-")
    plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
    protos = ["grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"]
    subprocess.run(
        ["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}",
         f"--plugin=protoc-gen-grpc_python={plugin}", *protos],
        check=True, capture_output=True, timeout=60,
    )
    # The generated modules live under grpc/reflection/..., inside the grpc package.
    grpc.__path__.append(os.path.join(out, "grpc"))
    if version == "v1":
        from grpc.reflection.v1 import reflection_pb2, reflection_pb2_grpc  # noqa: E402
    else:
        from grpc.reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402
    return out, reflection_pb2, reflection_pb2_grpc


def emit(obj):
    print(json.dumps(obj), flush=True)


class Stream:
    """One ServerReflectionInfo stream: ask(), then read the answer."""

    def __init__(self, stub, pb2, host):
        self.pb2 = pb2
        self.host = host
        self.requests = queue.Queue()
        self.responses = stub.ServerReflectionInfo(iter(self.requests.get, None), timeout=20)

    def ask(self, **fields):
        request = self.pb2.ServerReflectionRequest(host=self.host, **fields)
        self.requests.put(request)
        response = next(self.responses)
        if response.original_request != request:
            raise AssertionError(f"original_request not echoed: {response.original_request}")
        if response.valid_host != self.host:
            raise AssertionError(f"valid_host {response.valid_host!r} != {self.host!r}")
        return response

    def close(self):
        self.requests.put(None)
        for _ in self.responses:
            pass


def protos_of(response):
    kind = response.WhichOneof("message_response")
    if kind == "error_response":
        e = response.error_response
        raise AssertionError(f"error_response {e.error_code}: {e.error_message}")
    if kind != "file_descriptor_response":
        raise AssertionError(f"unexpected response kind {kind}")
    out = []
    for raw in response.file_descriptor_response.file_descriptor_proto:
        proto = descriptor_pb2.FileDescriptorProto()
        proto.ParseFromString(raw)
        out.append(proto)
    return out


def build_pool(stream, symbol):
    """Fetches SYMBOL's file and its dependencies; returns (pool, file names in add order)."""
    files = {p.name: p for p in protos_of(stream.ask(file_containing_symbol=symbol))}
    pending = [d for p in files.values() for d in p.dependency]
    while pending:
        name = pending.pop()
        if name in files:
            continue
        for p in protos_of(stream.ask(file_by_filename=name)):
            files.setdefault(p.name, p)
            pending.extend(p.dependency)
    pool = descriptor_pool.DescriptorPool()
    added = []

    def add(name):
        if name in added:
            return
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])  # raises if the descriptor is malformed or a dependency is missing
        added.append(name)

    for name in files:
        add(name)
    return pool, added


def message_class(pool, full_name):
    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", choices=["v1", "v1alpha"], default="v1")
    parser.add_argument("--symbol", required=True)
    parser.add_argument("--call", help="/pkg.Service/Method to call through the pool")
    parser.add_argument("--request", default="{}", help="request message as JSON")
    args = parser.parse_args()

    out, pb2, pb2_grpc = load_stubs(args.version)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{args.port}") as channel:
            stream = Stream(pb2_grpc.ServerReflectionStub(channel), pb2, f"127.0.0.1:{args.port}")
            listed = stream.ask(list_services="")
            emit({"services": [s.name for s in listed.list_services_response.service]})

            pool, added = build_pool(stream, args.symbol)
            found = {"symbol": args.symbol, "files": added, "methods": {}}
            try:
                service = pool.FindServiceByName(args.symbol)
                for m in service.methods:
                    found["methods"][m.name] = [m.input_type.full_name, m.output_type.full_name]
            except KeyError:
                found["message"] = pool.FindMessageTypeByName(args.symbol).full_name
            emit(found)

            missing = stream.ask(file_containing_symbol="no.such.Symbol")
            if missing.WhichOneof("message_response") != "error_response":
                raise AssertionError("an unknown symbol did not get an error_response")
            emit({"not_found": {"code": missing.error_response.error_code,
                                "message": missing.error_response.error_message}})
            stream.close()

            if args.call:
                service_name, method_name = args.call.strip("/").split("/")
                if service_name != args.symbol:
                    other = Stream(pb2_grpc.ServerReflectionStub(channel), pb2, "")
                    pool, _ = build_pool(other, service_name)
                    other.close()
                method = pool.FindServiceByName(service_name).methods_by_name[method_name]
                request_class = message_class(pool, method.input_type.full_name)
                response_class = message_class(pool, method.output_type.full_name)
                request = json_format.Parse(args.request, request_class())
                call = channel.unary_unary(
                    f"/{service_name}/{method_name}",
                    request_serializer=request_class.SerializeToString,
                    response_deserializer=response_class.FromString,
                )
                response = call(request, timeout=10)
                emit({"call": args.call, "response": json_format.MessageToDict(response)})
    except grpc.RpcError as e:
        emit({"error": e.code().name, "details": e.details()})
        return 1
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
